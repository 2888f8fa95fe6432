"""Auto-naming: a resource declared without a name gets `<logical name>-<7 hex>`.

As Pulumi's bridged providers do (pulumi-docker among them): the generated
name is kept in the resource's inputs, so later runs reuse it from the old
inputs (stable across runs); a replacement checks again without the old
inputs and so gets a fresh name, which lets the new object be created before
the old one is deleted.
"""

from __future__ import annotations

import secrets
from typing import Any

from replicator.engine.providers.base import ResourceProvider

_MAX_LENGTH = 255


def unique_name(logical: str) -> str:
    suffix = secrets.token_hex(4)[:7]
    return f"{logical[: _MAX_LENGTH - len(suffix) - 1]}-{suffix}"


def autoname(provider: ResourceProvider, type_: str, logical: str, inputs: dict[str, Any],
             old_inputs: dict[str, Any] | None) -> dict[str, Any]:
    """`inputs` with the auto-named property filled in, if the type has one and it is unset."""
    prop = provider.autoname_property(type_)
    if prop is None or inputs.get(prop) not in (None, ""):
        return inputs
    previous = (old_inputs or {}).get(prop)
    return {**inputs, prop: previous if previous else unique_name(logical)}


def is_autonamed(provider: ResourceProvider, type_: str, program_inputs: dict[str, Any]) -> bool:
    """Did the engine choose the name (the program left it out)?"""
    prop = provider.autoname_property(type_)
    return prop is not None and program_inputs.get(prop) in (None, "")
