"""The contract between the engine and a resource provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from replicator.engine.diff import Schema


class ProviderError(Exception):
    """A backend operation failed; the message is shown to the user as is."""


@dataclass
class ReadResult:
    outputs: dict[str, Any]
    observed: dict[str, Any] = field(default_factory=dict)


class ResourceProvider(Protocol):
    package: str

    def check(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]: ...

    def schema(self, type_: str) -> Schema: ...

    def preview_outputs(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]: ...

    def create(self, type_: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]: ...

    def update(self, type_: str, id_: str, old: dict[str, Any], new: dict[str, Any],
               old_outputs: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, type_: str, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None: ...

    def read(self, type_: str, id_: str, inputs: dict[str, Any],
             outputs: dict[str, Any]) -> ReadResult | None: ...

    def drift(self, type_: str, observed: dict[str, Any], inputs: dict[str, Any]) -> str: ...

    def object_name(self, type_: str, inputs: dict[str, Any]) -> str: ...

    def remove_orphan(self, type_: str, name: str, stack: str) -> bool: ...
