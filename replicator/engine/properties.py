"""Property values as they travel between the Pulumi SDK and the engine.

The SDK sends resource inputs as a protobuf `Struct`. Two markers ride inside
those values and must survive every step of the engine:

* an *unknown* value (preview only) is the string `UNKNOWN`;
* a *secret* value is the map `{SIG_KEY: SECRET_SIG, "value": v}`.

The engine keeps values in that wire form in memory so that what it answers
the SDK is exactly what the SDK understands; `reveal` strips the secret
wrappers when a provider needs the real value, and `mask` replaces secrets
for display.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
MASK = "[secret]"


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return _normalise_numbers(json_format.MessageToDict(struct))


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_to_plain_json(value))
    return struct


def _to_plain_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain_json(v) for v in value]
    return value


def _normalise_numbers(value: Any) -> Any:
    """Protobuf has only doubles: give integral numbers back their int type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_numbers(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def make_secret(value: Any) -> dict[str, Any]:
    if is_secret(value):
        return value
    return {SIG_KEY: SECRET_SIG, "value": value}


def is_unknown(value: Any) -> bool:
    return value == UNKNOWN


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def contains_secret(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_secret(v) for v in value)
    return False


def reveal(value: Any) -> Any:
    """The plain value a provider needs: secret wrappers removed, recursively."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def mask(value: Any) -> Any:
    """A value safe to print or log: every secret replaced by MASK."""
    if is_secret(value):
        return MASK
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def strip_resource_refs(value: Any) -> Any:
    """Resource references (when an SDK sends them) become their URN/ID string."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_SIG:
            return value.get("id") or value.get("urn")
        return {k: strip_resource_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_resource_refs(v) for v in value]
    return value


def mark_secret_paths(outputs: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Wrap the top-level outputs named by `additionalSecretOutputs` as secrets."""
    if not names:
        return outputs
    result = dict(outputs)
    for name in names:
        if name in result and not is_secret(result[name]):
            result[name] = make_secret(result[name])
    return result


def secretise_like(outputs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """An output that echoes a secret input stays secret (as Pulumi does)."""
    result = dict(outputs)
    for key, value in inputs.items():
        if key in result and contains_secret(value) and not contains_secret(result[key]):
            result[key] = make_secret(reveal(result[key]))
    return result
