"""More venues than the stacks' defaults: `replicator:venues: all` through the real CLI.

The full 43-venue paris2024 run is in bench/configure_bench.py (`--scales all`);
here a 12-venue edition is enough to show that `config set ... all` reaches every
stack, that `up` deploys one OVR per venue with nothing else changed, and that
`status` and `down` see them all.
"""

from __future__ import annotations

import docker
import pytest

from tests.integration.projects import TestProject
from tests.topology_builders import venue

pytestmark = pytest.mark.integration
CODES = ["AQC", "STA", "BER", "PDP", "ROL", "GRP", "LBP", "NSA", "YTC", "CHT", "VSA", "SGC"]


def test_venues_all_deploys_one_ovr_per_venue(project_factory: object,
                                              docker_client: docker.DockerClient) -> None:
    project: TestProject = project_factory()  # type: ignore[operator]
    topology = project.edit_topology()
    known = {loc["code"] for loc in topology["locations"] if loc.get("kind") == "venue"}
    topology["locations"] += [venue(code, f"Venue {code}", ["ATH"])
                              for code in CODES if code not in known]
    project.write_topology(topology)

    project.cli("config", "set", "replicator:venues", "all", "--edition", project.edition,
                check=True)
    got = project.cli("config", "get", "replicator:venues", "--stack", project.stack("toc"),
                      check=True)
    assert got.stdout.strip() == "all"

    project.cli("up", "--edition", project.edition, "--yes", check=True, timeout=900)
    label = {"label": [f"replicator.edition={project.edition}", "replicator.model-service=ovr"]}
    ovrs = sorted(c.name for c in docker_client.containers.list(filters=label))
    assert ovrs == sorted(f"{project.edition}-toc-ovr-{c.lower()}-app-1" for c in CODES)

    status = project.cli("status", "--edition", project.edition, "--json", check=True)
    for code in CODES:
        assert f"ovr-{code.lower()}-app-1" in status.stdout

    # Back to the defaults: the venues that are no longer selected go, the rest stay.
    project.cli("config", "set", "replicator:venues", '["AQC", "STA"]', "--edition",
                project.edition, check=True)
    project.cli("up", "--edition", project.edition, "--yes", check=True, timeout=900)
    ovrs = sorted(c.name for c in docker_client.containers.list(filters=label))
    assert ovrs == [f"{project.edition}-toc-ovr-aqc-app-1", f"{project.edition}-toc-ovr-sta-app-1"]
