"""A Docker engine that stops answering: exit 3 within the bound, naming engine and call.

The engine is a fake on a loopback Unix socket (tests/inputs/fake_docker.py):
it answers version negotiation and ping, then holds every other request open
without a reply, like a dockerd whose network calls hang. With
REPLICATOR_DOCKER_TIMEOUT=2 each command must give up on its own.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.inputs.fake_docker import FakeDocker
from tests.integration.projects import make_project

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 2
BOUND = 90  # seconds the whole command may take: a start, the program, one timed-out call


@pytest.mark.parametrize("command", ["up", "status"])
def test_hanging_engine_is_exit_3_naming_engine_and_call(tmp_path: Path, command: str) -> None:
    edition = f"it{secrets.token_hex(4)}"
    project = make_project(tmp_path / "project", REPO, edition)
    with FakeDocker(tmp_path / "hang.sock", answer=r"^/(version|_ping|info)$") as fake:
        for stack in (project.root / "stacks").glob("Pulumi.*.yaml"):
            text = re.sub(r"(replicator:dockerHost: ).*", rf"\g<1>{fake.url}", stack.read_text())
            stack.write_text(text)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATOR_", "DOCKER_"))}
        env.update(project.env(), DOCKER_HOST=fake.url, REPLICATOR_DOCKER_TIMEOUT=str(TIMEOUT),
                   COLUMNS="200")
        argv = [command, "--edition", edition] + (["--yes"] if command == "up" else [])
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "replicator", *argv], cwd=project.root,
                              env=env, capture_output=True, text=True, timeout=BOUND,
                              stdin=subprocess.DEVNULL, check=False)
        seconds = time.monotonic() - started
        hung = [r for r in fake.requests if not re.search(r" /(v[0-9.]+/)?(version|_ping|info)", r)]
    text = proc.stdout + proc.stderr
    assert proc.returncode == 3, f"exit {proc.returncode} after {seconds:.1f} s\n{text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]
    assert hung, "no call reached the fake engine beyond negotiation"
    message = re.search(r"did not answer (GET|POST|PUT|DELETE) (/\S+) within 2 s", text)
    assert message, text[-3000:]
    assert fake.url in text and "fix:" in text and "REPLICATOR_DOCKER_TIMEOUT" in text
