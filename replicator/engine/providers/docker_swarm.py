"""pulumi-docker's Swarm resources: Service, Secret and ServiceConfig, offline.

They exist only on a swarm manager: `check` asks the engine once per provider
and fails naming the resource and the fix when it is not one. The inputs
(pulumi-docker's camelCase properties) become the Docker API's service,
secret and config specs (`service_spec`, `secret_data`: pure, tested without
Docker), applied with docker-py's low-level API.

* Secret and ServiceConfig are immutable in Swarm: their schema updates
  nothing in place, so a changed `data` (or name, labels) is a replacement.
  A Secret's `data` arrives as a secret input and stays one in the state (the
  engine's secret handling); no message here ever quotes it.
* A Service updates in place (`update_service` with the current version
  index); only a new name replaces it. Its image is never pulled: it must be
  on the engine already, and the spec names it by image id, so that the swarm's
  executor does not try a registry either. Removing a service waits (bounded)
  until its tasks are gone, so that a network it used can be removed next.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from typing import Any

import docker
from docker import errors as docker_errors
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from replicator.engine.diff import Schema
from replicator.engine.properties import contains_unknown, reveal
from replicator.engine.providers.base import ProviderError, ReadResult

SERVICE = "docker:index/service:Service"
SECRET = "docker:index/secret:Secret"
CONFIG = "docker:index/serviceConfig:ServiceConfig"
TYPES = frozenset({SERVICE, SECRET, CONFIG})

SCHEMAS = {
    # Everything but the name updates in place (the Terraform provider pulumi-docker bridges).
    SERVICE: Schema(updatable=frozenset({"taskSpec", "mode", "labels", "endpointSpec",
                                         "updateConfig", "rollbackConfig", "convergeConfig",
                                         "auth"})),
    # Swarm secrets and configs cannot be changed: any change, `data` first, replaces them.
    SECRET: Schema(),
    CONFIG: Schema(),
}

_KIND = {SERVICE: "service", SECRET: "secret", CONFIG: "config"}
TASKS_GONE_SECONDS = 60.0  # bounded wait for a removed service's tasks
CONVERGE_TIMEOUT = "3m"  # pulumi-docker's convergeConfig defaults
CONVERGE_DELAY = "7s"
SERVICE_LABEL = "com.docker.swarm.service.id"  # set by Swarm on every task container

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
       "m": 60_000_000_000, "h": 3_600_000_000_000}


def duration_ns(value: Any) -> int | None:
    """A Go duration ("10s", "1m30s", "5ms", a bare number of ns) in nanoseconds."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ProviderError(f"{value!r} is not a duration (write it like 10s, 1m30s or 500ms)")
    return int(sum(float(n) * _NS[u] for n, u in parts))


def _labels(items: Any) -> dict[str, str]:
    return {str(i["label"]): str(i["value"]) for i in items or []}


def _drop_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, [], {})}


# ----------------------------------------------------------------------------- specs (pure)


def secret_data(type_: str, inputs: dict[str, Any]) -> bytes:
    """The bytes of a Secret's or a ServiceConfig's data (`data` is base64, `dataRaw` plain).

    An error never quotes the value: it may be a secret.
    """
    name = inputs.get("name", "?")
    if type_ == CONFIG and inputs.get("dataRaw") not in (None, ""):
        return str(inputs["dataRaw"]).encode()
    data = inputs.get("data")
    if data in (None, ""):
        needs = "`data` (base64) or `dataRaw`" if type_ == CONFIG else "`data` (base64)"
        raise ProviderError(f"{_KIND[type_]} {name} has no data: give {needs}")
    text = str(data).strip()
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError(
            f"{_KIND[type_]} {name}: `data` is not base64 (pulumi-docker takes it encoded, "
            "e.g. base64.b64encode(value.encode()).decode())") from None


def _file_refs(items: Any, kind: str) -> list[dict[str, Any]]:
    """containerSpec.secrets / .configs -> the API's SecretReference / ConfigReference."""
    key = "Secret" if kind == "secret" else "Config"
    refs = []
    for item in items or []:
        mode = item.get("fileMode")
        refs.append(_drop_none({
            "File": {"Name": item["fileName"], "UID": str(item.get("fileUid") or "0"),
                     "GID": str(item.get("fileGid") or "0"),
                     "Mode": int(mode) if mode is not None else 0o444},
            f"{key}ID": item.get(f"{kind}Id"), f"{key}Name": item.get(f"{kind}Name"),
        }))
    return refs


def _mounts(items: Any) -> list[dict[str, Any]]:
    mounts = []
    for m in items or []:
        mount: dict[str, Any] = {"Target": m["target"], "Type": m.get("type") or "volume",
                                 "Source": m.get("source") or None,
                                 "ReadOnly": bool(m.get("readOnly"))}
        if m.get("bindOptions"):
            mount["BindOptions"] = _drop_none({"Propagation": m["bindOptions"].get("propagation")})
        if m.get("volumeOptions"):
            vo = m["volumeOptions"]
            driver = _drop_none({"Name": vo.get("driverName"), "Options": vo.get("driverOptions")})
            mount["VolumeOptions"] = _drop_none({"NoCopy": vo.get("noCopy"),
                                                 "Labels": _labels(vo.get("labels")),
                                                 "DriverConfig": driver})
        if m.get("tmpfsOptions"):
            to = m["tmpfsOptions"]
            mount["TmpfsOptions"] = _drop_none({"SizeBytes": to.get("sizeBytes"),
                                                "Mode": to.get("mode")})
        mounts.append(_drop_none(mount))
    return mounts


def _container_spec(spec: dict[str, Any], image: str) -> dict[str, Any]:
    hc = spec.get("healthcheck")
    dns = spec.get("dnsConfig")
    return _drop_none({
        "Image": image,
        "Command": spec.get("commands"),
        "Args": spec.get("args"),
        "Env": [f"{k}={v}" for k, v in sorted((spec.get("env") or {}).items())],
        "Labels": _labels(spec.get("labels")),
        "Dir": spec.get("dir"),
        "User": spec.get("user"),
        "Groups": spec.get("groups"),
        "Hostname": spec.get("hostname"),
        "Hosts": [f"{h['ip']} {h['host']}" for h in spec.get("hosts") or []],
        "ReadOnly": spec.get("readOnly"),
        "Init": spec.get("init"),
        "StopSignal": spec.get("stopSignal"),
        "StopGracePeriod": duration_ns(spec.get("stopGracePeriod")),
        "CapabilityAdd": spec.get("capAdds"),
        "CapabilityDrop": spec.get("capDrops"),
        "Sysctls": spec.get("sysctl"),
        "Isolation": spec.get("isolation"),
        "Mounts": _mounts(spec.get("mounts")),
        "Secrets": _file_refs(spec.get("secrets"), "secret"),
        "Configs": _file_refs(spec.get("configs"), "config"),
        "Healthcheck": _drop_none({
            "Test": hc.get("tests"), "Interval": duration_ns(hc.get("interval")),
            "Timeout": duration_ns(hc.get("timeout")), "Retries": hc.get("retries"),
            "StartPeriod": duration_ns(hc.get("startPeriod"))}) if hc else None,
        "DNSConfig": _drop_none({"Nameservers": dns.get("nameservers"),
                                 "Search": dns.get("searches"),
                                 "Options": dns.get("options")}) if dns else None,
    })


def _resources(res: dict[str, Any] | None) -> dict[str, Any] | None:
    if not res:
        return None

    def one(r: dict[str, Any] | None) -> dict[str, Any] | None:
        return _drop_none({"NanoCPUs": r.get("nanoCpus"),
                           "MemoryBytes": r.get("memoryBytes")}) if r else None

    return _drop_none({"Limits": one(res.get("limits")), "Reservations": one(res.get("reservation"))})


def _placement(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if not p:
        return None
    prefs = []
    for pref in p.get("prefs") or []:
        strategy, _, descriptor = str(pref).partition("=")
        if strategy != "spread" or not descriptor:
            raise ProviderError(f"placement preference {pref!r}: only spread=<label> exists")
        prefs.append({"Spread": {"SpreadDescriptor": descriptor}})
    return _drop_none({
        "Constraints": p.get("constraints"), "Preferences": prefs,
        "MaxReplicas": p.get("maxReplicas"),
        "Platforms": [{"Architecture": x.get("architecture"), "OS": x.get("os")}
                      for x in p.get("platforms") or []],
    })


def _rollout(cfg: dict[str, Any] | None) -> dict[str, Any] | None:
    """updateConfig / rollbackConfig."""
    if not cfg:
        return None
    ratio = cfg.get("maxFailureRatio")
    return _drop_none({
        "Parallelism": cfg.get("parallelism"), "Delay": duration_ns(cfg.get("delay")),
        "FailureAction": cfg.get("failureAction"), "Monitor": duration_ns(cfg.get("monitor")),
        "MaxFailureRatio": float(ratio) if ratio not in (None, "") else None,
        "Order": cfg.get("order"),
    })


def _mode(mode: dict[str, Any] | None) -> dict[str, Any]:
    mode = mode or {}
    if mode.get("global"):
        if mode.get("replicated"):
            raise ProviderError("mode: give either `global` or `replicated`, not both")
        return {"Global": {}}
    replicas = (mode.get("replicated") or {}).get("replicas")
    return {"Replicated": {"Replicas": int(replicas) if replicas is not None else 1}}


def _endpoint(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    if not spec:
        return None
    ports = [_drop_none({
        "Name": p.get("name"), "Protocol": p.get("protocol") or "tcp",
        "TargetPort": int(p["targetPort"]),
        "PublishedPort": int(p["publishedPort"]) if p.get("publishedPort") else None,
        "PublishMode": p.get("publishMode") or "ingress",
    }) for p in spec.get("ports") or []]
    return _drop_none({"Mode": spec.get("mode") or "vip", "Ports": ports})


def service_spec(inputs: dict[str, Any], image: str) -> dict[str, Any]:
    """The keyword arguments of docker-py's create_service/update_service for `inputs`.

    `image` is what the spec runs (the image id the program's image resolved to).
    """
    task = inputs.get("taskSpec") or {}
    restart = task.get("restartPolicy")
    log = task.get("logDriver")
    template = _drop_none({
        "ContainerSpec": _container_spec(task.get("containerSpec") or {}, image),
        "Resources": _resources(task.get("resources")),
        "RestartPolicy": _drop_none({
            "Condition": restart.get("condition"), "Delay": duration_ns(restart.get("delay")),
            "MaxAttempts": restart.get("maxAttempts"),
            "Window": duration_ns(restart.get("window"))}) if restart else None,
        "Placement": _placement(task.get("placement")),
        "ForceUpdate": task.get("forceUpdate"),
        "Runtime": task.get("runtime"),
        # `id` (pulumi-docker's advice: network.id) or the deprecated `name`.
        "Networks": [_drop_none({"Target": n.get("id") or n["name"], "Aliases": n.get("aliases"),
                                 "DriverOpts": _driver_opts(n.get("driverOpts"))})
                     for n in task.get("networksAdvanceds") or []],
        "LogDriver": _drop_none({"Name": log.get("name"), "Options": log.get("options")})
        if log else None,
    })
    return {
        "task_template": template,
        "name": inputs["name"],
        "labels": _labels(inputs.get("labels")) or None,
        "mode": _mode(inputs.get("mode")),
        "endpoint_spec": _endpoint(inputs.get("endpointSpec")),
        "update_config": _rollout(inputs.get("updateConfig")),
        "rollback_config": _rollout(inputs.get("rollbackConfig")),
    }


def _driver_opts(opts: Any) -> dict[str, str] | None:
    """pulumi-docker gives a network's driver options as a list of `key=value`."""
    if not opts:
        return None
    if isinstance(opts, dict):
        return {str(k): str(v) for k, v in opts.items()}
    return dict(str(o).partition("=")[::2] for o in opts)


def replicas_of(mode: dict[str, Any] | None) -> int | None:
    """The declared replica count (None for a global service)."""
    spec = _mode(mode)
    return None if "Global" in spec else int(spec["Replicated"]["Replicas"])


# ----------------------------------------------------------------------------- the engine side


class Swarm:
    """The Swarm resources of one Docker engine (the DockerProvider's `api` and `host`)."""

    def __init__(self, api: Callable[[], docker.APIClient], host: str) -> None:
        self._api = api
        self.host = host
        self._manager = False  # known to be a manager (asked once)

    def check(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        checked = dict(inputs)
        plain = reveal(checked)
        name = plain.get("name", "?")
        if type_ in (SECRET, CONFIG) and not contains_unknown(plain.get("data")) \
                and not contains_unknown(plain.get("dataRaw")):
            secret_data(type_, plain)
        if type_ == SERVICE:
            spec = (plain.get("taskSpec") or {}).get("containerSpec") or {}
            if not spec.get("image"):
                raise ProviderError(f"service {name}: taskSpec.containerSpec.image is required")
            if not contains_unknown(plain):
                service_spec(plain, str(spec["image"]))  # a bad duration or mode fails here
        self.require_manager(type_, str(name))
        return checked

    def require_manager(self, type_: str, name: str) -> None:
        if self._manager:
            return
        swarm = self._api().info().get("Swarm") or {}
        state = swarm.get("LocalNodeState") or "inactive"
        if state == "active" and swarm.get("ControlAvailable"):
            self._manager = True
            return
        what = "a swarm worker" if state == "active" else f"not in a swarm (swarm state: {state})"
        raise ProviderError(
            f"{_KIND[type_]} {name} needs a Docker Swarm manager, but the engine at {self.host} "
            f"is {what}. Point docker:host at a manager, or make this engine one: "
            "`docker swarm init` on it (`replicator hosts up` makes the first host of each site "
            "a manager)")

    # -- create / update -------------------------------------------------------------
    def create(self, type_: str, inputs: dict[str, Any],
               retry_orphan: Callable[[Callable[[], Any]], Any]) -> tuple[str, dict[str, Any]]:
        api = self._api()
        name = str(inputs["name"])
        labels = _labels(inputs.get("labels")) or None
        if type_ == SECRET:
            data = secret_data(type_, inputs)
            created = retry_orphan(lambda: api.create_secret(name, data, labels=labels))
        elif type_ == CONFIG:
            data = secret_data(type_, inputs)
            created = retry_orphan(lambda: api.create_config(name, data, labels=labels))
        else:
            spec = service_spec(inputs, self._image_id(inputs))
            created = retry_orphan(lambda: api.create_service(**spec))
            self._converge(created["ID"], inputs)
            return created["ID"], self._service_outputs(created["ID"], inputs)
        return created["ID"], {**inputs, "id": created["ID"]}

    def update(self, type_: str, id_: str, new: dict[str, Any],
               old_outputs: dict[str, Any]) -> dict[str, Any]:
        if type_ != SERVICE:  # nothing of a secret or config updates in place
            return {**old_outputs, **new}
        api = self._api()
        spec = service_spec(new, self._image_id(new))
        version = api.inspect_service(id_)["Version"]["Index"]
        api.update_service(id_, version, fetch_current_spec=False, **spec)
        self._converge(id_, new)
        return self._service_outputs(id_, new)

    def _image_id(self, inputs: dict[str, Any]) -> str:
        image = str(inputs["taskSpec"]["containerSpec"]["image"])
        try:
            return str(self._api().inspect_image(image)["Id"])
        except docker_errors.ImageNotFound:
            raise ProviderError(
                f"service {inputs.get('name')}: image {image} is not on the Docker engine at "
                f"{self.host}. The embedded engine never pulls (no registry is reachable): "
                "build it (`replicator image build`) or load it into that engine "
                "(`docker save IMAGE | docker -H HOST load`)") from None

    def _service_outputs(self, id_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The inputs, with the published ports Swarm chose (as pulumi-docker reports them)."""
        info = self._api().inspect_service(id_)
        outputs = {**inputs, "id": id_}
        published = (info.get("Endpoint") or {}).get("Ports") or []
        if inputs.get("endpointSpec") and published:
            ports = []
            for port in (inputs["endpointSpec"].get("ports") or []):
                match: dict[str, Any] = next((p for p in published
                              if p.get("TargetPort") == int(port["targetPort"])
                              and p.get("Protocol", "tcp") == (port.get("protocol") or "tcp")), {})
                ports.append({**port, "publishedPort": match.get("PublishedPort",
                                                                 port.get("publishedPort"))})
            outputs["endpointSpec"] = {**inputs["endpointSpec"], "ports": ports}
        return outputs

    def _converge(self, id_: str, inputs: dict[str, Any]) -> None:
        """With `convergeConfig`, wait until the declared tasks run (pulumi-docker's behaviour)."""
        converge = inputs.get("convergeConfig")
        if not converge:
            return
        timeout = (duration_ns(converge.get("timeout") or CONVERGE_TIMEOUT) or 0) / 1e9
        delay = (duration_ns(converge.get("delay") or CONVERGE_DELAY) or 0) / 1e9
        wanted = replicas_of(inputs.get("mode"))
        deadline = time.monotonic() + timeout
        while True:
            tasks = [t for t in self._api().tasks(filters={"service": id_})
                     if t.get("DesiredState") == "running"]
            running = [t for t in tasks if (t.get("Status") or {}).get("State") == "running"]
            done = len(running) == wanted if wanted is not None else \
                bool(tasks) and len(running) == len(tasks)
            # A changed task spec rolls out task by task: done once the rollout is.
            rollout = self._api().inspect_service(id_).get("UpdateStatus") or {}
            if rollout.get("State") in ("paused", "rollback_completed", "rollback_paused"):
                raise ProviderError(
                    f"service {inputs.get('name')}: its update ended "
                    f"{str(rollout['State']).replace('_', ' ')}: {rollout.get('Message', '')}")
            if done and rollout.get("State") not in ("updating", "rollback_started"):
                return
            if time.monotonic() > deadline:
                errors = sorted({str((t.get("Status") or {}).get("Err"))
                                 for t in self._api().tasks(filters={"service": id_})
                                 if (t.get("Status") or {}).get("Err")})
                raise ProviderError(
                    f"service {inputs.get('name')} did not converge within {timeout:.0f} s: "
                    f"{len(running)} of {wanted if wanted is not None else len(tasks)} tasks "
                    "running" + (f"; task errors: {'; '.join(errors[:3])}" if errors else ""))
            time.sleep(min(delay, 1.0) or 0.2)

    # -- delete / read ---------------------------------------------------------------
    def delete(self, type_: str, id_: str) -> None:
        api = self._api()
        if type_ == SECRET:
            api.remove_secret(id_)
        elif type_ == CONFIG:
            api.remove_config(id_)
        else:
            try:
                api.remove_service(id_)
            except docker_errors.NotFound:
                pass  # still wait: a service removed by an interrupted run may have tasks
            self._wait_tasks_gone(id_)

    def _wait_tasks_gone(self, id_: str) -> None:
        api = self._api()

        def left() -> list[str]:
            tasks = [t["ID"] for t in api.tasks() if t.get("ServiceID") == id_]
            containers = [c["Id"] for c in api.containers(
                all=True, filters={"label": f"{SERVICE_LABEL}={id_}"})]
            return tasks + containers

        try:
            Retrying(retry=retry_if_result(bool), wait=wait_fixed(0.5),
                     stop=stop_after_delay(TASKS_GONE_SECONDS))(left)
        except RetryError:
            raise ProviderError(
                f"service {id_} was removed, but {len(left())} of its tasks or containers are "
                f"still there after {TASKS_GONE_SECONDS:.0f} s: run the same command again "
                "once `docker service ps` / `docker ps` no longer show them") from None

    def read(self, type_: str, id_: str, outputs: dict[str, Any]) -> ReadResult:
        """Raises docker's NotFound when the object is gone."""
        api = self._api()
        if type_ == SECRET:
            api.inspect_secret(id_)
            return ReadResult(dict(outputs))
        if type_ == CONFIG:
            api.inspect_config(id_)
            return ReadResult(dict(outputs))
        spec = api.inspect_service(id_)["Spec"]
        mode = spec.get("Mode") or {}
        observed = {"global": "Global" in mode,
                    "replicas": (mode.get("Replicated") or {}).get("Replicas")}
        return ReadResult(dict(outputs), observed)

    @staticmethod
    def drift(type_: str, observed: dict[str, Any], inputs: dict[str, Any]) -> str:
        """A service scaled (or switched to global) by hand no longer runs what is declared."""
        if type_ != SERVICE or "replicas" not in observed:
            return ""
        wanted = replicas_of(inputs.get("mode"))
        if observed.get("global") != (wanted is None) or (
                wanted is not None and observed.get("replicas") != wanted):
            have = "global" if observed.get("global") else f"{observed.get('replicas')} replicas"
            return f"service runs {have}, declared {'global' if wanted is None else wanted}"
        return ""

    def remove_orphan(self, type_: str, name: str, stack: str, stack_label: str) -> bool:
        """Remove a Swarm object named `name` left by an interrupted run of `stack` (its label)."""
        api = self._api()
        inspect = {SECRET: api.inspect_secret, CONFIG: api.inspect_config,
                   SERVICE: api.inspect_service}[type_]
        try:
            info = inspect(name)
        except docker_errors.NotFound:
            return True
        if ((info.get("Spec") or {}).get("Labels") or {}).get(stack_label) != stack:
            return False
        self.delete(type_, info["ID"])
        return True
