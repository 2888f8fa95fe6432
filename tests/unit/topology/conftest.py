"""Fixtures for the topology tests: the real project, and a small valid
topology that the bad-input tests break one line at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from topology_text import MINIMAL

from replicator.topology import Topology, TopologyError, load_edition, load_topology

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def paris(project_root: Path) -> Topology:
    return load_edition(project_root, "paris2024")


@pytest.fixture
def minimal(tmp_path: Path) -> Topology:
    path = tmp_path / "demo2030.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    return load_topology(path)


@pytest.fixture
def load_text(tmp_path: Path) -> Callable[[str], Topology]:
    def load(text: str, name: str = "bad.yaml") -> Topology:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return load_topology(path)

    return load


@pytest.fixture
def topology_error(tmp_path: Path) -> Callable[[str], TopologyError]:
    """Load `text` from tmp_path/bad.yaml and return the TopologyError it raises."""

    def fail(text: str) -> TopologyError:
        path = tmp_path / "bad.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(TopologyError) as info:
            load_topology(path)
        assert info.value.location.file == path
        return info.value

    return fail
