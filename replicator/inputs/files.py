"""Reading an input file as text, refusing what no parser should see.

The size is checked with `stat` before a byte is read, so a 50 MB file is
refused in milliseconds with bounded memory. Binary content, invalid UTF-8
and control characters are reported at a line and column (not a byte offset),
which is where an editor takes the user.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from replicator.errors import InputError

# The largest input file read. The paris2024 topology, all 43 venues, is 28 KB;
# the slowest refusal is a file of that size, valid YAML, every entry wrong,
# whose located parse took 1.8 s at 256 KiB on the 2-core machines: at 128 KiB
# it stays under the 2 s target (bench/bad_input_bench.py prints it).
MAX_FILE_BYTES = 128 * 1024

# Characters YAML forbids in a stream (tab, LF, CR, NEL are allowed) and that a
# terminal would interpret: C0 and C1 controls, DEL, the non-characters U+FFFE/F.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


def line_col(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of character `index` in `text`."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def read_text(
    path: Path,
    *,
    error: type[InputError] = InputError,
    max_bytes: int = MAX_FILE_BYTES,
    what: str = "input file",
) -> str:
    """The text of `path`, or an `error` naming the file, the line and a fix."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(
                f"the {what} is {size:,} bytes, over the limit of {max_bytes:,}",
                file=path,
                fix="check that this is the right file; split or trim it below the limit",
            )
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)  # a file growing meanwhile is still bounded
    except OSError as exc:
        raise error(
            f"cannot read the {what}: {exc.strerror or exc}",
            file=path,
            fix="check that the file exists and is readable",
        ) from None
    if len(data) > max_bytes:
        raise error(f"the {what} grew over the limit of {max_bytes:,} bytes while read",
                    file=path, fix="retry when nothing writes to it")
    return _decode(data, path, error, what)


def _decode(data: bytes, path: Path, error: type[InputError], what: str) -> str:
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise error(
            f"the {what} is binary, not text (a NUL byte at line {line})",
            file=path,
            line=line,
            fix="give a YAML text file; check that this is the right file",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, "
            f"column {column})",
            file=path,
            line=line,
            fix="save the file as UTF-8",
        ) from None
    bad = _CONTROL.search(text)
    if bad is not None:
        line, column = line_col(text, bad.start())
        raise error(
            f"control character U+{ord(bad.group()):04X} at line {line}, column {column}",
            file=path,
            line=line,
            fix="remove it; in a double-quoted string write it as an escape (e.g. \\t)",
        )
    return text


def parse_json(text: str, source: Path | str, *, what: str = "JSON file") -> Any:
    """`text` read as JSON, or an InputError naming `source`, the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the {what} is not valid JSON: {exc.msg} (column {exc.colno})",
                         file=source, line=exc.lineno,
                         fix=f"give the {what} as written, unedited") from None
    except RecursionError:
        raise InputError(f"the {what} nests too deeply", file=source, line=1,
                         fix=f"give the {what} as written, unedited") from None
