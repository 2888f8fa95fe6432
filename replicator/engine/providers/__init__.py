"""Resource providers of the embedded engine: one module per Pulumi package."""

from replicator.engine.providers.base import ProviderError, ResourceProvider
from replicator.engine.providers.docker import DockerProvider

__all__ = ["DockerProvider", "ProviderError", "ResourceProvider"]
