"""`replicator report` on the command line: errors and exit codes, before any measurement."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.projects import make_project

REPO = Path(__file__).resolve().parents[3]


def cli(*args: str, root: Path = REPO, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, REPLICATOR_PROJECT=str(root),
               REPLICATOR_HOME=str(home or root / ".replicator"), NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "replicator", "report", *args], check=False,
                          cwd=root, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def text(proc: subprocess.CompletedProcess[str]) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(proc.stderr.split())


@pytest.fixture
def fresh_project(tmp_path: Path) -> Path:
    """A project whose stacks were never deployed."""
    project = make_project(tmp_path / "proj", REPO, "ut" + secrets.token_hex(3))
    return project.root


def test_unknown_parameter_exits_2_naming_it(fresh_project: Path) -> None:
    edition = next((fresh_project / "stacks" / "topology").glob("*.yaml")).stem
    proc = cli("--edition", edition, "--set", "server.idle=90", root=fresh_project)
    assert proc.returncode == 2, proc.stderr
    assert "unknown parameter 'server.idle'" in text(proc)
    assert "did you mean 'server.idle_w'" in text(proc)


def test_invalid_parameter_file_exits_2_naming_file_and_key(fresh_project: Path,
                                                            tmp_path: Path) -> None:
    edition = next((fresh_project / "stacks" / "topology").glob("*.yaml")).stem
    params = tmp_path / "params.yaml"
    params.write_text("production:\n  pue: 0.5\n")
    proc = cli("--edition", edition, "--params", str(params), root=fresh_project)
    assert proc.returncode == 2, proc.stderr
    assert f"{params}:2" in text(proc)
    assert "'production.pue'" in text(proc)
    assert "fix: set production.pue to a number from 1 to 5" in text(proc)


def test_missing_parameter_file_exits_2(fresh_project: Path, tmp_path: Path) -> None:
    edition = next((fresh_project / "stacks" / "topology").glob("*.yaml")).stem
    proc = cli("--edition", edition, "--params", str(tmp_path / "nope.toml"), root=fresh_project)
    assert proc.returncode == 2
    assert "the parameters file does not exist" in text(proc)


def test_no_target_exits_2(fresh_project: Path) -> None:
    proc = cli(root=fresh_project)
    assert proc.returncode == 2
    assert "which stack?" in text(proc)


def test_unknown_stack_exits_2(fresh_project: Path) -> None:
    proc = cli("nosuch-itl", root=fresh_project)
    assert proc.returncode == 2
    assert "no stack named 'nosuch-itl'" in text(proc)


def test_not_deployed_says_so(fresh_project: Path, tmp_path: Path) -> None:
    edition = next((fresh_project / "stacks" / "topology").glob("*.yaml")).stem
    proc = cli("--edition", edition, "--output", str(tmp_path / "out"), root=fresh_project)
    assert proc.returncode == 1, proc.stderr
    assert "the replica has not been deployed" in text(proc)
    assert f"replicator up --edition {edition} --yes" in text(proc)
    assert not (tmp_path / "out").exists()
    assert not (fresh_project / ".replicator").exists(), "a report must not create run-time files"
