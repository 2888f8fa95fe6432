"""Fixtures for the engine's unit tests: a fake Docker provider behind `Deployment`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import HOST, Backend, FakeProvider, Harness

from replicator.engine.providers import registry
from replicator.engine.providers.docker import default_docker_host


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Backend:
    """Every provider of the `docker` package is a `FakeProvider` on this backend."""
    fake = Backend()
    monkeypatch.setenv("DOCKER_HOST", HOST)

    def make(inputs: dict[str, Any], base_dir: Path | None) -> FakeProvider:
        return FakeProvider(fake, inputs.get("host") or default_docker_host())

    monkeypatch.setitem(registry.PLUGINS, "docker", replace(registry.PLUGINS["docker"], factory=make))
    return fake


@pytest.fixture
def harness(tmp_path: Path, backend: Backend) -> Harness:
    return Harness(tmp_path / "work", backend)
