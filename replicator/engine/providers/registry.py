"""Which packages the engine can deploy, and the provider instances of one deployment.

Two maps, as Pulumi's plugin host and provider registry keep them:

- `PLUGINS`: package name ("docker") -> `ProviderPlugin`, the factory of its
  providers. A resource of a package not listed fails at preview, naming the
  package, its type and the resource (the step generator reports it).
- `ProviderInstances`: provider reference (`urn::id`) -> the instance made from
  that provider resource's inputs. An ID names one instance: after a host change
  the old ID still means the old host, so deletes of the old objects go there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from replicator.engine import urn as urns
from replicator.engine.providers import docker
from replicator.engine.providers.base import ProviderError, ProviderPlugin, ResourceProvider
from replicator.engine.state import ResourceState

PLUGINS: dict[str, ProviderPlugin] = {docker.PLUGIN.package: docker.PLUGIN}


def register(plugin: ProviderPlugin) -> None:
    """Add (or replace) the plugin of a package."""
    PLUGINS[plugin.package] = plugin


def plugin_for(package: str) -> ProviderPlugin:
    try:
        return PLUGINS[package]
    except KeyError:
        raise ProviderError(
            f"package {package} is not supported by the embedded engine "
            f"(supported: {', '.join(sorted(PLUGINS))}); use --engine pulumi") from None


def default_provider_inputs(config: dict[str, str], package: str) -> dict[str, Any]:
    """`docker:host` -> {"host": ...}; JSON values (objects, lists) decoded."""
    inputs: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace != package or name == "version":
            continue
        try:
            decoded = json.loads(value)
            inputs[name] = decoded if isinstance(decoded, (dict, list)) else value
        except ValueError:
            inputs[name] = value
    return inputs


class ProviderInstances:
    """The providers of one deployment by reference; made on first use, never connected here."""

    def __init__(self, *, program_dir: Path | None,
                 records_of: Callable[[str], Iterable[ResourceState]]) -> None:
        self._program_dir = program_dir
        # Every record a provider URN has in this run (live, old, replaced): the
        # reference's ID picks the one whose inputs make the instance.
        self._records_of = records_of
        self._instances: dict[str, ResourceProvider] = {}
        self._lock = threading.Lock()

    def make(self, package: str, inputs: dict[str, Any]) -> ResourceProvider:
        return plugin_for(package).factory(inputs, self._program_dir)

    def add(self, ref: str, provider: ResourceProvider) -> None:
        with self._lock:
            self._instances[ref] = provider

    def get(self, ref: str) -> ResourceProvider:
        """The instance a provider reference (`urn::id`) names."""
        with self._lock:
            if ref in self._instances:
                return self._instances[ref]
            purn, pid = urns.parse_provider_ref(ref)
            record = next((r for r in self._records_of(purn) if r.id == pid), None)
            provider = self.make(urns.package_of(urns.type_of(purn)),
                                 dict(record.inputs) if record else {})
            self._instances[ref] = provider
            return provider
