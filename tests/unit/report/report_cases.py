"""A small Games and replica whose report figures are worked out by hand.

Production (topology below), 8 physical servers:
- svc-a at cloud-dc (FR): 3; svc-b at ctoc-site (ES): 1;
- ovr, per venue, 2 a venue: venue AQC (FR) 2, venue THP (PF) 2.
Past editions: London 2012 700, Rio 2016 350 (both cited).

Parameters (`HAND_SETS`): idle 100 W, max 300 W, embodied 1,000 kg a server
over 5 years, grids FR 50 / ES 100 / PF 200 g/kWh; production utilisation
0.25, 1,000 h a year, PUE 2; replica 500 h a year, PUE 1.5.

Replica: one host with 4 CPUs running 3 containers at 50 + 30 + 20 = 100 %
CPU and 10 + 20 + 30 = 60 MiB.
"""

from __future__ import annotations

from typing import Any

from replicator.report.measure import ContainerSample, EngineHost, ReplicaMeasurement
from replicator.report.model import ReportInput, build_report
from replicator.report.params import resolve_params
from tests.topology_builders import edition_skeleton, venue
from replicator.topology import Topology

MIB = 2**20

HAND_SETS = [
    "server.idle_w=100", "server.max_w=300", "server.embodied_kgco2e=1000",
    "server.lifetime_years=5", "grid_intensity.FR=50", "grid_intensity.ES=100",
    "grid_intensity.PF=200", "production.utilisation=0.25", "production.hours_per_year=1000",
    "production.pue=2", "replica.hours_per_year=500", "replica.pue=1.5",
]


def hand_topology_document(edition: str = "hand2099") -> dict[str, Any]:
    modelled = {"modelled": True, "basis": "hand case"}

    def svc(name: str, site: str, location: str, servers: int, per_venue: bool = False
            ) -> dict[str, Any]:
        return {"name": name, "title": name, "site": site, "version": "1.0",
                **({"per_venue": True} if per_venue else {}),
                "tiers": [{"kind": "app", "instances": 1, "ports": [{"port": 8080,
                                                                     "protocol": "http"}]}],
                "production": {"location": location,
                               "physical_servers": {"value": servers, **modelled}}}

    return {
        **edition_skeleton(edition, "10.250.0.0/16", [
            venue("AQC", "Aquatics", ["SWM"]),
            venue("THP", "Teahupo'o", ["SRF"], city="Teahupo'o", country="PF")],
            name="Hand Games"),
        "sources": {
            "src-london": {"title": "London count", "publisher": "Pub",
                           "url": "https://example.org/london"},
            "src-rio": {"title": "Rio count", "publisher": "Pub", "date": "2016-08-30"},
        },
        "editions_history": [
            {"edition": "london2012", "name": "London 2012", "year": 2012,
             "physical_servers": {"value": 700, "source": "src-london"}},
            {"edition": "rio2016", "name": "Rio 2016", "year": 2016,
             "physical_servers": {"value": 350, "source": "src-rio"}},
        ],
        "suites": [
            {"name": "central", "title": "Central", "services": [
                svc("svc-a", "itl", "cloud-dc", 3),
                svc("svc-b", "ctoc", "ctoc-site", 1)]},
            {"name": "ovr", "title": "OVR", "services": [
                svc("ovr", "toc", "venue", 2, per_venue=True)]},
        ],
    }


def hand_topology() -> Topology:
    return Topology.model_validate(hand_topology_document())


def hand_measurement(edition: str = "hand2099") -> ReplicaMeasurement:
    engine = "ENGINE:HAND:0001"
    host = EngineHost(engine_id=engine, name="lab-host", host="unix:///var/run/docker.sock",
                      cpus=4, memory_bytes=8 * 2**30,
                      stacks=[f"{edition}-ctoc", f"{edition}-itl", f"{edition}-toc"])
    containers = [
        ContainerSample("c1", f"{edition}-itl-svc-a-app-1", f"{edition}-itl", "itl", engine,
                        cpu_percent=50.0, memory_bytes=10 * MIB),
        ContainerSample("c2", f"{edition}-ctoc-svc-b-app-1", f"{edition}-ctoc", "ctoc", engine,
                        cpu_percent=30.0, memory_bytes=20 * MIB),
        ContainerSample("c3", f"{edition}-toc-ovr-aqc-app-1", f"{edition}-toc", "toc", engine,
                        cpu_percent=20.0, memory_bytes=30 * MIB),
    ]
    return ReplicaMeasurement(edition=edition, stacks=list(host.stacks), hosts=[host],
                              containers=containers, measured_at="2099-07-26T12:00:00+00:00",
                              seconds=1.5, workers=4)


def hand_report(sets: list[str] | None = None) -> dict[str, Any]:
    params = resolve_params(None, HAND_SETS if sets is None else sets)
    measurement = hand_measurement()
    return build_report(ReportInput(
        topology=hand_topology(), measurement=measurement, params=params,
        stacks=list(measurement.stacks), sites=["ctoc", "itl", "toc"], whole_edition=True,
        generated_at="2099-07-26T12:00:01+00:00"))
