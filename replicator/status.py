"""Live status of the replica: the declared containers, where they run and what Docker says.

Each container's engine is its stack's `dockerHost` (or, for a site spanning
several engines, the one `place` picks). An engine that does not answer does
not stop the report: its containers show as `engine down` with the host named.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import docker
from docker import errors as docker_errors

from replicator import naming
from replicator.docker_client import docker_client
from replicator.errors import EngineUnavailableError
from replicator.hosts.model import engine_label, engine_names
from replicator.stacks import CheckedStack

ENGINE_DOWN = "engine down"


@dataclass
class ContainerStatus:
    site: str
    suite: str
    service: str
    tier: str
    container: str
    state: str  # running | exited | ... | missing | engine down
    networks: list[str]
    stack: str
    engine: str  # the Docker host URL
    host: str  # the simulated host, `local`, or the engine address's host part

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class EngineProblem:
    engine: str
    host: str
    error: str


def _client(host: str) -> docker.DockerClient | str:
    """A client, or the reason the engine does not answer."""
    try:
        client = docker_client(host)
        client.ping()
        return client
    except EngineUnavailableError as exc:  # nothing answers, or not in time
        return exc.message.splitlines()[0][:200]
    except (docker_errors.DockerException, OSError) as exc:
        return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _live(engine: str, stack: str, clients: dict[str, Any]) -> dict[str, Any] | None:
    if engine not in clients:
        clients[engine] = _client(engine)
    client = clients[engine]
    if isinstance(client, str):
        return None
    return {c.name: c for c in client.containers.list(all=True,
                                                      filters={"label": f"replicator.stack={stack}"})}


def collect_status(project_root: Path, targets: list[CheckedStack]
                   ) -> tuple[list[ContainerStatus], list[EngineProblem]]:
    rows: list[ContainerStatus] = []
    names = engine_names(project_root)
    clients: dict[str, Any] = {}
    for target in targets:
        cfg, topo = target.settings, target.topology
        engines = cfg.engines
        live: dict[str, tuple[str, Any]] = {}
        for engine in engines:
            found = _live(engine, target.name, clients)
            live.update({n: (engine, c) for n, c in (found or {}).items()})
        for d in topo.deployed_services(site=cfg.site, venues=cfg.venues):
            for tier in d.tiers:
                for i in range(1, tier.instances + 1):
                    name = naming.container_name(cfg.edition, cfg.site, d.name, tier.kind, i)
                    engine = cfg.engine_of(name)
                    _, c = live.pop(name, (engine, None))
                    down = isinstance(clients.get(engine), str)
                    nets = sorted((c.attrs.get("NetworkSettings") or {}).get("Networks") or {}) if c else []
                    state = ENGINE_DOWN if down else (c.status if c else "missing")
                    rows.append(ContainerStatus(cfg.site, d.suite, d.name, tier.kind, name, state,
                                                nets, target.name, engine,
                                                engine_label(engine, names)))
        for name, (engine, c) in sorted(live.items()):  # carries our labels but is not declared
            labels = c.labels
            rows.append(ContainerStatus(cfg.site, labels.get("replicator.suite", "?"),
                                        labels.get("replicator.service", "?"),
                                        labels.get("replicator.tier", "?"), name,
                                        f"undeclared ({c.status})", [], target.name, engine,
                                        engine_label(engine, names)))
    problems = [EngineProblem(e, engine_label(e, names), c) for e, c in clients.items()
                if isinstance(c, str)]
    return rows, problems
