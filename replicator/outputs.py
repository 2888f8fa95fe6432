"""The stack outputs (what infra/__main__.py exports), as one typed model.

The program exports plain values (Pulumi outputs are JSON); its readers (the
inventory, the ODF helpers, the campaign driver) read them through
`StackOutputs.read`, so a missing or malformed key is one clear error naming
the stack and the key instead of a `KeyError` deep in a consumer.
`tests/unit/infra` runs the program under Pulumi's mocks and validates its
exports against this model: the program and its readers share the contract.

Keys keep the program's camelCase names (aliases); unknown keys are ignored,
so the outputs of a newer program still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from replicator.errors import ReplicatorError
from replicator.inputs.docker_host import DEFAULT_DOCKER_HOST


class _Outputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class TierOutputs(_Outputs):
    ports: list[int] = Field(default_factory=list)
    containers: list[str]


class ServiceOutputs(_Outputs):
    suite: str
    service: str  # the model's service (ovr); the key is the deployed copy (ovr-aqc)
    version: str
    venue: str | None = None
    tiers: dict[str, TierOutputs]


class ContainerOutputs(_Outputs):
    id: str
    service: str
    # Its engine (a site spread over engines); absent from outputs of older programs.
    docker_host: str | None = Field(default=None, alias="dockerHost")
    networks: list[str] = Field(default_factory=list)


class NetworkOutputs(_Outputs):
    name: str
    id: str
    subnet: str | None = None


class CircuitOutputs(_Outputs):
    name: str
    id: str
    subnet: str
    services: list[str]
    driver: str = "bridge"


class LinkOutputs(_Outputs):
    name: str
    source: str
    source_tier: str = Field(alias="sourceTier")
    target: str
    target_tier: str = Field(alias="targetTier")
    port: int
    protocol: str
    cross_site: bool = Field(alias="crossSite")
    network: str


class StackOutputs(_Outputs):
    edition: str
    site: str
    stack: str
    docker_host: str = Field(default=DEFAULT_DOCKER_HOST, alias="dockerHost")
    docker_hosts: list[str] = Field(default_factory=list, alias="dockerHosts")
    networks: dict[str, NetworkOutputs] = Field(default_factory=dict)
    services: dict[str, ServiceOutputs]
    containers: dict[str, ContainerOutputs]
    endpoints: dict[str, str] = Field(default_factory=dict)
    links: list[LinkOutputs] = Field(default_factory=list)
    wan_networks: dict[str, CircuitOutputs] = Field(default_factory=dict, alias="wanNetworks")

    @classmethod
    def read(cls, stack: str, raw: Mapping[str, Any] | None) -> StackOutputs:
        """A stack's outputs (secrets already revealed or masked by the caller)."""
        if not raw or not raw.get("containers") or not raw.get("services"):
            raise ReplicatorError(
                f"stack {stack} has no containers in its outputs: it has not been deployed",
                fix=f"run `replicator up {stack}` first")
        try:
            return cls.model_validate(dict(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise ReplicatorError(
                f"stack {stack}: output {key}: {first['msg']}",
                fix=f"run `replicator up {stack}` (its outputs come from another version of "
                    "the program)") from None

    def engine_of(self, container: str) -> str:
        """The engine `container` runs on: its own (a spread site), else the stack's."""
        own = self.containers.get(container)
        return (own.docker_host if own and own.docker_host else None) or self.docker_host

    @property
    def engines(self) -> list[str]:
        """Every engine of the stack, dockerHost first."""
        return self.docker_hosts or [self.docker_host]
