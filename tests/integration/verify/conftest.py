"""A small three-site replica shared by the verifier's integration tests (one per module).

Building a replica takes a while, so each test module builds one (`verified_project`)
and every drift test puts back what it changed (`Drift` does the undo even when
the test fails). Clean-up removes only the Docker objects carrying the test
edition's label (`it<hex>`), like tests/integration/conftest.py does.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from replicator.engine import Mode
from replicator.engine.events import RecordingSink
from tests.integration.conftest import REPO, _purge
from tests.integration.projects import TestProject, make_project

SITES_IN_ORDER = ("ctoc", "itl", "toc")  # ctoc owns the inter-site circuits


def up_all(project: TestProject) -> None:
    runner = project.runner()
    for site in SITES_IN_ORDER:
        result = runner.run(project.stack(site), Mode.UP, RecordingSink())
        assert result.succeeded, f"{site}: {result.error}"


def new_project(root: Path, client: docker.DockerClient,
                maker: Callable[..., TestProject] = make_project) -> TestProject:
    edition = "it" + secrets.token_hex(3)
    used = [cfg["Subnet"] for n in client.api.networks()
            for cfg in ((n.get("IPAM") or {}).get("Config") or []) if cfg.get("Subnet")]
    return maker(root / edition, REPO, edition, used)


@pytest.fixture(scope="module")
def verified_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                     docker_client: docker.DockerClient, images: None) -> Iterator[TestProject]:
    """The test topology (tests/integration/projects.py), deployed: ctoc, itl, toc.

    A test module may set `MAKE_PROJECT` to another builder with make_project's
    signature (e.g. tests/integration/games.py's `make_games_project`).
    """
    root = tmp_path_factory.mktemp("verify")
    project = new_project(root, docker_client,
                          getattr(request.module, "MAKE_PROJECT", make_project))
    mp = pytest.MonkeyPatch()
    mp.delenv("REPLICATOR_SECRETS_KEY", raising=False)
    try:
        up_all(project)
        yield project
    finally:
        mp.undo()
        _purge(docker_client, project.edition)
        shutil.rmtree(project.root, ignore_errors=True)


class Drift:
    """Changes made to the replica by hand, undone in reverse order at the end of a test."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._undo: list[Callable[[], None]] = []

    def on_undo(self, fn: Callable[[], None]) -> None:
        self._undo.append(fn)

    def undo(self) -> None:
        while self._undo:
            fn = self._undo.pop()
            try:
                fn()
            except docker.errors.APIError:
                pass


@pytest.fixture
def drift(docker_client: docker.DockerClient) -> Iterator[Drift]:
    d = Drift(docker_client)
    yield d
    d.undo()
