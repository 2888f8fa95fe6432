"""An in-memory stand-in for `DockerProvider`, and goals to feed a `Deployment`.

The fake keeps "objects" in a `Backend` shared by every provider instance (one
per Docker host), and records every call that would touch an engine, so tests
can assert on what was done, and in which order, without Docker.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicator.engine import urn as urns
from replicator.engine.deployment import Deployment, Goal, Mode, RegisterResult
from replicator.engine.diff import Schema
from replicator.engine.events import RecordingSink
from replicator.engine.properties import UNKNOWN
from replicator.engine.providers.base import ProviderError, ReadResult
from replicator.engine.secrets import SecretsManager
from replicator.engine.state import StackState, StateStore, _now

NETWORK = "docker:index/network:Network"
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
PROVIDER = "pulumi:providers:docker"
STACK = "s1"
PROJECT = "replicator"
HOST = "unix:///fake/docker.sock"
ROOT_URN = urns.make_urn(STACK, PROJECT, urns.STACK_TYPE, f"{PROJECT}-{STACK}", None)

_SCHEMAS = {
    NETWORK: Schema(),
    VOLUME: Schema(),
    CONTAINER: Schema(updatable=frozenset({"restart", "memory"})),
}


@dataclass
class Call:
    method: str
    type: str
    name: str
    host: str
    id: str = ""


@dataclass
class FakeObject:
    type: str
    name: str
    host: str
    inputs: dict[str, Any]
    running: bool = True


@dataclass
class Backend:
    """What exists on the fake Docker engines, and every call made to them."""

    calls: list[Call] = field(default_factory=list)
    objects: dict[str, FakeObject] = field(default_factory=dict)
    fail_create: set[str] = field(default_factory=set)
    hosts: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def ops(self, *methods: str) -> list[tuple[str, str]]:
        """(method, object name) of the calls, optionally of some methods only."""
        return [(c.method, c.name) for c in self.calls if not methods or c.method in methods]

    def names(self, type_: str | None = None) -> set[str]:
        return {o.name for o in self.objects.values() if type_ is None or o.type == type_}

    def by_name(self, name: str) -> FakeObject:
        [obj] = [o for o in self.objects.values() if o.name == name]
        return obj

    def new_id(self, name: str) -> str:
        with self._lock:
            return f"{name}#{next(self._ids)}"


class FakeProvider:
    """Same methods as `DockerProvider`; objects live in a `Backend`."""

    package = "docker"

    def __init__(self, backend: Backend, host: str) -> None:
        self.backend = backend
        self.host = host
        backend.hosts.append(host)

    # pure methods: not recorded
    def schema(self, type_: str) -> Schema:
        try:
            return _SCHEMAS[type_]
        except KeyError:
            raise ProviderError(f"resource type {type_} is not supported") from None

    def check(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.schema(type_)
        checked = dict(inputs)
        if type_ == CONTAINER:
            if checked.get("privileged"):
                raise ProviderError(f"container {checked.get('name')} asks to be privileged")
            checked.setdefault("mustRun", True)
        return checked

    def drift(self, type_: str, observed: dict[str, Any], inputs: dict[str, Any]) -> str:
        if type_ == CONTAINER and inputs.get("mustRun", True) and observed.get("running") is False:
            return f"container is not running (status {observed.get('status')})"
        return ""

    def autoname_property(self, type_: str) -> str | None:
        return "name" if type_ in (CONTAINER, NETWORK) else None

    def object_name(self, type_: str, inputs: dict[str, Any]) -> str:
        return str(inputs.get("name", ""))

    def refreshes_on_diff(self, type_: str) -> bool:
        return False

    def repairs_drift(self, type_: str) -> bool:
        return False

    def preview_outputs(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**inputs, "id": UNKNOWN, "computed": UNKNOWN}

    # calls that reach the engine: recorded
    def engine_info(self) -> dict[str, Any]:
        self.backend.record(Call("engine_info", "", "", self.host))
        return {"host": self.host, "engineId": "fake"}

    def create(self, type_: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = inputs["name"]
        self.backend.record(Call("create", type_, name, self.host))
        assert "4dabf18193072939515e22adb298388d" not in repr(inputs), "secrets reach providers revealed"
        if name in self.backend.fail_create:
            raise ProviderError(f"Docker: cannot create {name}: boom")
        if any(o.name == name and o.host == self.host and o.type == type_
               for o in self.backend.objects.values()):
            raise ProviderError(f"Docker: Conflict. The name {name} is already in use")
        rid = self.backend.new_id(name)
        self.backend.objects[rid] = FakeObject(type_, name, self.host, dict(inputs))
        return rid, {**inputs, "id": rid, "computed": f"computed-{name}"}

    def update(self, type_: str, id_: str, old: dict[str, Any], new: dict[str, Any],
               old_outputs: dict[str, Any]) -> dict[str, Any]:
        self.backend.record(Call("update", type_, new.get("name", ""), self.host, id_))
        self.backend.objects[id_].inputs = dict(new)
        return {**old_outputs, **new}

    def delete(self, type_: str, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        self.backend.record(Call("delete", type_, inputs.get("name", ""), self.host, id_))
        obj = self.backend.objects.get(id_)
        if obj is not None and obj.host == self.host:
            del self.backend.objects[id_]

    def read(self, type_: str, id_: str, inputs: dict[str, Any],
             outputs: dict[str, Any]) -> ReadResult | None:
        self.backend.record(Call("read", type_, inputs.get("name", ""), self.host, id_))
        obj = self.backend.objects.get(id_)
        if obj is None:
            return None
        observed = {}
        if type_ == CONTAINER:
            observed = {"running": obj.running, "status": "running" if obj.running else "exited"}
        return ReadResult(dict(outputs), observed)

    def remove_orphan(self, type_: str, name: str, stack: str) -> bool:
        self.backend.record(Call("remove_orphan", type_, name, self.host))
        for rid, obj in list(self.backend.objects.items()):
            if obj.name == name and obj.type == type_:
                del self.backend.objects[rid]
        return True


# ---------------------------------------------------------------------------- goals


def urn_of(type_: str, name: str) -> str:
    return urns.make_urn(STACK, PROJECT, type_, name, ROOT_URN)


def root_goal() -> Goal:
    return Goal(type=urns.STACK_TYPE, name=f"{PROJECT}-{STACK}", custom=False)


def network(name: str = "lan", subnet: str = "10.0.0.0/24", **kw: Any) -> Goal:
    kw.setdefault("delete_before_replace", True)
    return Goal(type=NETWORK, name=name, custom=True,
                inputs={"name": f"{STACK}-{name}", "driver": "bridge", "internal": True,
                        "ipamConfigs": [{"subnet": subnet}]}, **kw)


def container(name: str, *, env: Any = "A=1", restart: str = "no", on: str = "lan",
              docker_name: str | None = None, **kw: Any) -> Goal:
    kw.setdefault("dependencies", [urn_of(NETWORK, on)])
    return Goal(type=CONTAINER, name=name, custom=True,
                inputs={"name": docker_name or f"{STACK}-{name}", "image": "sha256:img",
                        "envs": [env], "restart": restart, "memory": 256,
                        "networksAdvanced": [{"name": f"{STACK}-{on}", "aliases": [name]}]},
                **kw)


class Harness:
    """One stack's state directory, and deployments over it."""

    def __init__(self, workdir: Path, backend: Backend) -> None:
        self.workdir = workdir
        self.backend = backend
        self.secrets = SecretsManager(_key(workdir))
        self.store = StateStore(workdir, STACK, PROJECT, self.secrets)

    def deployment(self, mode: Mode = Mode.UP, **kw: Any) -> Deployment:
        return Deployment(stack=STACK, project=PROJECT, store=self.store, old=self.store.load(),
                          mode=mode, sink=RecordingSink(), **kw)

    def run(self, goals: list[Goal], mode: Mode = Mode.UP, *, finish: bool = True,
            ) -> tuple[Deployment, dict[str, RegisterResult]]:
        """Like a program run: the root first, then the goals in order, then the deletes."""
        deployment = self.deployment(mode)
        deployment.resolve_pending()
        results = {"root": deployment.register(root_goal())}
        for goal in goals:
            results[goal.name] = deployment.register(goal)
        if finish:
            deployment.finish()
            deployment.save_final("succeeded", _now())
        return deployment, results

    def state(self) -> StackState:
        return self.store.load()

    def ids(self) -> dict[str, str]:
        return {urns.name_of(r.urn): r.id for r in self.state().resources if r.custom}


def _key(workdir: Path) -> bytes:
    path = workdir / "test.key"
    if not path.exists():
        from cryptography.fernet import Fernet

        workdir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(Fernet.generate_key())
    return path.read_bytes()


def steps_by_name(deployment: Deployment) -> dict[str, list[str]]:
    """name -> the ops of its steps, in order (custom resources only)."""
    out: dict[str, list[str]] = {}
    for step in deployment.steps:
        if step.custom:
            out.setdefault(step.name, []).append(step.op.value)
    return out
