"""Edition and stack names, checked against their pattern before they become paths.

An edition names `stacks/topology/<edition>.yaml` and a stack names
`stacks/Pulumi.<stack>.yaml`, container names and state files: `../x`, `/`,
console markup or control characters must never get that far.
"""

from __future__ import annotations

import re

from replicator.errors import InputError

EDITION_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
STACK_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$"  # <edition>-<site>
MAX_NAME = 63  # names end up in Docker object names, which stay short

_EDITION = re.compile(EDITION_PATTERN)
_STACK = re.compile(STACK_PATTERN)
# Any Pulumi project's stack names (`dev`, `prod.eu`): what Pulumi allows, minus a leading dot.
_PULUMI_STACK = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


_RULE = (f"use lowercase letters, digits and dashes, at most {MAX_NAME} characters, "
         "starting with a letter")


def _check(value: str, pattern: re.Pattern[str], where: str, kind: str, fix: str) -> str:
    if not pattern.fullmatch(value) or (pattern is not _PULUMI_STACK and len(value) > MAX_NAME):
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise InputError(
            f"{shown!r} is not a valid {kind} name",
            path=where,
            fix=fix,
        )
    return value


def check_edition_name(value: str, where: str = "--edition") -> str:
    """`value` if it is a valid edition name, else an InputError naming `where`."""
    return _check(value, _EDITION, where, "edition", f"{_RULE} (e.g. paris2024)")


def check_stack_name(value: str, where: str = "STACK") -> str:
    """`value` if it is a valid `<edition>-<site>` stack name, else an InputError."""
    return _check(value, _STACK, where, "stack",
                  f"name it <edition>-<site>: {_RULE} (e.g. paris2024-itl)")


def check_pulumi_stack_name(value: str, where: str = "STACK") -> str:
    """`value` if it is a stack name Pulumi allows (safe as a file name), else an InputError."""
    return _check(value, _PULUMI_STACK, where, "Pulumi stack",
                  "use letters, digits, `-`, `_` and `.`, at most 100 characters (e.g. dev)")
