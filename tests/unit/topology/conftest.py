"""Fixtures for the topology tests: the real project, and a small valid
topology that the bad-input tests break one line at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from replicator.topology import Topology, TopologyError, load_edition, load_topology

PROJECT_ROOT = Path(__file__).resolve().parents[3]

# Small but complete: two sites, a cloud, two venues, a central service with
# two tiers and a per-venue service. Tests replace one unique snippet in it.
MINIMAL = """\
edition: {code: demo2030, name: Demo Games, competition_code: OG2030, host_city: Lyon, country: FR, year: 2030}
sources:
  demo-source: {title: Demo source, publisher: Nobody, date: 2020-01-01}
  other-source: {title: Other source, publisher: Nobody}
wan: {owner: hub, supernet: 10.250.0.0/16}
sites:
  lab: {title: Lab, location: lab-site}
  hub: {title: Hub, location: hub-site}
locations:
  - {name: lab-site, kind: permanent-site, city: Madrid, country: ES}
  - {name: hub-site, kind: permanent-site, city: Barcelona, country: ES}
  - {name: cloud, kind: cloud-dc, city: Paris, country: FR}
  - {name: venue-aaa, kind: venue, code: AAA, title: Arena A, city: Lyon, country: FR, disciplines: [SWM]}
  - {name: venue-bbb, kind: venue, code: BBB, title: Arena B, city: Lyon, country: FR, disciplines: [ATH]}
suites:
  - name: core
    title: Core
    services:
      - name: api
        title: API
        site: lab
        version: "1.0"
        tiers:
          - kind: app
            instances: 2
            ports:
              - {port: 8080, protocol: http}
          - kind: db
            ports:
              - {port: 5432, protocol: postgres}
        production:
          location: cloud
          physical_servers: {value: 2, modelled: true, basis: a guess}
      - name: results
        title: Results
        site: hub
        version: "1.0"
        per_venue: true
        tiers:
          - kind: app
            ports:
              - {port: 8080, protocol: http}
        production:
          location: venue
          physical_servers: {value: 1, source: demo-source}
links:
  - {from: api/app, to: api/db, port: 5432, protocol: postgres, purpose: records}
  - {from: results/app, to: api/app, port: 8080, protocol: http, purpose: results upload}
"""


def edit(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced (fails if not exactly one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_no(text: str, needle: str) -> int:
    """1-based line of the only line of `text` containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]


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
