"""The application-level checks on a configured test replica, and hand-made configuration drift.

The module's replica is the games edition of tests/integration/games.py (the
whole results chain: OVR per venue -> ODF distributor -> WRS, RMA, CIS, MyInfo;
accreditation web/app/db; monitoring), deployed and configured with
`replicator configure` (the checkout's roles, playbooks and application
service are linked into the test project). If the configuration fails here the
module is skipped with the reason; the structure-level tests
(test_verify_drift.py) still cover the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from replicator.verification import VerificationResult, run_verification
from tests.integration.conftest import REPO
from tests.integration.games import make_games_project
from tests.integration.projects import TestProject as Project

pytestmark = pytest.mark.integration
MAKE_PROJECT = make_games_project  # the results chain end to end (see conftest.py)

STACK_SITES = ("ctoc", "itl", "toc")
CONFIGURE_TIMEOUT = 1500


@pytest.fixture(scope="module")
def configured(verified_project: Project) -> Project:
    for name in ("apps", "playbooks", "roles", "collections", "ansible.cfg"):  # games.py links them
        link = verified_project.root / name
        if not link.exists():
            link.symlink_to(REPO / name)
    proc = verified_project.cli("configure", "--edition", verified_project.edition,
                                timeout=CONFIGURE_TIMEOUT)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        pytest.fail(f"`replicator configure` failed on the test replica "
                    f"(exit {proc.returncode}):\n{tail}", pytrace=False)
    return verified_project


def verify(project: Project, out: Path) -> VerificationResult:
    return run_verification(project.root, [project.stack(s) for s in STACK_SITES], out,
                            workdir=project.workdir, level="full")


def failures(result: VerificationResult) -> list[str]:
    return [f"{c.concept}::{c.name}[{c.subject}] {c.message}" for c in result.failures]


def test_full_verification_passes_when_configured(configured: Project, tmp_path: Path) -> None:
    result = verify(configured, tmp_path)
    assert result.passed, "\n".join(failures(result))
    names = {c.name for c in result.checks if c.outcome == "passed"}
    assert {"test_processes", "test_ports_listen", "test_configuration", "test_health",
            "test_odf_reaches_consumers"} <= names
    latency = result.latency
    assert set(latency["latency_ms"]) == {"wrs", "rma", "cis"}
    assert latency["end_to_end_ms"] is not None and latency["reference_ms"] == 350.0


def test_config_value_changed_by_hand(configured: Project, docker_client: docker.DockerClient,
                                      drift, tmp_path: Path) -> None:
    name = f"{configured.edition}-itl-wrs-app-1"
    container = docker_client.containers.get(name)
    original = container.exec_run(["cat", "/etc/replicator/app.json"]).output.decode()
    doc = json.loads(original)
    doc["version"] = "0.0.0-by-hand"
    _write(container, "/etc/replicator/app.json", json.dumps(doc, indent=2))
    drift.on_undo(lambda: _write(container, "/etc/replicator/app.json", original))
    result = verify(configured, tmp_path)
    assert not result.passed
    found = failures(result)
    assert any("test_configuration[itl/wrs/app-1]" in f and "version is '0.0.0-by-hand'" in f
               for f in found), "\n".join(found)


def test_vhost_upstream_changed_by_hand(configured: Project, docker_client: docker.DockerClient,
                                        drift, tmp_path: Path) -> None:
    name = f"{configured.edition}-itl-accreditation-web-1"
    path = "/etc/nginx/sites-enabled/accreditation.conf"
    container = docker_client.containers.get(name)
    original = container.exec_run(["cat", path]).output.decode()
    _write(container, path, original.replace("accreditation-app:8080", "wrs-app:8080"))
    drift.on_undo(lambda: _write(container, path, original))
    result = verify(configured, tmp_path)
    found = failures(result)
    assert any("test_configuration[itl/accreditation/web-1]" in f and "wrs-app:8080" in f
               for f in found), "\n".join(found)


def test_stopped_program_inside_a_running_container(configured: Project,
                                                    docker_client: docker.DockerClient, drift,
                                                    tmp_path: Path) -> None:
    name = f"{configured.edition}-toc-ovr-sta-app-1"
    container = docker_client.containers.get(name)
    container.exec_run(["supervisorctl", "stop", "replicator-app"])
    drift.on_undo(lambda: container.exec_run(["supervisorctl", "start", "replicator-app"]))
    result = verify(configured, tmp_path)
    found = failures(result)
    assert any("test_processes[toc/ovr-sta/app-1]" in f and "STOPPED" in f for f in found)
    assert any("test_ports_listen[toc/ovr-sta/app-1]" in f and "8080" in f for f in found)
    assert any("test_health[toc/ovr-sta/app-1]" in f for f in found)


def _write(container, path: str, text: str) -> None:
    import base64

    data = base64.b64encode(text.encode()).decode()
    res = container.exec_run(["sh", "-c", f"echo {data} | base64 -d > {path}"])
    assert res.exit_code == 0, res.output
