"""Stock-style pulumi-docker programs, run with `replicator ... --cwd DIR` on the real engine.

The programs in `programs/` are written like pulumi-docker's examples (no
names given, config in Pulumi.yaml, a StackReference between two projects).
Each goes through up, a no-op up, refresh after a change made by hand, and
destroy; nothing may be left. Every object carries the label `owner=<test id>`,
and only objects with that label are cleaned up.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

PROGRAMS = Path(__file__).resolve().parent / "programs"
HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


@dataclass
class Workspace:
    root: Path
    owner: str
    backend: Path

    def project(self, name: str) -> Path:
        target = self.root / name
        if not target.exists():
            shutil.copytree(PROGRAMS / name, target)
        return target

    def cli(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{self.backend}"}
        env.pop("REPLICATOR_PROJECT", None)
        proc = subprocess.run([sys.executable, "-m", "replicator", *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL, check=False)
        assert proc.returncode == expect, (f"replicator {' '.join(args)} exited {proc.returncode}"
                                           f"\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def prepare(self, name: str, stack: str = "dev", **config: str) -> Path:
        """The project in the workspace, with the owner label and `config` set for `stack`."""
        path = self.project(name)
        values = {"owner": self.owner, "docker:host": HOST, **config}
        (path / f"Pulumi.{stack}.yaml").write_text(json.dumps({"config": values}))
        return path

    def outputs(self, path: Path, stack: str = "dev", *extra: str) -> dict[str, object]:
        return json.loads(self.cli("outputs", "--cwd", str(path), stack, "--json", *extra).stdout)

    def up(self, path: Path, stack: str = "dev") -> dict[str, object]:
        result = json.loads(self.cli("up", "--cwd", str(path), stack, "--yes", "--json").stdout)
        return result[0]["counts"]


def _owned(client: docker.DockerClient, owner: str) -> list[str]:
    label = {"label": f"owner={owner}"}
    return ([c["Names"][0] for c in client.api.containers(all=True, filters=label)]
            + [n.name for n in client.networks.list(filters=label)]
            + [v.name for v in client.volumes.list(filters=label)])


def _purge(client: docker.DockerClient, owner: str) -> None:
    label = {"label": f"owner={owner}"}
    for c in client.api.containers(all=True, filters=label):
        client.api.remove_container(c["Id"], force=True, v=True)
    for n in client.networks.list(filters=label):
        n.remove()
    for v in client.volumes.list(filters=label):
        v.remove(force=True)


@pytest.fixture
def ws(tmp_path: Path, docker_client: docker.DockerClient, images: None) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path, f"it{secrets.token_hex(4)}", tmp_path / "backend")
    try:
        yield workspace
    finally:
        _purge(docker_client, workspace.owner)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_auto_named_container_with_project_config(ws: Workspace,
                                                    docker_client: docker.DockerClient) -> None:
    port = _free_port()
    web = ws.prepare("web", port=str(port))
    assert ws.up(web) == {"create": 5}
    out = ws.outputs(web)
    name = str(out["containerName"])
    assert name.startswith("web-") and len(name) == len("web-") + 7
    assert out["url"] == f"http://127.0.0.1:{port}/"
    assert out["summary"] == f"{name} on {str(out['names']).split(',')[2]}"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        assert response.status == 200, "the port follows the program, on loopback"
    assert ws.up(web) == {"same": 4}, "a second up changes nothing and keeps the names"
    assert ws.outputs(web)["containerName"] == name

    docker_client.api.stop(name, timeout=1)
    ws.cli("refresh", "--cwd", str(web), "dev", "--yes")
    counts = ws.up(web)
    assert counts.get("replace") == 1, counts
    assert docker_client.api.inspect_container(ws.outputs(web)["containerName"])["State"]["Running"]

    ws.cli("down", "--cwd", str(web), "dev", "--yes")
    assert _owned(docker_client, ws.owner) == []


def test_a_secret_config_value_and_a_secret_output(ws: Workspace,
                                                  docker_client: docker.DockerClient) -> None:
    vault = ws.prepare("vault")
    missing = ws.cli("up", "--cwd", str(vault), "dev", "--yes", expect=2)
    assert "dbPassword" in missing.stderr and "config set" in missing.stderr
    assert "Traceback" not in missing.stderr
    password = f"pw-{secrets.token_hex(8)}"
    ws.cli("config", "set", "dbPassword", password, "--secret", "--stack", "dev",
           "--cwd", str(vault))
    assert password not in (vault / "Pulumi.dev.yaml").read_text()
    required_by_program = ws.cli("up", "--cwd", str(vault), "dev", "--yes", expect=2)
    assert "vault:dbUser" in required_by_program.stderr
    ws.cli("config", "set", "dbUser", "app", "--stack", "dev", "--cwd", str(vault))

    assert ws.up(vault) == {"create": 1}
    assert ws.outputs(vault)["connection"] == "[secret]"
    revealed = ws.outputs(vault, "dev", "--show-secrets")
    assert revealed["connection"] == f"postgres://app:{password}@{revealed['dbName']}:5432/app"
    state = (ws.backend / ".pulumi" / "stacks" / "vault" / "dev.json").read_text()
    assert password not in state, "secrets are encrypted in the state"
    env = docker_client.api.inspect_container(revealed["dbName"])["Config"]["Env"]
    assert f"DB_PASSWORD={password}" in env
    assert ws.up(vault) == {"same": 1}

    docker_client.api.remove_container(revealed["dbName"], force=True)
    ws.cli("refresh", "--cwd", str(vault), "dev", "--yes")
    assert ws.up(vault) == {"create": 1}
    ws.cli("down", "--cwd", str(vault), "dev", "--yes")
    assert _owned(docker_client, ws.owner) == []


def test_two_projects_linked_by_a_stack_reference(ws: Workspace,
                                                  docker_client: docker.DockerClient) -> None:
    net = ws.prepare("net")
    app = ws.prepare("app")
    refused = ws.cli("up", "--cwd", str(app), "dev", "--yes", expect=1)
    assert "organization/net/dev" in refused.stdout + refused.stderr

    assert ws.up(net) == {"create": 2}, "the stack and the network"
    assert set(ws.up(app)) == {"create"}
    network = ws.outputs(net)["networkName"]
    container = ws.outputs(app)["container"]
    assert ws.outputs(app)["network"] == network
    attached = docker_client.api.inspect_container(container)["NetworkSettings"]["Networks"]
    assert list(attached) == [network]
    assert ws.up(app) == {"same": 1}

    docker_client.api.remove_container(container, force=True)
    ws.cli("refresh", "--cwd", str(app), "dev", "--yes")
    assert ws.up(app) == {"create": 1}
    ws.cli("down", "--cwd", str(app), "dev", "--yes")
    ws.cli("down", "--cwd", str(net), "dev", "--yes")
    assert _owned(docker_client, ws.owner) == []


def test_a_local_image_build_a_tag_and_a_container_of_it(ws: Workspace,
                                                         docker_client: docker.DockerClient) -> None:
    image = f"{ws.owner}/site:latest"
    build = ws.prepare("imagebuild", imageName=image)
    try:
        assert ws.up(build) == {"create": 4}, "stack, image, tag, container"
        out = ws.outputs(build)
        assert out["image"] == image
        stable = docker_client.api.inspect_image(f"{ws.owner}/site:stable")
        assert stable["Id"] == docker_client.api.inspect_image(image)["Id"]
        assert docker_client.api.inspect_container(out["container"])["State"]["Running"]
        assert ws.up(build) == {"same": 3}, "an unchanged context does not rebuild"

        (build / "app" / "index.html").write_text("<h1>changed</h1>\n")
        assert ws.up(build).get("update") == 1, "a changed context rebuilds the image"

        docker_client.api.remove_container(out["container"], force=True)
        ws.cli("refresh", "--cwd", str(build), "dev", "--yes")
        assert ws.up(build).get("create") == 1
        ws.cli("down", "--cwd", str(build), "dev", "--yes")
        assert _owned(docker_client, ws.owner) == []
        assert docker_client.api.images(name=f"{ws.owner}/site") == [], "both names removed"
    finally:
        for ref in (image, f"{ws.owner}/site:stable"):
            try:
                docker_client.api.remove_image(ref, force=True)
            except docker.errors.NotFound:
                pass


def test_an_unsupported_type_fails_at_preview_naming_type_and_resource(ws: Workspace) -> None:
    project = ws.project("web")
    (project / "__main__.py").write_text(
        "import pulumi_docker as docker\n"
        "docker.Plugin('thing', name='vieux/sshfs:latest')\n")
    proc = ws.cli("preview", "--cwd", str(project), "dev", expect=1)
    text = proc.stdout + proc.stderr
    assert "docker:index/plugin:Plugin" in text and "thing" in text
    assert "Traceback" not in text
