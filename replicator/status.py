"""Live status of the replica: the declared containers and what Docker says of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import docker
from docker import errors as docker_errors

from replicator.docker_client import docker_client
from replicator.errors import EngineUnavailableError
from replicator.stacks import CheckedStack


@dataclass
class ContainerStatus:
    site: str
    suite: str
    service: str
    tier: str
    container: str
    state: str  # running | exited | ... | missing
    networks: list[str]
    stack: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _client(host: str) -> docker.DockerClient:
    try:
        client = docker_client(host)
        client.ping()
        return client
    except docker_errors.DockerException as exc:
        raise EngineUnavailableError(f"cannot reach the Docker engine at {host}: {exc}",
                                     fix="start it with `replicator engine start`") from exc


def collect_status(project_root: Path, targets: list[CheckedStack]) -> list[ContainerStatus]:
    rows: list[ContainerStatus] = []
    for target in targets:
        cfg, topo = target.settings, target.topology
        client = _client(cfg.docker_host)
        live = {c.name: c for c in client.containers.list(
            all=True, filters={"label": f"replicator.stack={target.name}"})}
        for d in topo.deployed_services(site=cfg.site, venues=cfg.venues):
            for tier in d.tiers:
                for i in range(1, tier.instances + 1):
                    name = f"{cfg.edition}-{cfg.site}-{d.name}-{tier.kind}-{i}"
                    c = live.pop(name, None)
                    nets = sorted((c.attrs.get("NetworkSettings") or {}).get("Networks") or {}) if c else []
                    rows.append(ContainerStatus(cfg.site, d.suite, d.name, tier.kind, name,
                                                c.status if c else "missing", nets, target.name))
        for name, c in sorted(live.items()):  # carries our labels but is not declared
            labels = c.labels
            rows.append(ContainerStatus(cfg.site, labels.get("replicator.suite", "?"),
                                        labels.get("replicator.service", "?"),
                                        labels.get("replicator.tier", "?"), name,
                                        f"undeclared ({c.status})", [], target.name))
    return rows
