"""The contract between the engine and a resource provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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

    # What the provider runs against, kept in the state (the report counts hosts from it).
    def engine_info(self) -> dict[str, Any]: ...

    # Types whose live object can change under the same inputs (an image rebuilt under its
    # tag): the engine reads them before deciding that nothing changed.
    def refreshes_on_diff(self, type_: str) -> bool: ...

    # Types an update puts back as declared after drift seen by refresh (a swarm
    # service scaled by hand): the engine updates them; any other drift replaces.
    def repairs_drift(self, type_: str) -> bool: ...

    # The property the engine fills with `<name>-<hex>` when the program leaves it out.
    def autoname_property(self, type_: str) -> str | None: ...


# (the provider's inputs, the program's directory) -> a provider instance
ProviderFactory = Callable[[dict[str, Any], Path | None], ResourceProvider]


@dataclass(frozen=True)
class ProviderPlugin:
    """A package the engine can deploy: what `pulumi plugin install` would bring.

    One module per package declares one of these (docker.py: `PLUGIN`), and
    `providers.registry` maps the package name to it, so a new resource family is
    one module and one line in the registry.
    """

    package: str
    factory: ProviderFactory
    # Inputs a provider takes when neither the program nor the config gives them
    # (docker: `host` from DOCKER_HOST), as the provider's CheckConfig would fill them.
    defaults: Callable[[], dict[str, Any]]
    # The inputs that name the backend: when one changes, the provider is another
    # instance and its resources are replaced (docker: `host`).
    identity: tuple[str, ...] = ()

    def same_instance(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        return all(old.get(key) == new.get(key) for key in self.identity)
