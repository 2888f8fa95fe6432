"""One deployed and configured games edition for the whole package (it takes
minutes): the configure tests, then the campaign smoke run, share it.

CI starts from nothing: the fixture builds the images (a no-op when they are
current), deploys the three stacks of a fresh `it<hex>` edition with its own
subnets, configures it with the idempotence gate, and removes everything
carrying that edition's label at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.integration.conftest import REPO, _purge
from tests.integration.games import make_games_project
from tests.integration.projects import TestProject


@dataclass
class Games:
    project: TestProject
    configure: dict[str, Any]  # `replicator configure --json` of the first configure
    configure_seconds: float
    client: docker.DockerClient

    @property
    def edition(self) -> str:
        return self.project.edition

    def container(self, service: str, tier: str = "app", site: str | None = None) -> str:
        site = site or ("toc" if service.startswith("ovr-") else
                        "ctoc" if service == "monitoring" else "itl")
        return f"{self.edition}-{site}-{service}-{tier}-1"

    def exec(self, container: str, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "exec", container, *cmd], capture_output=True,
                              text=True, timeout=timeout, check=False)

    def http(self, container: str, method: str, url: str, body: bytes | None = None,
             key: str | None = None, timeout: float = 120) -> tuple[int, bytes]:
        """An HTTP request made inside a container (python3 in every image)."""
        script = (
            "import sys,urllib.request,urllib.error\n"
            "m,u,k=sys.argv[1:4]\n"
            "d=sys.stdin.buffer.read() if m!='GET' else None\n"
            "r=urllib.request.Request(u,data=d,method=m)\n"
            "r.add_header('Content-Type','application/json' if d and d[:1] in b'{[' "
            "else 'application/xml')\n"
            "k!='-' and r.add_header('X-API-KEY',k)\n"
            "try:\n"
            f"  x=urllib.request.urlopen(r,timeout={int(timeout)}); s,b=x.status,x.read()\n"
            "except urllib.error.HTTPError as e: s,b=e.code,e.read()\n"
            "sys.stdout.write('%d\\n'%s); sys.stdout.flush(); sys.stdout.buffer.write(b)\n"
        )
        proc = subprocess.run(["docker", "exec", "-i", container, "python3", "-c", script,
                               method, url, key or "-"], input=body or b"",
                              capture_output=True, timeout=timeout + 30, check=False)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        head, _, rest = proc.stdout.partition(b"\n")
        return int(head), rest

    def json(self, container: str, url: str) -> Any:
        status, body = self.http(container, "GET", url)
        assert status == 200, (url, status, body[:500])
        return json.loads(body)

    def key(self) -> str:
        return self.project.cli("odf", "key", "--edition", self.edition, check=True).stdout.strip()


def _used_subnets(client: docker.DockerClient) -> list[str]:
    return [cfg["Subnet"] for n in client.api.networks()
            for cfg in ((n.get("IPAM") or {}).get("Config") or []) if cfg.get("Subnet")]


@pytest.fixture(scope="package")
def games(tmp_path_factory: pytest.TempPathFactory, docker_client: docker.DockerClient,
          images: None) -> Iterator[Games]:
    os.environ.pop("REPLICATOR_SECRETS_KEY", None)  # the project keeps its own key file
    edition = "it" + secrets.token_hex(3)
    root = tmp_path_factory.mktemp("games") / edition
    project = make_games_project(root, REPO, edition, _used_subnets(docker_client))
    try:
        project.cli("up", "--edition", edition, "--yes", timeout=900, check=True)
        started = time.monotonic()
        proc = project.cli("configure", "--edition", edition, "--idempotence", "--json",
                           timeout=1800)
        seconds = time.monotonic() - started
        assert proc.returncode == 0, f"configure failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"
        yield Games(project=project, configure=json.loads(proc.stdout),
                    configure_seconds=seconds, client=docker_client)
    finally:
        _purge(docker_client, edition)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def repo() -> Path:
    return REPO
