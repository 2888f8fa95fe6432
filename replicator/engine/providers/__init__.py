"""Resource providers of the embedded engine: one module per Pulumi package.

`registry.PLUGINS` maps a package name to its `ProviderPlugin` (docker.py: `PLUGIN`).
"""

from replicator.engine.providers.base import ProviderError, ProviderPlugin, ResourceProvider
from replicator.engine.providers.docker import DockerProvider

__all__ = ["DockerProvider", "ProviderError", "ProviderPlugin", "ResourceProvider"]
