"""What the running replica really uses: hosts, containers, CPU and memory.

- Physical hosts: the distinct Docker engines (``engineId``) recorded in the
  stacks' state (`StackState.engines`, one entry per docker provider).
- Containers: the ones really running, asked from each of those engines by the
  project's labels (``replicator.edition``, and ``replicator.stack`` for a
  single stack), like ``docker ps --filter label=...``.
- CPU and memory: one stats sample per container from the Docker engine stats
  API (``stream=False``), taken in parallel threads with a bounded pool. CPU %
  is computed from the cpu_stats/precpu_stats deltas as ``docker stats`` does;
  memory is the usage minus the page cache.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from replicator.errors import EngineUnavailableError, InputError, ReplicatorError
from replicator.stacks import CheckedStack

EDITION_LABEL = "replicator.edition"
STACK_LABEL = "replicator.stack"
SITE_LABEL = "replicator.site"
# A stats sample (`stream=False`) is Docker waiting about a second for a second
# reading: threads that wait, not work. All of a full-scale replica at once (80
# containers: 64 then 16) rather than in rounds of 16; measured on paris2024 at
# 3 venues (40 containers): the report took 9.7 s with 16 and 5.4 s with 64.
MAX_WORKERS = 64
DEFAULT_WORKERS = MAX_WORKERS


@dataclass
class EngineHost:
    """A Docker engine the replica runs on: one physical (or virtual) host."""

    engine_id: str
    name: str
    host: str
    cpus: int
    memory_bytes: int
    stacks: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ContainerSample:
    """One running container and its sampled usage (None when the sample failed)."""

    id: str
    name: str
    stack: str
    site: str
    engine_id: str
    cpu_percent: float | None = None  # 100 = one CPU busy
    memory_bytes: int | None = None  # usage minus page cache
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReplicaMeasurement:
    edition: str
    stacks: list[str]
    hosts: list[EngineHost]
    containers: list[ContainerSample]
    measured_at: str = ""
    seconds: float = 0.0
    workers: int = DEFAULT_WORKERS
    warnings: list[str] = field(default_factory=list)

    @property
    def sampled(self) -> list[ContainerSample]:
        return [c for c in self.containers if c.cpu_percent is not None]

    def to_json(self) -> dict[str, Any]:
        return {"edition": self.edition, "stacks": self.stacks,
                "hosts": [h.to_json() for h in self.hosts],
                "containers": [c.to_json() for c in self.containers],
                "measured_at": self.measured_at, "seconds": round(self.seconds, 3),
                "workers": self.workers, "warnings": list(self.warnings)}


# --------------------------------------------------------------------------- stats maths


def cpu_percent(stats: Mapping[str, Any]) -> float | None:
    """CPU % of one stats sample (100 = one CPU fully busy), as `docker stats` computes it.

    (container CPU time delta / host CPU time delta) x online CPUs x 100, the
    deltas taken between ``precpu_stats`` and ``cpu_stats``. None when the
    sample has no previous reading to compare with.
    """
    cpu = stats.get("cpu_stats") or {}
    pre = stats.get("precpu_stats") or {}
    try:
        total = cpu["cpu_usage"]["total_usage"]
        pre_total = pre["cpu_usage"]["total_usage"]
        system = cpu["system_cpu_usage"]
        pre_system = pre["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    cpu_delta = total - pre_total
    system_delta = system - pre_system
    if system_delta <= 0:
        return None
    online = cpu.get("online_cpus") or len(cpu["cpu_usage"].get("percpu_usage") or ()) or 1
    return max(0.0, cpu_delta / system_delta * online * 100.0)


def memory_without_cache(stats: Mapping[str, Any]) -> int | None:
    """Memory in use minus the page cache, in bytes.

    cgroup v1 reports the page cache as ``cache``; cgroup v2 has no ``cache``
    and reports it as ``file``.
    """
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if usage is None:
        return None
    detail = memory.get("stats") or {}
    cache = detail.get("cache", detail.get("file", 0)) or 0
    return int(max(0, usage - cache))


# --------------------------------------------------------------------------- engines


def engines_from_state(states: Mapping[str, Any]) -> tuple[list[EngineHost], list[str]]:
    """The distinct engines recorded in each stack's state, and the stacks without any.

    `states` maps a stack name to its `StackState` (anything with `.engines`).
    """
    hosts: dict[str, EngineHost] = {}
    undeployed: list[str] = []
    for stack, state in states.items():
        engines = getattr(state, "engines", None) or {}
        if not engines:
            undeployed.append(stack)
        for info in engines.values():
            engine_id = str(info.get("engineId") or "")
            if not engine_id:
                continue
            host = hosts.setdefault(engine_id, EngineHost(
                engine_id=engine_id, name=str(info.get("name") or ""),
                host=str(info.get("host") or ""), cpus=int(info.get("cpus") or 0),
                memory_bytes=int(info.get("memoryBytes") or 0)))
            if stack not in host.stacks:
                host.stacks.append(stack)
    return list(hosts.values()), undeployed


def load_states(project_root: Path, workdir: Path, stacks: Iterable[str]) -> dict[str, Any]:
    """Each stack's state; a stack never deployed has none (and nothing is created for it)."""
    stacks = list(stacks)
    # StackRunner would create the secrets key of a project never deployed: skip it then.
    from replicator.engine.backend import Backend

    backend = Backend.for_workdir(workdir)
    project = _project_name(project_root)
    if not any(backend.state_path(project, s).exists() or backend.legacy_path(s).exists()  # type: ignore[union-attr]
               for s in stacks):
        return {stack: None for stack in stacks}
    from replicator.engine import StackRunner

    runner = StackRunner(project_root, workdir)
    return {stack: runner.load_state(stack) for stack in stacks}


def _project_name(project_root: Path) -> str:
    from replicator.inputs.project import read_project_file

    return read_project_file(project_root).name


# --------------------------------------------------------------------------- sampling

ClientFactory = Callable[[str, int], Any]


def docker_client(host: str, pool: int) -> Any:
    from docker import errors as docker_errors

    from replicator.docker_client import docker_client as bounded_client

    try:
        client = bounded_client(host, max_pool_size=max(pool, 1))
        client.ping()
        return client
    except docker_errors.DockerException as exc:
        raise EngineUnavailableError(
            f"cannot reach the Docker engine at {host}: {exc}",
            fix="start it with `replicator engine start`; the report measures the running replica",
        ) from exc


def sample_stats(client: Any, containers: list[ContainerSample], workers: int) -> None:
    """Fill each container's cpu_percent and memory_bytes, `workers` samples at a time."""
    if not containers:
        return

    def one(sample: ContainerSample) -> None:
        try:
            stats = client.api.stats(sample.id, stream=False)
        except Exception as exc:  # noqa: BLE001 - a container may stop while sampled
            sample.error = f"no stats: {exc}"
            return
        sample.cpu_percent = cpu_percent(stats)
        sample.memory_bytes = memory_without_cache(stats)
        if sample.cpu_percent is None:
            sample.error = "no CPU reading (no previous sample to compare with)"

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(containers))),
                            thread_name_prefix="replicator-stats") as pool:
        list(pool.map(one, containers))


def measure_replica(
    project_root: Path,
    workdir: Path,
    targets: list[CheckedStack],
    *,
    edition: str,
    whole_edition: bool,
    workers: int = DEFAULT_WORKERS,
    states: Mapping[str, Any] | None = None,
    client_factory: ClientFactory = docker_client,
) -> ReplicaMeasurement:
    """Measure the running replica of `targets` (all stacks of `edition`, or one stack).

    With `whole_edition`, every running container labelled with the edition
    counts (what ``docker ps --filter label=replicator.edition=<edition>``
    shows); otherwise only those of the target stacks.
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers {workers} is out of range",
                         fix=f"give a number of parallel stats samples from 1 to {MAX_WORKERS}")
    started = time.monotonic()
    stacks = [t.name for t in targets]
    if states is None:
        states = load_states(project_root, workdir, stacks)
    hosts, undeployed = engines_from_state(states)
    if not hosts:
        raise ReplicatorError(
            f"no Docker engine is recorded in the state of {', '.join(stacks)}: "
            "the replica has not been deployed",
            file=workdir / "pulumi-backend",
            fix=f"deploy it first: `replicator up --edition {edition} --yes` "
                f"(or `replicator up <stack>`)",
        )
    warnings = [f"stack {s} has no recorded Docker engine (not deployed): its containers "
                "are not counted unless they run on another stack's engine" for s in undeployed]
    labels = [f"{EDITION_LABEL}={edition}"]
    if not whole_edition:
        wanted = set(stacks)
    containers: list[ContainerSample] = []
    clients: list[tuple[Any, list[ContainerSample]]] = []
    queried: set[str] = set()
    for host in hosts:
        if host.host in queried:  # two recorded engines behind one address: ask it once
            continue
        queried.add(host.host)
        client = client_factory(host.host, workers)
        live_id = str((client.info() or {}).get("ID") or "")
        if live_id and live_id != host.engine_id:
            warnings.append(
                f"the engine at {host.host} is now {live_id}, not {host.engine_id} as the "
                "state records: the stacks may need `replicator refresh`")
        on_host: list[ContainerSample] = []
        for c in client.containers.list(filters={"label": labels}):
            c_labels = c.labels or {}
            stack = c_labels.get(STACK_LABEL, "")
            if not whole_edition and stack not in wanted:
                continue
            on_host.append(ContainerSample(id=c.id, name=c.name, stack=stack,
                                           site=c_labels.get(SITE_LABEL, ""),
                                           engine_id=host.engine_id))
        containers.extend(on_host)
        clients.append((client, on_host))
    for client, on_host in clients:
        sample_stats(client, on_host, workers)
    for c in containers:
        if c.error:
            warnings.append(f"{c.name}: {c.error}")
    containers.sort(key=lambda c: (c.stack, c.name))
    return ReplicaMeasurement(
        edition=edition, stacks=stacks, hosts=hosts, containers=containers,
        measured_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        seconds=time.monotonic() - started, workers=workers, warnings=warnings)
