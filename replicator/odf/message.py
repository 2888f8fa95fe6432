"""ODF messages on the host: the very module the app containers run.

The single source of truth is ``apps/replicator_app/odf.py`` (standard library
only, so it also runs inside the containers); this shim puts ``apps/`` on the
import path and re-exports it, so ``replicator.odf.OdfError`` *is*
``replicator_app.odf.OdfError``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_APPS = Path(__file__).resolve().parents[2] / "apps"
if not (_APPS / "replicator_app" / "odf.py").is_file():  # pragma: no cover
    raise ImportError(f"the ODF module is not at {_APPS / 'replicator_app' / 'odf.py'}; "
                      "replicator.odf needs the project's apps/ directory")
if str(_APPS) not in sys.path:
    sys.path.append(str(_APPS))

from replicator_app.odf import (  # noqa: E402 (after apps/ joins sys.path)
    DISCIPLINES,
    DOCUMENT_TYPES,
    HEADER_ORDER,
    IDENTITY,
    MANDATORY,
    RESULT_STATUSES,
    RSC_LENGTH,
    SENT_AT_HEADER,
    VENUES,
    Unit,
    Header,
    OdfError,
    VenueFeed,
    build,
    decode_body,
    gzip,
    now_attrs,
    parse,
    parse_rsc,
    result_message,
    rsc,
    set_header,
    validate,
)

__all__ = [
    "DISCIPLINES", "DOCUMENT_TYPES", "HEADER_ORDER", "IDENTITY", "MANDATORY",
    "RESULT_STATUSES", "RSC_LENGTH", "SENT_AT_HEADER", "VENUES", "Header", "OdfError", "Unit",
    "VenueFeed", "build", "decode_body", "gzip", "now_attrs", "parse", "parse_rsc",
    "result_message", "rsc", "set_header", "validate",
]
