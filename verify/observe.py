"""What the replica is: Docker objects read from each engine, and probes run inside containers.

- `DockerObserver` asks every engine of the edition (the stacks' ``dockerHost``
  outputs) for the containers and networks carrying the project's labels
  (``replicator.edition`` or ``replicator.stack``) or its names, once, and
  inspects them in parallel threads.
- `Prober` runs one small Python script per source container (through the
  testinfra backend of `verify.backend`, so on the right engine) that resolves
  names and opens TCP connections to many targets at once, each bounded by a
  short timeout. A link or isolation check then reads its own answer from the
  batch: one ``docker exec`` per container instead of one per pair.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from verify.expect import LABEL_PREFIX

EDITION_LABEL = LABEL_PREFIX + "edition"
STACK_LABEL = LABEL_PREFIX + "stack"


@dataclass(frozen=True)
class Attachment:
    network: str
    ip: str
    aliases: tuple[str, ...]


@dataclass
class ObservedContainer:
    name: str
    id: str
    docker_host: str
    status: str  # running, exited, created, restarting, paused
    running: bool
    image_id: str
    labels: dict[str, str]  # the project's labels only (replicator.*)
    networks: dict[str, Attachment]
    restart_count: int = 0
    exit_code: int | None = None

    @property
    def ips(self) -> list[str]:
        return [a.ip for a in self.networks.values() if a.ip]

    def __repr__(self) -> str:
        return f"ObservedContainer({self.name!r}, {self.status})"


@dataclass
class ObservedNetwork:
    name: str
    id: str
    docker_host: str
    internal: bool
    labels: dict[str, str]
    subnets: tuple[str, ...]
    containers: tuple[str, ...] = ()  # the project's containers attached
    foreign: tuple[str, ...] = ()  # other containers attached (not the project's)

    def __repr__(self) -> str:
        return f"ObservedNetwork({self.name!r})"


@dataclass
class Observation:
    """One snapshot of the project's Docker objects on every engine of the edition."""

    containers: dict[str, ObservedContainer] = field(default_factory=dict)
    networks: dict[str, ObservedNetwork] = field(default_factory=dict)
    image_ids: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (host, tag)
    image_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # image id -> labels
    engine_errors: dict[str, str] = field(default_factory=dict)

    def image_id(self, docker_host: str, tag: str) -> str | None:
        return self.image_ids.get((docker_host, tag))

    def __repr__(self) -> str:
        return (f"Observation(containers={len(self.containers)}, "
                f"networks={len(self.networks)})")


class DockerObserver:
    """Reads the project's containers and networks of one edition from its engines."""

    def __init__(self, docker_hosts: Iterable[str], edition: str, stacks: Sequence[str] = (),
                 workers: int = 16) -> None:
        self.hosts = sorted(set(docker_hosts))
        self.edition = edition
        self.stacks = list(stacks)
        self.workers = workers
        self._clients: dict[str, Any] = {}

    def client(self, host: str) -> Any:
        from replicator.docker_client import api_client

        if host not in self._clients:
            self._clients[host] = api_client(host, timeout=30, max_pool_size=self.workers)
        return self._clients[host]

    def _ours(self, name: str, labels: dict[str, str]) -> bool:
        return (labels.get(EDITION_LABEL) == self.edition
                or labels.get(STACK_LABEL) in self.stacks
                or name.startswith(f"{self.edition}-"))

    def observe(self, image_tags: Iterable[str] = ()) -> Observation:
        obs = Observation()
        tags = sorted(set(image_tags))
        for host in self.hosts:
            try:
                api = self.client(host)
                listed = api.containers(all=True)
                nets = api.networks()
            except Exception as exc:  # noqa: BLE001 - reported per engine
                obs.engine_errors[host] = f"cannot reach the Docker engine at {host}: {exc}"
                continue
            ids = [c["Id"] for c in listed
                   if self._ours((c.get("Names") or ["/"])[0].lstrip("/"), c.get("Labels") or {})]
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                inspected = list(pool.map(_inspect, [api] * len(ids), ids))
            for data in inspected:
                if data is None:
                    continue  # removed while we looked
                c = _container(host, data)
                obs.containers[c.name] = c
            ours = [n for n in nets if self._ours(n.get("Name", ""), n.get("Labels") or {})]
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                members = dict(zip([n["Id"] for n in ours],
                                   pool.map(_network_members, [api] * len(ours),
                                            [n["Id"] for n in ours])))
            for n in ours:
                labels = n.get("Labels") or {}
                subnets = tuple(cfg.get("Subnet", "") for cfg in
                                ((n.get("IPAM") or {}).get("Config") or []) if cfg.get("Subnet"))
                obs.networks[n["Name"]] = ObservedNetwork(
                    name=n["Name"], id=n["Id"], docker_host=host, internal=bool(n.get("Internal")),
                    labels={k: v for k, v in labels.items() if k.startswith(LABEL_PREFIX)},
                    subnets=subnets, foreign=tuple(sorted(
                        m for m in members.get(n["Id"], ()) if m not in obs.containers)))
            for tag in tags:
                try:
                    obs.image_ids[(host, tag)] = api.inspect_image(tag)["Id"]
                except Exception:  # noqa: BLE001 - a missing image is a finding, not an error
                    obs.image_ids[(host, tag)] = None
            for image in {c.image_id for c in obs.containers.values() if c.docker_host == host}:
                try:
                    labels = (api.inspect_image(image).get("Config") or {}).get("Labels") or {}
                except Exception:  # noqa: BLE001
                    labels = {}
                obs.image_labels[image] = {k: v for k, v in labels.items()
                                           if k.startswith(LABEL_PREFIX)}
        on_network: dict[str, list[str]] = {}
        for c in obs.containers.values():
            for net in c.networks:
                on_network.setdefault(net, []).append(c.name)
        for network in obs.networks.values():
            network.containers = tuple(sorted(on_network.get(network.name, ())))
        return obs


def _inspect(api: Any, container_id: str) -> dict[str, Any] | None:
    import docker

    try:
        return api.inspect_container(container_id)
    except docker.errors.NotFound:
        return None


def _network_members(api: Any, network_id: str) -> list[str]:
    try:
        data = api.inspect_network(network_id)
    except Exception:  # noqa: BLE001 - removed while we looked
        return []
    # `lb-<network>` is a swarm overlay's load-balancer endpoint (named `<network>-endpoint`),
    # made by Docker on each engine with a member: not a container of anybody's.
    return [c.get("Name", "") for key, c in (data.get("Containers") or {}).items()
            if not key.startswith("lb-")]


def _container(host: str, data: dict[str, Any]) -> ObservedContainer:
    state = data.get("State") or {}
    labels = (data.get("Config") or {}).get("Labels") or {}
    nets = ((data.get("NetworkSettings") or {}).get("Networks") or {})
    name = data["Name"].lstrip("/")
    short = data["Id"][:12]
    attachments = {
        net: Attachment(net, info.get("IPAddress") or "",
                        tuple(a for a in (info.get("Aliases") or []) if a not in (short, name)))
        for net, info in nets.items()
    }
    return ObservedContainer(
        name=name, id=data["Id"], docker_host=host, status=state.get("Status", "unknown"),
        running=bool(state.get("Running")) and not state.get("Paused"),
        image_id=data.get("Image", ""),
        labels={k: v for k, v in labels.items() if k.startswith(LABEL_PREFIX)},
        networks=attachments, restart_count=int(data.get("RestartCount") or 0),
        exit_code=state.get("ExitCode"))


# --------------------------------------------------------------------------- probes

# Runs inside a container (python3 of the image, standard library only). argv[1]:
# {"timeout": s, "deadline": s, "items": [{"id", "name"?, "ips"?, "ports"}]}. For each
# item: resolve the name (IPv4), then try a TCP connection to every resolved and
# every given address on every port. Prints one JSON object: id -> result.
PROBE_SCRIPT = r"""
import json, socket, sys, time, errno, os
from concurrent.futures import ThreadPoolExecutor, wait
spec = json.loads(sys.argv[1]); T = float(spec.get("timeout", 1.0))
end = time.monotonic() + float(spec.get("deadline", 10.0))
def resolve(name):
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
        return sorted({i[4][0] for i in infos}), ""
    except OSError as e:
        return [], (e.strerror or str(e))
def connect(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.settimeout(T)
    try:
        s.connect((ip, port)); return "open"
    except socket.timeout:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable"
        return errno.errorcode.get(e.errno, str(e.errno)).lower()
    finally:
        s.close()
items = spec["items"]
pool = ThreadPoolExecutor(max_workers=256)
conns = {}
def try_all(i, ips):
    for ip in ips:
        for port in i["ports"]:
            key = (i["id"], "%s:%d" % (ip, port))
            if key not in conns:
                conns[key] = pool.submit(connect, ip, port)
# Given addresses at once; resolved ones as soon as their name answers.
names = {i["id"]: pool.submit(resolve, i["name"]) for i in items if i.get("name")}
for i in items:
    try_all(i, i.get("ips") or [])
wait(names.values(), timeout=max(0.1, end - time.monotonic()))
res = {}
for i in items:
    f = names.get(i["id"])
    r = {"resolved": [], "resolve_error": "", "connect": {}}
    if f is not None:
        if f.done():
            r["resolved"], r["resolve_error"] = f.result()
        else:
            r["resolve_error"] = "no answer before the deadline"
    res[i["id"]] = r
    try_all(i, r["resolved"])
wait(list(conns.values()), timeout=max(0.1, end - time.monotonic()))
for (k, addr), f in conns.items():
    res[k]["connect"][addr] = f.result() if f.done() else "timeout"
sys.stdout.write(json.dumps(res)); sys.stdout.flush(); os._exit(0)
"""


@dataclass(frozen=True)
class ProbeTarget:
    id: str
    name: str | None  # a DNS name to resolve, or None
    ips: tuple[str, ...]  # addresses to try besides the resolved ones
    ports: tuple[int, ...]


@dataclass
class ProbeResult:
    target: ProbeTarget
    resolved: list[str]
    resolve_error: str
    connect: dict[str, str]  # "ip:port" -> open | refused | timeout | unreachable | ...
    error: str = ""  # the probe itself failed (container stopped, no python3...)

    @property
    def open(self) -> list[str]:
        return [k for k, v in self.connect.items() if v == "open"]

    @property
    def answered(self) -> list[str]:
        """Addresses that answered at all: open, or refused (a host is there, port closed)."""
        return [k for k, v in self.connect.items() if v in ("open", "refused")]

    def describe(self) -> str:
        if self.error:
            return f"probe failed: {self.error}"
        parts = []
        if self.target.name:
            parts.append(f"{self.target.name} -> "
                         + (",".join(self.resolved) if self.resolved
                            else f"unresolved ({self.resolve_error})"))
        if self.connect:
            parts.append(" ".join(f"{k}={v}" for k, v in sorted(self.connect.items())))
        return "; ".join(parts) or "nothing probed"


class Prober:
    """Batches probes per source container; results cached for the session."""

    def __init__(self, host_factory: Any, timeout: float = 1.0, deadline: float = 8.0,
                 workers: int = 12) -> None:
        self.host_factory = host_factory  # (docker_host, container) -> testinfra Host
        self.timeout = timeout
        self.deadline = deadline
        self.workers = workers
        self._results: dict[tuple[str, str], ProbeResult] = {}
        self._lock = threading.Lock()
        self.repeated: set[tuple[str, str]] = set()  # (container, target id) probed twice

    def run(self, batches: dict[tuple[str, str], list[ProbeTarget]], *, again: bool = False
            ) -> None:
        """Probe every (docker_host, container) -> targets batch not probed yet, in parallel.

        With `again`, probe them even if they were (the new answer replaces the old
        one): how a suspicious answer is confirmed before a check fails on it.
        """
        todo = {}
        with self._lock:
            for key, targets in batches.items():
                missing = [t for t in targets if again or (key[1], t.id) not in self._results]
                if again:
                    self.repeated.update((key[1], t.id) for t in targets)
                if missing:
                    todo[key] = missing
        if not todo:
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for key, results in zip(todo, pool.map(lambda k: self._batch(k, todo[k]), todo)):
                with self._lock:
                    for r in results:
                        self._results[(key[1], r.target.id)] = r

    def confirm(self, batches: dict[tuple[str, str], list[ProbeTarget]],
                suspect: Callable[[ProbeTarget, ProbeResult | None], bool],
                pauses: Sequence[float], sleep: Callable[[float], None] = time.sleep) -> None:
        """After each pause, probe again the targets whose answer `suspect` flags; stop
        as soon as none is flagged (a healthy replica waits for nothing)."""
        for pause in pauses:
            suspects = {key: [t for t in targets if suspect(t, self.result(key[1], t.id))]
                        for key, targets in batches.items()}
            suspects = {key: targets for key, targets in suspects.items() if targets}
            if not suspects:
                return
            sleep(pause)
            self.run(suspects, again=True)

    def result(self, container: str, target_id: str) -> ProbeResult | None:
        with self._lock:
            return self._results.get((container, target_id))

    def _batch(self, key: tuple[str, str], targets: list[ProbeTarget]) -> list[ProbeResult]:
        docker_host, container = key
        spec = {"timeout": self.timeout, "deadline": self.deadline,
                "items": [{"id": t.id, "name": t.name, "ips": list(t.ips),
                           "ports": list(t.ports)} for t in targets]}
        host = self.host_factory(docker_host, container)
        out = host.run("python3 -c %s %s", PROBE_SCRIPT, json.dumps(spec))
        if out.rc != 0:
            msg = (out.stderr or out.stdout or "").strip().splitlines()
            error = f"exit {out.rc}: {msg[-1] if msg else 'no output'}"
            return [ProbeResult(t, [], "", {}, error=error) for t in targets]
        try:
            data = json.loads(out.stdout)
        except ValueError:
            return [ProbeResult(t, [], "", {}, error=f"unreadable probe output {out.stdout[:200]!r}")
                    for t in targets]
        results = []
        for t in targets:
            r = data.get(t.id) or {}
            results.append(ProbeResult(t, list(r.get("resolved") or []),
                                       r.get("resolve_error", ""),
                                       {k: v for k, v in (r.get("connect") or {}).items()},
                                       error=""))
        return results
