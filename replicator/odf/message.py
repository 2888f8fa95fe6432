"""ODF messages on the host: the very module the app containers run.

The single source of truth is ``apps/replicator_app/odf.py`` (standard library
only, so it also runs inside the containers); ``replicator_app`` is a package of
this project (pyproject.toml), and this module re-exports it, so
``replicator.odf.OdfError`` *is* ``replicator_app.odf.OdfError``.
"""

from __future__ import annotations

from replicator_app.odf import (
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
