"""The `docker` package: Network, Container, Volume, RemoteImage, Image, Tag on a Docker engine
(and Service, Secret, ServiceConfig on a swarm manager: docker_swarm.py).

Applies the resources of pulumi-docker (the same type tokens and camelCase
properties the SDK sends) with docker-py's low-level API. Which properties
update in place follows the Terraform Docker provider that pulumi-docker
bridges; everything else forces a replacement.

No container is privileged (refused here, before anything is created). Ports
are published where the program says; this project's own stacks keep them on
loopback through their own policy (infra/components/policy.py).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import docker
from docker import errors as docker_errors
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_fixed,
)

from replicator.docker_client import DockerTimeoutError, api_client
from replicator.engine.diff import Schema
from replicator.engine.properties import UNKNOWN
from replicator.engine.providers import docker_images as images
from replicator.engine.providers import docker_swarm as swarm
from replicator.engine.providers.base import ProviderError, ProviderPlugin, ReadResult, ResourceProvider
from replicator.errors import EngineUnavailableError

NETWORK = "docker:index/network:Network"
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
STACK_LABEL = "replicator.stack"
OVERLAY_SETTLE_SECONDS = 60.0  # bounded wait for a swarm overlay's load-balancer endpoint
EDITION_LABEL = "replicator.edition"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

_SCHEMAS = {
    NETWORK: Schema(),
    VOLUME: Schema(),
    CONTAINER: Schema(
        updatable=frozenset({"restart", "maxRetryCount", "cpuShares", "memory", "memorySwap",
                             "mustRun", "start", "attach", "logs", "wait", "waitTimeout",
                             "destroyGraceSeconds", "removeVolumes",
                             "containerReadRefreshTimeoutMilliseconds"}),
        engine_only=frozenset(),
    ),
    REMOTE_IMAGE: Schema(updatable=frozenset({"keepLocally", "forceRemove"})),
    # A changed build (context digest, args, Dockerfile) rebuilds under the same name.
    images.IMAGE: Schema(updatable=frozenset({"build", images.CONTEXT_DIGEST, "skipPush",
                                              "registry"})),
    images.TAG: Schema(),
    **swarm.SCHEMAS,
}

_AUTONAMED = frozenset({NETWORK, CONTAINER, VOLUME}) | swarm.TYPES

_CONTAINER_DEFAULTS: dict[str, Any] = {
    "mustRun": True,
    "start": True,
    "restart": "no",
    "removeVolumes": True,
    "privileged": False,
}


def labels_of(inputs: dict[str, Any]) -> dict[str, str]:
    return {str(item["label"]): str(item["value"]) for item in inputs.get("labels") or []}


OVERLAY_ATTACH_ATTEMPTS = 3


def _overlay_attach_timed_out(exc: BaseException) -> bool:
    """Docker's own timeout attaching a container to an overlay network (worth a retry)."""
    return (isinstance(exc, docker_errors.APIError)
            and "attaching to network failed" in str(exc) and "deadline exceeded" in str(exc))


class DockerProvider:
    """One Docker engine, addressed by `host` (e.g. unix:///var/run/docker.sock)."""

    package = "docker"

    def __init__(self, host: str, *, timeout: float | None = None,
                 base_dir: Path | None = None) -> None:
        self.host = host
        # The program's directory: relative build paths of an Image are from there.
        self.base_dir = base_dir or Path.cwd()
        self._timeout = timeout
        self._api: docker.APIClient | None = None
        self._lock = threading.Lock()
        self._swarm = swarm.Swarm(lambda: self.api, host)

    def __repr__(self) -> str:
        return f"DockerProvider(host={self.host!r})"

    # -- connection ------------------------------------------------------------
    @property
    def api(self) -> docker.APIClient:
        with self._lock:
            if self._api is None:
                try:
                    api = api_client(self.host, timeout=self._timeout)
                except DockerTimeoutError:
                    raise  # exit 3 with the engine and the call, not a resource failure
                except EngineUnavailableError as exc:
                    raise ProviderError(
                        f"cannot reach the Docker engine at {self.host}: {exc.message}. "
                        "Start it with `replicator engine start` (or scripts/setup.sh)"
                    ) from exc
                self._api = api
            return self._api

    def engine_info(self) -> dict[str, Any]:
        info = self.api.info()
        return {"host": self.host, "engineId": info.get("ID", ""), "name": info.get("Name", ""),
                "serverVersion": info.get("ServerVersion", ""), "cpus": info.get("NCPU", 0),
                "memoryBytes": info.get("MemTotal", 0)}

    # -- schema and checks -----------------------------------------------------
    def schema(self, type_: str) -> Schema:
        try:
            return _SCHEMAS[type_]
        except KeyError:
            raise ProviderError(
                f"resource type {type_} is not supported by the embedded engine "
                f"(supported: {', '.join(sorted(_SCHEMAS))})"
            ) from None

    def check(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        self.schema(type_)
        checked = dict(inputs)
        if type_ == CONTAINER:
            for key, value in _CONTAINER_DEFAULTS.items():
                checked.setdefault(key, value)
            self._check_container_policy(checked)
        elif type_ == NETWORK:
            checked.setdefault("driver", "bridge")
            checked.setdefault("internal", False)
        elif type_ == REMOTE_IMAGE:
            checked.setdefault("keepLocally", False)
        elif type_ == images.IMAGE:
            checked = images.check_image(checked, self.base_dir)
        elif type_ in swarm.TYPES:
            checked = self._swarm.check(type_, checked)
        return checked

    @staticmethod
    def _check_container_policy(inputs: dict[str, Any]) -> None:
        name = inputs.get("name", "?")
        if inputs.get("privileged"):
            raise ProviderError(
                f"container {name} asks to be privileged; this project never runs privileged "
                "containers (grant a specific capability instead)"
            )

    def autoname_property(self, type_: str) -> str | None:
        """pulumi-docker auto-names these types when the program gives no name."""
        return "name" if type_ in _AUTONAMED else None

    def object_name(self, type_: str, inputs: dict[str, Any]) -> str:
        return str(inputs.get("name", ""))

    def preview_outputs(self, type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = dict(inputs)
        if type_ == CONTAINER:
            outputs.update(networkDatas=UNKNOWN, hostname=inputs.get("hostname", UNKNOWN))
        elif type_ == NETWORK:
            outputs.update(scope=UNKNOWN)
        elif type_ == VOLUME:
            outputs.update(mountpoint=UNKNOWN)
        elif type_ == REMOTE_IMAGE:
            outputs.update(imageId=UNKNOWN, repoDigest=UNKNOWN)
        return outputs

    # -- create ----------------------------------------------------------------
    def create(self, type_: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        try:
            if type_ == NETWORK:
                return self._create_network(inputs)
            if type_ == CONTAINER:
                return self._create_container(inputs)
            if type_ == VOLUME:
                return self._create_volume(inputs)
            if type_ == REMOTE_IMAGE:
                return self._read_image(inputs)
            if type_ == images.IMAGE:
                return images.build_image(self.api, inputs)
            if type_ == images.TAG:
                return images.create_tag(self.api, inputs)
            if type_ in swarm.TYPES:
                return self._swarm.create(type_, inputs, lambda make: self._with_orphan_retry(
                    type_, inputs["name"], labels_of(inputs), make))
        except docker_errors.APIError as exc:
            raise ProviderError(_explain(exc)) from exc
        raise ProviderError(f"cannot create {type_}")

    def _create_network(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pools = [
            docker.types.IPAMPool(subnet=c.get("subnet"), gateway=c.get("gateway"),
                                  iprange=c.get("ipRange"))
            for c in inputs.get("ipamConfigs") or []
        ]
        ipam = docker.types.IPAMConfig(pool_configs=pools) if pools else None
        result = self._with_orphan_retry(NETWORK, inputs["name"], labels_of(inputs), lambda: self.api.create_network(
            inputs["name"],
            driver=inputs.get("driver", "bridge"),
            options=inputs.get("options") or None,
            ipam=ipam,
            # Docker 20.10 happily creates two networks with one name.
            check_duplicate=True,
            internal=bool(inputs.get("internal")),
            labels=labels_of(inputs) or None,
            attachable=bool(inputs.get("attachable")),
        ))
        net_id = result["Id"]
        info = self.api.inspect_network(net_id)
        outputs = dict(inputs)
        outputs.update(id=net_id, scope=info.get("Scope", "local"))
        if not inputs.get("ipamConfigs"):
            outputs["ipamConfigs"] = [
                {"subnet": c.get("Subnet"), "gateway": c.get("Gateway")}
                for c in (info.get("IPAM") or {}).get("Config") or []
            ]
        return net_id, outputs

    def _create_volume(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # Docker returns the existing volume when the name is taken: a volume of an
        # interrupted run is adopted with its data, which is what a db tier wants.
        result = self.api.create_volume(name=inputs["name"], driver=inputs.get("driver", "local"),
                                        driver_opts=inputs.get("driverOpts") or None,
                                        labels=labels_of(inputs) or None)
        outputs = dict(inputs)
        outputs.update(id=result["Name"], mountpoint=result.get("Mountpoint", ""))
        return result["Name"], outputs

    def _read_image(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        name = inputs["name"]
        try:
            info = self.api.inspect_image(name)
        except docker_errors.ImageNotFound:
            raise ProviderError(
                f"image {name} is not on the Docker engine at {self.host}. The embedded engine "
                "never pulls (no registry is reachable): build it with `replicator image build`"
            ) from None
        outputs = dict(inputs)
        digests = info.get("RepoDigests") or []
        outputs.update(imageId=info["Id"], repoDigest=digests[0] if digests else info["Id"],
                       id=f"{info['Id']}{name}")
        return f"{info['Id']}{name}", outputs

    def _create_container(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # Attaching a new container to a swarm's attachable overlay network (an
        # inter-site circuit on several engines) sometimes times out when the
        # engines are busy ("attaching to network failed ... context deadline
        # exceeded", issue #10). The half-made container is removed by
        # _create_container_once, so the whole creation is tried again.
        retrying = Retrying(retry=retry_if_exception(_overlay_attach_timed_out),
                            stop=stop_after_attempt(OVERLAY_ATTACH_ATTEMPTS),
                            wait=wait_exponential(multiplier=2, max=10), reraise=True)
        return retrying(self._create_container_once, inputs)

    def _create_container_once(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        api = self.api
        name = inputs["name"]
        networks = inputs.get("networksAdvanced") or []
        port_bindings: dict[str, tuple[str, int | None]] = {}
        exposed: list[tuple[int, str]] = []
        for port in inputs.get("ports") or []:
            proto = port.get("protocol", "tcp")
            internal = int(port["internal"])
            exposed.append((internal, proto))
            external = port.get("external")
            port_bindings[f"{internal}/{proto}"] = (port.get("ip") or "0.0.0.0",
                                                    int(external) if external else None)
        binds = {}
        for vol in inputs.get("volumes") or []:
            source = vol.get("volumeName") or vol.get("hostPath")
            binds[source] = {"bind": vol["containerPath"],
                             "mode": "ro" if vol.get("readOnly") else "rw"}
        caps = inputs.get("capabilities") or {}
        restart = inputs.get("restart", "no")
        restart_policy = {"Name": restart} if restart and restart != "no" else None
        if restart_policy and restart == "on-failure":
            restart_policy["MaximumRetryCount"] = int(inputs.get("maxRetryCount") or 0)
        host_config = api.create_host_config(
            port_bindings=port_bindings or None,
            binds=binds or None,
            init=inputs.get("init"),
            restart_policy=restart_policy,
            privileged=False,
            cap_add=caps.get("adds") or None,
            cap_drop=caps.get("drops") or None,
            dns_opt=inputs.get("dnsOpts") or None,
            mem_limit=f"{int(inputs['memory'])}m" if inputs.get("memory") else None,
            cpu_shares=int(inputs["cpuShares"]) if inputs.get("cpuShares") else None,
            tmpfs=inputs.get("tmpfs") or None,
            network_mode=networks[0]["name"] if networks else inputs.get("networkMode"),
            security_opt=inputs.get("securityOpts") or None,
            read_only=bool(inputs.get("readOnly")),
        )
        networking_config = None
        if networks:
            first = networks[0]
            networking_config = api.create_networking_config({
                first["name"]: api.create_endpoint_config(
                    aliases=first.get("aliases") or None,
                    ipv4_address=first.get("ipv4Address") or None)
            })
        healthcheck = None
        if inputs.get("healthcheck"):
            hc = inputs["healthcheck"]
            healthcheck = {"test": hc.get("tests"), "interval": _duration_ns(hc.get("interval")),
                           "timeout": _duration_ns(hc.get("timeout")),
                           "retries": int(hc.get("retries") or 0),
                           "start_period": _duration_ns(hc.get("startPeriod"))}
        created = self._with_orphan_retry(
            CONTAINER, name, labels_of(inputs),
            lambda: api.create_container(
                inputs["image"], name=name, command=inputs.get("command") or None,
                entrypoint=inputs.get("entrypoints") or None,
                environment=inputs.get("envs") or None, labels=labels_of(inputs) or None,
                hostname=inputs.get("hostname") or None, user=inputs.get("user") or None,
                working_dir=inputs.get("workingDir") or None,
                ports=[(p, proto) for p, proto in exposed] or None,
                host_config=host_config, networking_config=networking_config,
                healthcheck=healthcheck, stop_signal=inputs.get("stopSignal") or None,
            ),
        )
        container_id = created["Id"]
        try:
            for net in networks[1:]:
                api.connect_container_to_network(
                    container_id, net["name"], aliases=net.get("aliases") or None,
                    ipv4_address=net.get("ipv4Address") or None)
            if inputs.get("start", True):
                api.start(container_id)
                if inputs.get("mustRun", True):
                    self._wait_running(container_id, name)
        except BaseException:
            # Never leave a half-made container behind: the state would not know it.
            try:
                api.remove_container(container_id, force=True, v=True)
            except docker_errors.APIError:
                pass
            raise
        return container_id, self._container_outputs(container_id, inputs)

    def _wait_running(self, container_id: str, name: str) -> None:
        deadline = time.monotonic() + 10
        while True:
            state = self.api.inspect_container(container_id)["State"]
            if state.get("Running"):
                return
            if state.get("Status") in ("exited", "dead") or time.monotonic() > deadline:
                logs = self.api.logs(container_id, tail=10).decode(errors="replace").strip()
                raise ProviderError(
                    f"container {name} did not stay running (status {state.get('Status')}, "
                    f"exit code {state.get('ExitCode')})" + (f"; last log lines:\n{logs}" if logs else "")
                )
            time.sleep(0.1)

    def _container_outputs(self, container_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        info = self.api.inspect_container(container_id)
        outputs = dict(inputs)
        outputs.update(
            id=container_id,
            hostname=info["Config"].get("Hostname", ""),
            networkDatas=_network_data(info),
        )
        return outputs

    def _with_orphan_retry(self, type_: str, name: str, labels: dict[str, str], create: Any) -> Any:
        """Create; if the name is taken by an orphan of this very stack, remove it and retry.

        An orphan is what an interrupted run (or a lost state) leaves: an object
        carrying this stack's label that the state does not know. Objects of
        anybody else are never touched.
        """
        try:
            return create()
        except docker_errors.APIError as exc:
            if exc.status_code != 409:
                raise
            stack = labels.get(STACK_LABEL)
            if not stack or not self.remove_orphan(type_, name, stack):
                raise ProviderError(
                    f"a {type_.rsplit(':', 1)[-1].lower()} named {name} already exists on "
                    f"{self.host} and does not belong to stack {stack or '?'}: remove or rename it"
                ) from exc
            return create()

    def remove_orphan(self, type_: str, name: str, stack: str) -> bool:
        api = self.api
        try:
            if type_ in swarm.TYPES:
                return self._swarm.remove_orphan(type_, name, stack, STACK_LABEL)
            if type_ == CONTAINER:
                info = api.inspect_container(name)
                if (info["Config"].get("Labels") or {}).get(STACK_LABEL) != stack:
                    return False
                api.remove_container(info["Id"], force=True, v=True)
                return True
            if type_ == NETWORK:
                matches = [n for n in api.networks(names=[name]) if n.get("Name") == name]
                if not matches:
                    return False
                for net in matches:
                    info = api.inspect_network(net["Id"])
                    labels = info.get("Labels") or {}
                    if labels.get(STACK_LABEL) != stack:
                        return False
                    # Containers of any stack of the same edition may sit on it (the
                    # inter-site circuits); anything else is not ours to disconnect.
                    edition = labels.get(EDITION_LABEL)
                    attached = [api.inspect_container(cid) for cid in (info.get("Containers") or {})]
                    if any((c["Config"].get("Labels") or {}).get(EDITION_LABEL) != edition
                           for c in attached):
                        return False
                    for c in attached:
                        api.disconnect_container_from_network(c["Id"], net["Id"], force=True)
                    try:
                        api.remove_network(net["Id"])
                    except docker_errors.APIError as exc:
                        if exc.status_code == 404 or attached:
                            raise
                        raise _stale_endpoint(name, exc) from exc
                return True
        except docker_errors.NotFound:
            return True
        return False

    # -- update / delete / read --------------------------------------------------
    def update(self, type_: str, id_: str, old: dict[str, Any], new: dict[str, Any],
               old_outputs: dict[str, Any]) -> dict[str, Any]:
        outputs = dict(old_outputs)
        outputs.update(new)
        if type_ == images.IMAGE:
            return images.build_image(self.api, new)[1]
        if type_ in swarm.TYPES:
            try:
                return self._swarm.update(type_, id_, new, old_outputs)
            except docker_errors.APIError as exc:
                raise ProviderError(_explain(exc)) from exc
        if type_ == CONTAINER:
            kwargs: dict[str, Any] = {}
            if old.get("restart") != new.get("restart") or old.get("maxRetryCount") != new.get("maxRetryCount"):
                restart = new.get("restart") or "no"
                kwargs["restart_policy"] = {"Name": "" if restart == "no" else restart,
                                            "MaximumRetryCount": int(new.get("maxRetryCount") or 0)}
            if old.get("memory") != new.get("memory") and new.get("memory"):
                kwargs["mem_limit"] = f"{int(new['memory'])}m"
            if old.get("memorySwap") != new.get("memorySwap") and new.get("memorySwap"):
                kwargs["memswap_limit"] = f"{int(new['memorySwap'])}m"
            if old.get("cpuShares") != new.get("cpuShares") and new.get("cpuShares"):
                kwargs["cpu_shares"] = int(new["cpuShares"])
            if kwargs:
                try:
                    self.api.update_container(id_, **kwargs)
                except docker_errors.APIError as exc:
                    raise ProviderError(_explain(exc)) from exc
        return outputs

    def delete(self, type_: str, id_: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        api = self.api
        try:
            if type_ == CONTAINER:
                api.remove_container(id_, force=True, v=bool(inputs.get("removeVolumes", True)))
            elif type_ == NETWORK:
                try:
                    self._remove_network(id_)
                except docker_errors.APIError as exc:
                    if exc.status_code == 404:
                        raise
                    info = api.inspect_network(id_)
                    attached = sorted(c.get("Name", cid) for cid, c in (info.get("Containers") or {}).items())
                    if not attached:
                        raise _stale_endpoint(str(inputs.get("name")), exc) from exc
                    raise ProviderError(
                        f"network {inputs.get('name')} still has containers attached "
                        f"({', '.join(attached)}); they are not managed by this stack: remove them first"
                    ) from exc
            elif type_ == VOLUME:
                api.remove_volume(id_, force=True)
            elif type_ == images.IMAGE:
                images.remove_name(api, str(inputs["imageName"]))
            elif type_ == images.TAG:
                images.remove_name(api, str(inputs["targetImage"]))
            elif type_ in swarm.TYPES:
                self._swarm.delete(type_, id_)
            elif type_ == REMOTE_IMAGE and not inputs.get("keepLocally"):
                try:
                    api.remove_image(outputs.get("imageId", inputs["name"]),
                                     force=bool(inputs.get("forceRemove")))
                except docker_errors.APIError as exc:
                    if exc.status_code != 409:  # in use by another container: keep it
                        raise
        except docker_errors.NotFound:
            return  # already gone: deleting is idempotent
        except docker_errors.APIError as exc:
            raise ProviderError(_explain(exc)) from exc

    def _remove_network(self, id_: str) -> None:
        """Remove a network; on a swarm overlay, wait out its load-balancer endpoint.

        After the last container of another engine leaves an overlay network, the
        manager drops the network's `lb-<name>` endpoint a moment later (seconds
        under load): until then the removal fails with "active endpoints".
        """
        def only_lb_left(exc: BaseException) -> bool:
            if not isinstance(exc, docker_errors.APIError) or exc.status_code == 404:
                return False
            attached = self.api.inspect_network(id_).get("Containers") or {}
            return all(k.startswith("lb-") for k in attached)  # real containers: say so

        Retrying(retry=retry_if_exception(only_lb_left), wait=wait_fixed(1.0),
                 stop=stop_after_delay(OVERLAY_SETTLE_SECONDS), reraise=True)(
            self.api.remove_network, id_)

    def read(self, type_: str, id_: str, inputs: dict[str, Any],
             outputs: dict[str, Any]) -> ReadResult | None:
        api = self.api
        try:
            if type_ in swarm.TYPES:
                return self._swarm.read(type_, id_, outputs)
            if type_ == CONTAINER:
                info = api.inspect_container(id_)
                state = info["State"]
                new_outputs = dict(outputs)
                new_outputs["networkDatas"] = _network_data(info)
                return ReadResult(new_outputs, {"running": bool(state.get("Running")),
                                                "status": state.get("Status", ""),
                                                "exitCode": state.get("ExitCode", 0),
                                                "networks": sorted(
                                                    (info.get("NetworkSettings") or {})
                                                    .get("Networks") or {})})
            if type_ == NETWORK:
                api.inspect_network(id_)
                return ReadResult(dict(outputs))
            if type_ == VOLUME:
                info = api.inspect_volume(id_)
                return ReadResult({**outputs, "mountpoint": info.get("Mountpoint", "")})
            if type_ in (images.IMAGE, images.TAG):
                name = inputs["imageName"] if type_ == images.IMAGE else inputs["targetImage"]
                found = images.read_image(api, str(name), outputs)
                return ReadResult(found) if found is not None else None
            if type_ == REMOTE_IMAGE:
                info = api.inspect_image(inputs["name"])
                digests = info.get("RepoDigests") or []
                return ReadResult({**outputs, "imageId": info["Id"],
                                   "repoDigest": digests[0] if digests else info["Id"],
                                   "id": f"{info['Id']}{inputs['name']}"})
        except docker_errors.NotFound:
            return None
        except docker_errors.APIError as exc:
            raise ProviderError(_explain(exc)) from exc
        return None

    def drift(self, type_: str, observed: dict[str, Any], inputs: dict[str, Any]) -> str:
        if type_ in swarm.TYPES:
            return swarm.Swarm.drift(type_, observed, inputs)
        if type_ == CONTAINER and inputs.get("mustRun", True) and observed.get("running") is False:
            return (f"container is not running (status {observed.get('status')}, "
                    f"exit code {observed.get('exitCode')})")
        if type_ == CONTAINER and "networks" in observed:
            wanted = {n["name"] for n in inputs.get("networksAdvanced") or []}
            missing = sorted(wanted - set(observed["networks"]))
            if missing:
                return f"container is not attached to network(s) {', '.join(missing)}"
        return ""

    def refreshes_on_diff(self, type_: str) -> bool:
        """An image is looked up again on every run: a rebuilt image updates its id."""
        return type_ == REMOTE_IMAGE

    def repairs_drift(self, type_: str) -> bool:
        """A service's update sends its whole declared spec: a hand-made scale is undone in
        place, its tasks kept. A stopped container or a lost attachment needs a new one."""
        return type_ == swarm.SERVICE


def _network_data(info: dict[str, Any]) -> list[dict[str, Any]]:
    networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
    return [
        {"networkName": net_name, "ipAddress": n.get("IPAddress", ""),
         "ipPrefixLength": n.get("IPPrefixLen", 0), "gateway": n.get("Gateway", ""),
         "macAddress": n.get("MacAddress", "")}
        for net_name, n in sorted(networks.items())
    ]


def _duration_ns(value: str | None) -> int | None:
    if not value:
        return None
    units = {"ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
    for suffix in ("ms", "s", "m", "h"):
        if value.endswith(suffix):
            return int(float(value[: -len(suffix)]) * units[suffix])
    return int(value)


def _stale_endpoint(name: str, exc: docker_errors.APIError) -> ProviderError:
    """A network no container is attached to, that Docker will not remove.

    Docker still counts an endpoint: a swarm overlay whose endpoints on other
    engines linger (after OVERLAY_SETTLE_SECONDS), or libnetwork's endpoint
    count left wrong (moby#42119; dockerd logs "Fixing inconsistent endpoint_cnt"
    when it restarts; seen here on bridges after parallel container removals).
    """
    return ProviderError(
        f"network {name}: {_explain(exc)}, and no container is attached: run the same "
        "command again; if it fails the same way, Docker kept a stale endpoint: restart "
        "that engine (for the one replicator started: `replicator engine stop`, then "
        "`replicator engine start`) and run it again")


def _explain(exc: docker_errors.APIError) -> str:
    detail = exc.explanation or str(exc)
    if isinstance(detail, bytes):
        detail = detail.decode(errors="replace")
    return f"Docker: {detail}"


def default_docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def _make(inputs: dict[str, Any], base_dir: Path | None) -> ResourceProvider:
    return DockerProvider(inputs.get("host") or default_docker_host(), base_dir=base_dir)


# The `docker` package for the engine's provider registry: one instance per Docker
# host; another host is another instance (its resources are replaced).
PLUGIN = ProviderPlugin(package="docker", factory=_make,
                        defaults=lambda: {"host": default_docker_host()}, identity=("host",))
