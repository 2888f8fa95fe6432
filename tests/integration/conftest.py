"""Fixtures for tests on the real Docker engine.

Every test project uses its own edition name (`it<hex>`), so its containers,
networks and volumes never collide with a real replica on the same engine;
clean-up removes only objects carrying that edition's label.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.integration.projects import TestProject, make_project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    from replicator.dockerd import ensure_engine

    ensure_engine(start=True)
    client = docker.from_env(timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def images(docker_client: docker.DockerClient) -> None:
    """The project's images, built once (a no-op when the recipes did not change)."""
    from replicator.images.build import build_images

    build_images(docker_client)


def _purge(client: docker.DockerClient, edition: str) -> None:
    label = f"replicator.edition={edition}"
    for c in client.api.containers(all=True, filters={"label": label}):
        try:
            client.api.remove_container(c["Id"], force=True, v=True)
        except docker.errors.NotFound:
            pass
    for n in client.networks.list(filters={"label": label}):
        n.remove()
    for v in client.volumes.list(filters={"label": label}):
        v.remove(force=True)


@pytest.fixture
def project_factory(tmp_path: Path, docker_client: docker.DockerClient, images: None,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    made: list[TestProject] = []

    def make(**kwargs: object) -> TestProject:
        edition = "it" + secrets.token_hex(3)
        used = [cfg["Subnet"] for n in docker_client.api.networks()
                for cfg in ((n.get("IPAM") or {}).get("Config") or []) if cfg.get("Subnet")]
        project = make_project(tmp_path / edition, REPO, edition, used, **kwargs)
        made.append(project)
        return project

    monkeypatch.setenv("REPLICATOR_SECRETS_KEY", "")
    yield make
    for project in made:
        _purge(docker_client, project.edition)
        shutil.rmtree(project.root, ignore_errors=True)


@pytest.fixture
def project(project_factory: object) -> TestProject:
    return project_factory()  # type: ignore[operator]


@pytest.fixture(autouse=True)
def _no_secrets_key_env() -> None:
    os.environ.pop("REPLICATOR_SECRETS_KEY", None)
