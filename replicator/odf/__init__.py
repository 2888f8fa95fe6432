"""ODF toolkit for the host side (CLI, benchmarks, tests): build, validate and
identify Olympic Data Feed messages. See `replicator.odf.message`."""

from replicator.odf.message import (
    DISCIPLINES,
    DOCUMENT_TYPES,
    HEADER_ORDER,
    IDENTITY,
    MANDATORY,
    RESULT_STATUSES,
    RSC_LENGTH,
    SENT_AT_HEADER,
    VENUES,
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
    "RESULT_STATUSES", "RSC_LENGTH", "SENT_AT_HEADER", "VENUES", "Header", "OdfError",
    "VenueFeed", "build", "decode_body", "gzip", "now_attrs", "parse", "parse_rsc",
    "result_message", "rsc", "set_header", "validate",
]
