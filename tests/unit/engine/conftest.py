"""Fixtures for the engine's unit tests: a fake Docker provider behind `Deployment`."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_fakes import HOST, Backend, FakeProvider, Harness


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Every `DockerProvider` the deployment makes is a `FakeProvider` on this backend."""
    fake = Backend()
    monkeypatch.setenv("DOCKER_HOST", HOST)
    monkeypatch.setattr("replicator.engine.deployment.DockerProvider",
                        lambda host, **kw: FakeProvider(fake, host))
    return fake


@pytest.fixture
def harness(tmp_path: Path, backend: Backend) -> Harness:
    return Harness(tmp_path / "work", backend)
