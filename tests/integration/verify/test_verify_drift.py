"""The verifier is itself tested: it passes on a correct replica and names the culprit of a drift.

One small three-site replica (tests/integration/projects.py) is deployed for the
module; each test changes it by hand the way an operator could, runs the
verification (structure level: the test replica is not configured) and checks
that it fails naming the container, service, link or path, then puts the
replica back.
"""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from replicator.engine import Mode
from replicator.engine.events import RecordingSink
from replicator.verification import VerificationResult, run_verification
from tests.integration.projects import TestProject as Project

pytestmark = pytest.mark.integration

STACK_SITES = ("ctoc", "itl", "toc")


def verify(project: Project, out: Path, **kwargs) -> VerificationResult:
    kwargs.setdefault("level", "structure")
    return run_verification(project.root, [project.stack(s) for s in STACK_SITES], out,
                            workdir=project.workdir, **kwargs)


def failures(result: VerificationResult, concept: str | None = None) -> list[str]:
    return [f"{c.concept}::{c.name}[{c.subject}] {c.message}" for c in result.failures
            if concept is None or c.concept == concept]


def assert_named(result: VerificationResult, concept: str, *needles: str) -> None:
    found = failures(result, concept)
    assert any(all(n in f for n in needles) for f in found), (
        f"no {concept} failure naming {needles}; failures:\n" + "\n".join(failures(result)))


def test_passes_on_a_correct_replica(verified_project: Project, tmp_path: Path) -> None:
    result = verify(verified_project, tmp_path)
    assert result.passed, "\n".join(failures(result))
    assert result.exit_code == 0
    assert result.coverage["percent"] == 100.0
    counts = result.counts()
    assert counts["failed"] == 0 and counts["passed"] > 50
    # every concept ran: services, links, isolation, conformance, servers
    assert {"services", "links", "isolation", "conformance", "servers"} <= set(result.per_concept())
    assert result.conformance["summary"]["conformance_percent"] == 100.0
    assert result.servers["replica"] == 1 and result.servers["production"] > 1
    for name in ("junit.xml", "verification.json", "verification.html"):
        assert (tmp_path / name).is_file()
    data = json.loads((tmp_path / "verification.json").read_text())
    assert data["passed"] is True and data["coverage"]["links"]["declared"] == 9
    html = (tmp_path / "verification.html").read_text()
    assert "PASSED" in html and "<script" not in html and "http://" not in html.split("</style>")[0]


def test_stopped_container(verified_project: Project, docker_client: docker.DockerClient,
                           drift, tmp_path: Path) -> None:
    name = f"{verified_project.edition}-itl-wrs-app-1"
    container = docker_client.containers.get(name)
    container.stop(timeout=2)
    drift.on_undo(container.start)
    result = verify(verified_project, tmp_path)
    assert not result.passed and result.exit_code == 6
    assert_named(result, "services", "itl/wrs/app-1", name, "exited")
    assert_named(result, "conformance", "itl/wrs", "state exited")


def test_removed_container(verified_project: Project, docker_client: docker.DockerClient,
                           drift, tmp_path: Path) -> None:
    name = f"{verified_project.edition}-itl-accreditation-web-1"
    docker_client.containers.get(name).remove(force=True)
    drift.on_undo(lambda: _repair(verified_project, "itl"))
    result = verify(verified_project, tmp_path)
    assert not result.passed
    assert_named(result, "services", "itl/accreditation/web-1", "does not exist")
    assert_named(result, "conformance", "itl/accreditation", name, "does not exist")
    assert_named(result, "links", "accreditation/web->accreditation/app:8080", name)
    missing = [d for d in result.conformance["differences"] if d["status"] == "missing"]
    assert any(d["name"] == name for d in missing)


def test_cut_link(verified_project: Project, docker_client: docker.DockerClient, drift,
                  tmp_path: Path) -> None:
    ed = verified_project.edition
    circuit = f"{ed}-wan-odf-distributor--ovr"
    name = f"{ed}-toc-ovr-aqc-app-1"
    network = docker_client.networks.get(circuit)
    network.disconnect(name)
    drift.on_undo(lambda: network.connect(name, aliases=["ovr-aqc-app"]))
    result = verify(verified_project, tmp_path)
    assert not result.passed
    assert_named(result, "links", "ovr-aqc/app->odf-distributor/app:8080", name,
                 f"not attached to {circuit}")
    assert_named(result, "conformance", "ovr-aqc/app->odf-distributor/app:8080", "missing")
    # The other venue's copy of the same link is untouched.
    assert not any("ovr-sta/app->odf-distributor" in f for f in failures(result))


@pytest.mark.parametrize("how", ["lan", "circuit"])
def test_undeclared_path_opened(how: str, verified_project: Project,
                                docker_client: docker.DockerClient, drift, tmp_path: Path) -> None:
    """wrs/app (itl) joins the TOC LAN, or the odf-distributor<->ovr circuit: it meets OVR."""
    ed = verified_project.edition
    net_name = f"{ed}-toc-lan" if how == "lan" else f"{ed}-wan-odf-distributor--ovr"
    name = f"{ed}-itl-wrs-app-1"
    network = docker_client.networks.get(net_name)
    network.connect(name)
    drift.on_undo(lambda: network.disconnect(name, force=True))
    result = verify(verified_project, tmp_path)
    assert not result.passed
    assert_named(result, "isolation", "itl/wrs/app-x-toc/ovr-aqc/app", name)
    assert_named(result, "conformance", name, f"attached to undeclared network {net_name}")
    paths = [d for d in result.conformance["differences"] if d["kind"] == "path"]
    assert any("itl/wrs/app" in d["name"] and "toc/ovr-aqc/app" in d["name"] for d in paths)


def test_extra_container_with_project_labels(verified_project: Project,
                                             docker_client: docker.DockerClient, drift,
                                             tmp_path: Path) -> None:
    ed = verified_project.edition
    name = f"{ed}-itl-rogue-app-1"
    rogue = docker_client.containers.run(
        "replicator/app:latest", detach=True, name=name, init=True,
        labels={"replicator.edition": ed, "replicator.stack": f"{ed}-itl",
                "replicator.site": "itl", "replicator.service": "rogue"},
        network_mode="none")
    drift.on_undo(lambda: rogue.remove(force=True))
    result = verify(verified_project, tmp_path)
    assert not result.passed
    assert_named(result, "conformance", "unexpected", name)
    unexpected = [d for d in result.conformance["differences"] if d["status"] == "unexpected"]
    assert [d["name"] for d in unexpected if d["kind"] == "container"] == [name]


def test_cli_exit_codes_and_summary(verified_project: Project,
                                    docker_client: docker.DockerClient, drift,
                                    tmp_path: Path) -> None:
    ed = verified_project.edition
    ok = verified_project.cli("verify", "--edition", ed, "--level", "structure",
                              "--output", str(tmp_path / "ok"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verification PASSED" in ok.stdout and "coverage 100%" in ok.stdout
    name = f"{ed}-ctoc-monitoring-app-1"
    container = docker_client.containers.get(name)
    container.stop(timeout=2)
    drift.on_undo(container.start)
    bad = verified_project.cli("verify", f"{ed}-ctoc", "--level", "structure", "--json",
                               "--output", str(tmp_path / "bad"))
    assert bad.returncode == 6, bad.stdout + bad.stderr
    data = json.loads(bad.stdout)
    assert data["passed"] is False and data["stacks"] == [f"{ed}-ctoc"]
    assert any(f["subject"] == "ctoc/monitoring/app-1" and name in f["message"]
               for f in data["failures"])
    assert "ctoc/monitoring/app-1" in bad.stderr  # the summary goes to stderr with --json
    default = verified_project.root / "reports" / ed / "verify" / "verification.html"
    assert not default.exists()  # --output was given


def _repair(project: Project, site: str) -> None:
    result = project.runner().run(project.stack(site), Mode.UP, RecordingSink(),
                                  refresh_first=True)
    assert result.succeeded, result.error
