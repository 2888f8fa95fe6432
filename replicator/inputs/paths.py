"""Paths inside a YAML document, written the way error messages show them.

A path is the list of keys and indexes from the document root, e.g.
``["suites", 0, "services", 2, "site"]`` rendered as ``suites[0].services[2].site``.
`line_of` finds the 1-based line of a path in a document read by
`replicator.inputs.load_yaml` (or ruamel's round-trip loader: both carry `lc`);
when the last step is missing (a required key left out) it answers with the
line of the deepest part that exists, which is where the fix goes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

PathPart = str | int

# Keys made only of these characters are shown bare (`.key`); others are quoted
# (`["odd key"]`) so that `parse_path` can always read a path back.
_BARE_KEY = re.compile(r"^[A-Za-z0-9_:/-]+$")
_TOKEN = re.compile(r'\.?([A-Za-z0-9_:/-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def render_path(parts: Sequence[PathPart]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _BARE_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def parse_path(path: str) -> list[PathPart]:
    parts: list[PathPart] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None or match.end() == pos:
            break  # not a path we wrote; keep what was read so far
        key, index, quoted = match.groups()
        if key is not None:
            parts.append(key)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(json.loads(quoted))
        pos = match.end()
    return parts


def line_of(document: Any, path: str | Sequence[PathPart]) -> int | None:
    """The 1-based line of `path` in a `document` whose collections carry `lc`, or None."""
    parts = parse_path(path) if isinstance(path, str) else list(path)
    node = document
    line = _own_line(node)
    for part in parts:
        lc = getattr(node, "lc", None)  # ruamel's line/column record, absent in memory
        if lc is not None and isinstance(node, Mapping) and part in node:
            position = lc.key(part)  # string or integer keys
        elif lc is not None and isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            position = lc.item(part)
        else:
            break
        node = node[part]
        if position is None:  # a node added in memory (e.g. by `replicator config set`)
            break
        line = position[0] + 1
    return line


def _own_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None
