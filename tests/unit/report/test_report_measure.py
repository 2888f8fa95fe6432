"""Measuring the replica: stats maths, hosts from the state, sampling in a bounded pool."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from replicator.errors import ExitCode, InputError, ReplicatorError
from replicator.report.measure import (
    cpu_percent,
    engines_from_state,
    measure_replica,
    memory_without_cache,
)

MIB = 2**20


def stats(total: int, pre_total: int, system: int, pre_system: int, online: int | None = 2,
          usage: int = 100 * MIB, memory: dict | None = None) -> dict[str, Any]:
    cpu: dict[str, Any] = {"cpu_usage": {"total_usage": total, "percpu_usage": [0] * 4},
                           "system_cpu_usage": system}
    if online is not None:
        cpu["online_cpus"] = online
    return {"cpu_stats": cpu,
            "precpu_stats": {"cpu_usage": {"total_usage": pre_total},
                             "system_cpu_usage": pre_system},
            "memory_stats": {"usage": usage, "stats": memory if memory is not None else
                             {"cache": 20 * MIB}}}


# --------------------------------------------------------------------------- maths


def test_cpu_percent_by_hand() -> None:
    # The container used 0.1 s of CPU while the host's 2 CPUs ran 2 s: 0.1 / 2 x 2 x 100 = 10 %.
    assert cpu_percent(stats(300_000_000, 200_000_000, 12_000_000_000, 10_000_000_000)) == 10.0
    # No online_cpus: the length of percpu_usage (4): 0.1 / 2 x 4 x 100 = 20 %.
    assert cpu_percent(stats(300_000_000, 200_000_000, 12_000_000_000, 10_000_000_000,
                             online=None)) == 20.0


def test_cpu_percent_without_a_previous_sample() -> None:
    s = stats(300, 200, 1000, 1000)
    assert cpu_percent(s) is None  # no system time passed
    del s["precpu_stats"]["system_cpu_usage"]
    assert cpu_percent(s) is None
    assert cpu_percent({}) is None


def test_memory_minus_cache() -> None:
    assert memory_without_cache(stats(0, 0, 0, 0)) == 80 * MIB  # cgroup v1: usage - cache
    v2 = stats(0, 0, 0, 0, memory={"file": 30 * MIB, "anon": 70 * MIB})
    assert memory_without_cache(v2) == 70 * MIB  # cgroup v2: usage - file
    assert memory_without_cache({"memory_stats": {}}) is None


# --------------------------------------------------------------------------- hosts


def state(*engines: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(engines={f"urn:provider:{i}": e for i, e in enumerate(engines)})


ENGINE_A = {"engineId": "AAAA", "name": "host-a", "host": "unix:///a.sock", "cpus": 4,
            "memoryBytes": 8 * 2**30}
ENGINE_B = {"engineId": "BBBB", "name": "host-b", "host": "tcp://b:2375", "cpus": 2,
            "memoryBytes": 4 * 2**30}


def test_hosts_are_the_distinct_engines_of_the_state() -> None:
    hosts, undeployed = engines_from_state({
        "e-ctoc": state(ENGINE_A), "e-itl": state(ENGINE_A), "e-toc": state(ENGINE_B),
        "e-x": state()})
    assert [(h.engine_id, h.cpus, h.stacks) for h in hosts] == [
        ("AAAA", 4, ["e-ctoc", "e-itl"]), ("BBBB", 2, ["e-toc"])]
    assert undeployed == ["e-x"]


# --------------------------------------------------------------------------- sampling


@dataclass
class FakeContainer:
    id: str
    name: str
    labels: dict[str, str]


@dataclass
class FakeEngine:
    """A Docker engine: `containers.list(filters=...)`, `api.stats(id, stream=False)`."""

    engine_id: str
    running: list[FakeContainer]
    delay: float = 0.05
    fail: set[str] = field(default_factory=set)
    calls: list[dict[str, Any]] = field(default_factory=list)
    active: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.containers = SimpleNamespace(list=self._list)
        self.api = SimpleNamespace(stats=self._stats)

    def info(self) -> dict[str, Any]:
        return {"ID": self.engine_id}

    def _list(self, filters: dict[str, Any]) -> list[FakeContainer]:
        self.calls.append(filters)
        wanted = dict(item.split("=", 1) for item in filters["label"])
        return [c for c in self.running if all(c.labels.get(k) == v for k, v in wanted.items())]

    def _stats(self, container_id: str, stream: bool = True) -> dict[str, Any]:
        assert stream is False, "one sample, not a stream"
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.delay)
            if container_id in self.fail:
                raise RuntimeError("404 Client Error: No such container")
            n = int(container_id.rsplit("-", 1)[1])
            # n % of one CPU: delta n x 10 ms over 2 s of system time on 2 CPUs.
            return stats(200_000_000 + n * 10_000_000, 200_000_000, 12_000_000_000,
                         10_000_000_000, usage=(20 + n) * MIB)
        finally:
            with self.lock:
                self.active -= 1


def containers(edition: str, stack: str, count: int, start: int = 0) -> list[FakeContainer]:
    return [FakeContainer(f"id-{i}", f"{stack}-c{i}",
                          {"replicator.edition": edition, "replicator.stack": stack,
                           "replicator.site": stack.rsplit("-", 1)[1]})
            for i in range(start, start + count)]


def target(name: str) -> Any:
    return SimpleNamespace(name=name)


def run(engine: FakeEngine, states: dict[str, Any], **kwargs: Any) -> tuple[Any, list]:
    targets = [target(s) for s in states]
    factory_calls: list[tuple[str, int]] = []

    def factory(host: str, pool: int) -> FakeEngine:
        factory_calls.append((host, pool))
        return engine

    result = measure_replica(Path("/nowhere"), Path("/nowhere/.replicator"), targets,
                             states=states, client_factory=factory, **kwargs)
    return result, factory_calls


def test_counts_running_containers_and_samples_them_in_a_bounded_pool() -> None:
    running = (containers("ed", "ed-itl", 10) + containers("ed", "ed-toc", 6, start=10)
               + containers("other", "other-itl", 3, start=16))
    engine = FakeEngine("AAAA", running)
    states = {"ed-ctoc": state(ENGINE_A), "ed-itl": state(ENGINE_A), "ed-toc": state(ENGINE_A)}
    m, factory_calls = run(engine, states, edition="ed", whole_edition=True, workers=4)
    assert factory_calls == [("unix:///a.sock", 4)]  # one client for the one engine
    assert engine.calls == [{"label": ["replicator.edition=ed"]}]
    assert len(m.hosts) == 1 and m.hosts[0].stacks == ["ed-ctoc", "ed-itl", "ed-toc"]
    assert len(m.containers) == 16  # not the other edition's 3
    assert 1 < engine.peak <= 4  # in parallel, never more than --workers at once
    by_id = {c.id: c for c in m.containers}
    assert by_id["id-7"].cpu_percent == pytest.approx(7.0)
    assert by_id["id-7"].memory_bytes == (20 + 7 - 20) * MIB  # usage - 20 MiB cache
    assert by_id["id-7"].engine_id == "AAAA" and by_id["id-7"].site == "itl"
    assert m.warnings == []


def test_one_stack_counts_only_its_containers() -> None:
    running = containers("ed", "ed-itl", 3) + containers("ed", "ed-toc", 2, start=3)
    engine = FakeEngine("AAAA", running)
    m, _ = run(engine, {"ed-toc": state(ENGINE_A)}, edition="ed", whole_edition=False)
    assert sorted(c.name for c in m.containers) == ["ed-toc-c3", "ed-toc-c4"]


def test_a_container_that_stops_while_sampled_is_reported() -> None:
    engine = FakeEngine("AAAA", containers("ed", "ed-itl", 3), fail={"id-1"})
    m, _ = run(engine, {"ed-itl": state(ENGINE_A)}, edition="ed", whole_edition=True)
    failed = next(c for c in m.containers if c.id == "id-1")
    assert failed.cpu_percent is None and "No such container" in failed.error
    assert len(m.sampled) == 2
    assert any("ed-itl-c1" in w for w in m.warnings)


def test_engine_replaced_since_deploy_is_a_warning() -> None:
    engine = FakeEngine("NEWID", containers("ed", "ed-itl", 1))
    m, _ = run(engine, {"ed-itl": state(ENGINE_A)}, edition="ed", whole_edition=True)
    assert any("is now NEWID, not AAAA" in w for w in m.warnings)


def test_not_deployed_is_a_clear_error() -> None:
    engine = FakeEngine("AAAA", [])
    with pytest.raises(ReplicatorError) as err:
        run(engine, {"ed-itl": state(), "ed-toc": state()}, edition="ed", whole_edition=True)
    assert err.value.exit_code == ExitCode.FAILED
    assert "has not been deployed" in err.value.message
    assert "replicator up --edition ed" in (err.value.fix or "")


def test_partly_deployed_edition_warns() -> None:
    engine = FakeEngine("AAAA", containers("ed", "ed-itl", 1))
    m, _ = run(engine, {"ed-itl": state(ENGINE_A), "ed-toc": state()}, edition="ed",
               whole_edition=True)
    assert any("ed-toc has no recorded Docker engine" in w for w in m.warnings)


def test_workers_out_of_range() -> None:
    with pytest.raises(InputError) as err:
        run(FakeEngine("AAAA", []), {"ed-itl": state(ENGINE_A)}, edition="ed",
            whole_edition=True, workers=0)
    assert "--workers" in err.value.message
