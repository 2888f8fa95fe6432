"""Runs that do not go to plan: a concurrent run, a run killed midway."""

from __future__ import annotations

import json
import os
import signal
import time

import docker
import pytest

from replicator.engine import Mode
from replicator.engine.events import RecordingSink
from tests.integration.projects import TestProject

pytestmark = pytest.mark.integration


def _wait_for(predicate, timeout: float = 60.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _lock_held(project: TestProject, stack: str) -> bool:
    path = project.runner().store(stack).lock_path
    try:
        return bool(json.loads(path.read_text() or "{}").get("pid"))
    except (OSError, ValueError):
        return False


def test_second_concurrent_up_is_refused_with_a_clear_message(project: TestProject) -> None:
    ctoc = project.stack("ctoc")
    first = project.popen("up", ctoc, "--yes", "--parallel", "1")
    try:
        assert _wait_for(lambda: _lock_held(project, ctoc)), "the first up never took the lock"
        second = project.cli("up", ctoc, "--yes")
        assert second.returncode == 4, second.stderr
        message = " ".join(second.stderr.split())  # rich wraps long lines (the state path)
        assert f"stack {ctoc} is locked by pid {first.pid}" in message
        assert "replicator up" in message
    finally:
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    # Once the first run is over, the lock is free again.
    assert project.cli("up", ctoc, "--yes").returncode == 0


def test_up_killed_midway_converges_on_the_next_up(project: TestProject,
                                                   docker_client: docker.DockerClient) -> None:
    assert project.cli("up", project.stack("ctoc"), "--yes").returncode == 0
    itl = project.stack("itl")
    label = {"label": f"replicator.stack={itl}"}

    def count() -> int:
        # The low-level list: no per-container inspect that races with the kill
        # (the engine drops a container whose create request was cut off).
        return len(docker_client.api.containers(all=True, filters=label))

    run = project.popen("up", itl, "--yes", "--parallel", "1")
    assert _wait_for(lambda: count() >= 1, interval=0.01), "the up never created containers"
    os.killpg(run.pid, signal.SIGKILL)  # the CLI and the program it started
    assert run.wait(timeout=30) == -signal.SIGKILL
    time.sleep(0.5)
    created_before = count()
    killed_state = project.runner().load_state(itl)
    recorded = [r for r in killed_state.resources if r.type == "docker:index/container:Container"]

    result = project.runner().run(itl, Mode.UP, RecordingSink())
    assert result.succeeded, result.error
    containers = docker_client.containers.list(all=True, filters=label)
    names = [c.name for c in containers]
    assert len(names) == len(set(names))
    assert all(c.status == "running" for c in containers)
    expected = {f"{project.edition}-itl-{s}" for s in (
        "accreditation-web-1", "accreditation-app-1", "accreditation-db-1",
        "odf-distributor-app-1", "wrs-web-1", "wrs-app-1")}
    assert set(names) == expected
    # The kill really was midway: the state had not recorded every container.
    assert len(recorded) < len(expected) or killed_state.pending
    for net in (f"{project.edition}-itl-lan",):
        assert len(docker_client.networks.list(names=[net])) == 1
    state = project.runner().load_state(itl)
    assert state.pending == []
    assert result.counts.get("create", 0) >= len(expected) - len(recorded)
    assert created_before >= 1
    # And a further up has nothing left to do.
    again = project.runner().run(itl, Mode.UP, RecordingSink())
    assert again.changes == 0, again.counts


def test_lost_state_converges_on_the_objects_left_running(project: TestProject,
                                                          docker_client: docker.DockerClient) -> None:
    """A fresh clone (no state) next to a replica deployed from elsewhere: no duplicates."""
    import shutil

    runner = project.runner()
    for site in ("ctoc", "itl", "toc"):
        assert runner.run(project.stack(site), Mode.UP, RecordingSink()).succeeded
    label = {"label": f"replicator.edition={project.edition}"}
    before = sorted(c["Names"][0] for c in docker_client.api.containers(all=True, filters=label))
    shutil.rmtree(project.runner().store(project.stack("itl")).dir)  # every stack's state

    runner = project.runner()
    for site in ("ctoc", "itl", "toc"):
        result = runner.run(project.stack(site), Mode.UP, RecordingSink())
        assert result.succeeded, result.error
    after = sorted(c["Names"][0] for c in docker_client.api.containers(all=True, filters=label))
    assert after == before
    networks = [n["Name"] for n in docker_client.api.networks(filters=label)]
    assert len(networks) == len(set(networks))
    assert all(c["State"] == "running" for c in docker_client.api.containers(all=True, filters=label))
