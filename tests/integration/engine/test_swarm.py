"""pulumi-docker's Swarm resources (Service, Secret, ServiceConfig) through the embedded engine.

A stock-style program (`programs/swarm`) runs against a swarm manager of its own:
one simulated host (replicator.hosts: a dockerd in a network namespace, its own
data-root, socket and pid), the base image loaded into it from the main engine
(never pulled), `swarm init` there only. The shared engine never joins a swarm.
Then up, a no-op up, a scale-up that updates the service in place, a new secret value
(a new secret, the service updated to it, the old secret deleted) and destroy,
leaving no service, secret, config or network; the secret's value never reaches
the state file.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.integration.engine.test_any_project import Workspace, ws  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@pytest.fixture(scope="module")
def swarm_manager(tmp_path_factory: pytest.TempPathFactory,
                  docker_client: docker.DockerClient, images: None) -> Iterator[str]:
    """A one-host swarm (a manager) in its own namespace; its docker host URL."""
    from replicator.hosts import daemon, netns
    from replicator.hosts import swarm as host_swarm
    from replicator.hosts.lifecycle import hosts_down
    from replicator.hosts.model import plan_hosts, save_record
    from replicator.images.recipes import deployed_image_ref

    root = tmp_path_factory.mktemp("swarmhost")
    edition = "sw" + secrets.token_hex(3)
    record = plan_hosts(root, edition, ["swm"], 1, ["swm"])
    host = record.hosts[0]
    save_record(root, record)  # before anything exists: hosts_down follows it
    try:
        netns.ensure_bridge(record.lan_namespace)
        netns.ensure_namespace(host.namespace)
        netns.ensure_host_link(record.lan_namespace, host.namespace, host.veth_lan,
                               host.address, int(record.subnet.rsplit("/", 1)[1]))
        host.pid = daemon.start(host)
        save_record(root, record)
        base = deployed_image_ref("base")
        saved = subprocess.run(["docker", "save", base], capture_output=True, check=True,
                               timeout=300).stdout
        subprocess.run(["docker", "-H", host.docker_host, "load", "-q"], input=saved,
                       capture_output=True, check=True, timeout=300)
        host_swarm.form(record)
        yield host.docker_host
    finally:
        hosts_down(root, edition)
    assert not Path(host.socket).exists()


def _engine(host: str) -> docker.DockerClient:
    return docker.DockerClient(base_url=host, timeout=60)


def _task_containers(client: docker.DockerClient, service: str) -> list[str]:
    return sorted(c.id for c in client.containers.list(
        filters={"label": f"com.docker.swarm.service.name={service}"}))


def _swarm_objects(client: docker.DockerClient, owner: str) -> list[str]:
    label = {"label": f"owner={owner}"}
    return ([s.name for s in client.services.list(filters=label)]
            + [s.name for s in client.secrets.list(filters=label)]
            + [c.name for c in client.configs.list(filters=label)]
            + [n.name for n in client.networks.list(filters=label)]
            + [c.name for c in client.containers.list(all=True, filters=label)])


def test_a_service_with_a_secret_and_a_config_on_a_swarm_manager(
        ws: Workspace, swarm_manager: str) -> None:  # noqa: F811 - ws is a fixture
    from replicator.images.recipes import deployed_image_ref

    started = time.monotonic()
    path = ws.prepare("swarm", **{"docker:host": swarm_manager,
                                  "image": deployed_image_ref("base")})
    token = f"tok-{secrets.token_hex(8)}"
    ws.cli("config", "set", "apiToken", token, "--secret", "--stack", "dev", "--cwd", str(path))

    assert ws.up(path) == {"create": 5}
    out = ws.outputs(path)
    client = _engine(swarm_manager)
    service = client.services.get(str(out["serviceName"]))
    spec = service.attrs["Spec"]
    assert spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"].startswith("sha256:"), \
        "the image is named by id: the swarm never tries a registry"
    assert [p["PublishedPort"] for p in service.attrs["Endpoint"]["Ports"]] == [18080]
    containers = _task_containers(client, str(out["serviceName"]))
    assert len(containers) == 2, "converge_config waited for both tasks"
    task = client.containers.get(containers[0])
    assert task.exec_run(["cat", "/run/secrets/token"]).output.decode() == token
    assert json.loads(task.exec_run(["cat", "/etc/app/settings.json"]).output) == \
        {"greeting": "hello"}
    assert str(out["networkName"]) in task.attrs["NetworkSettings"]["Networks"]

    state = (ws.backend / ".pulumi" / "stacks" / "swarm" / "dev.json").read_text()
    encoded = base64.b64encode(token.encode()).decode()
    assert token not in state and encoded not in state, "the secret is encrypted in the state"
    secret_record = next(r for r in json.loads(state)["checkpoint"]["latest"]["resources"]
                         if r["type"] == "docker:index/secret:Secret")
    assert "ciphertext" in json.dumps(secret_record["inputs"]["data"])
    assert "ciphertext" in json.dumps(secret_record["outputs"]["data"])

    assert ws.up(path) == {"same": 4}, "a second up changes nothing"

    version = service.attrs["Version"]["Index"]
    ws.cli("config", "set", "replicas", "3", "--stack", "dev", "--cwd", str(path))
    assert ws.up(path) == {"update": 1, "same": 3}
    service.reload()
    assert service.id == client.services.get(str(out["serviceName"])).id
    assert service.attrs["Version"]["Index"] > version
    assert service.attrs["Spec"]["Mode"] == {"Replicated": {"Replicas": 3}}
    now = _task_containers(client, str(out["serviceName"]))
    assert len(now) == 3 and set(containers) <= set(now), "scaled in place, no task replaced"

    # A new secret value: a new secret (Swarm's are immutable; auto-named, so created before
    # the old one goes), the service updated in place to use it, then the old secret deleted.
    old_secret = str(out["secretName"])
    rotated = f"tok-{secrets.token_hex(8)}"
    ws.cli("config", "set", "apiToken", rotated, "--secret", "--stack", "dev", "--cwd", str(path))
    # (the engine counts the old secret's deletion after the replacement as its own step)
    assert ws.up(path) == {"replace": 1, "update": 1, "same": 2, "delete": 1}
    out = ws.outputs(path)
    assert out["secretName"] != old_secret
    assert [s.name for s in client.secrets.list(filters={"label": f"owner={ws.owner}"})] == \
        [out["secretName"]]
    task = client.containers.get(_task_containers(client, str(out["serviceName"]))[0])
    assert task.exec_run(["cat", "/run/secrets/token"]).output.decode() == rotated
    state = (ws.backend / ".pulumi" / "stacks" / "swarm" / "dev.json").read_text()
    assert rotated not in state and base64.b64encode(rotated.encode()).decode() not in state

    # Scaled by hand, seen by refresh: an update puts the declared 3 back (no replacement).
    service = client.services.get(str(out["serviceName"]))
    service_id = service.id
    assert service.scale(5)
    ws.cli("refresh", "--cwd", str(path), "dev", "--yes")
    assert ws.up(path) == {"update": 1, "same": 3}
    service = client.services.get(str(out["serviceName"]))
    assert service.id == service_id and service.attrs["Spec"]["Mode"] == {
        "Replicated": {"Replicas": 3}}

    ws.cli("down", "--cwd", str(path), "dev", "--yes")
    assert _swarm_objects(client, ws.owner) == []
    print(f"swarm lifecycle: {time.monotonic() - started:.1f} s")


def test_swarm_resources_on_an_engine_outside_a_swarm_fail_naming_the_fix(
        ws: Workspace, docker_client: docker.DockerClient) -> None:  # noqa: F811
    if (docker_client.info().get("Swarm") or {}).get("LocalNodeState") == "active":
        pytest.skip("the main engine is in a swarm")
    path = ws.prepare("swarm")
    ws.cli("config", "set", "apiToken", "x", "--secret", "--stack", "dev", "--cwd", str(path))
    failed = ws.cli("preview", "--cwd", str(path), "dev", expect=1)
    text = failed.stdout + failed.stderr
    assert "needs a Docker Swarm manager" in text and "docker swarm init" in text
    assert "secret token-" in text and "config settings-" in text, "each resource is named"
    assert "Traceback" not in text
