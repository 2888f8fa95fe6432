"""Fixtures for the configure tests: the real paris2024 model and fake stack outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replicator.topology import Topology, load_edition

PROJECT_ROOT = Path(__file__).resolve().parents[3]
VENUES = ["AQC", "STA", "BER"]
LANS = {"itl": "10.241.1.0/24", "ctoc": "10.241.2.0/24", "toc": "10.241.3.0/24"}


def fake_outputs(topology: Topology, site: str, venues: list[str] | None = None,
                 docker_host: str = "unix:///var/run/docker.sock") -> dict[str, Any]:
    """What infra/__main__.py exports for a site, built from the model (no Docker)."""
    edition = topology.edition.code
    deployed = topology.deployed_services(site=site, venues=venues)
    services, containers = {}, {}
    for d in deployed:
        tiers = {}
        for tier in d.tiers:
            names = [f"{edition}-{site}-{d.name}-{tier.kind}-{i}"
                     for i in range(1, tier.instances + 1)]
            tiers[tier.kind] = {"ports": [p.port for p in tier.ports], "containers": names}
            for name in names:
                containers[name] = {"id": "0" * 64, "service": d.name, "dockerHost": docker_host,
                                    "networks": [f"{edition}-{site}-lan"]}
        services[d.name] = {"suite": d.suite, "service": d.service.name,
                            "version": d.service.version,
                            "venue": d.venue.code if d.venue else None, "tiers": tiers}
    return {"edition": edition, "site": site, "stack": f"{edition}-{site}",
            "dockerHost": docker_host,
            "networks": {"lan": {"name": f"{edition}-{site}-lan", "id": "x",
                                 "subnet": LANS.get(site, "10.9.0.0/24")}},
            "services": services, "containers": containers, "endpoints": {}, "links": []}


@pytest.fixture(scope="session")
def paris() -> Topology:
    return load_edition(PROJECT_ROOT, "paris2024")


@pytest.fixture(scope="session")
def paris_outputs(paris: Topology) -> list[tuple[str, dict[str, Any]]]:
    return [(f"paris2024-{site}", fake_outputs(paris, site, VENUES))
            for site in ("ctoc", "itl", "toc")]
