"""From the suite's outcomes to the result, the reports and the command's exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from replicator.verification.result import (
    VerificationResult,
    build_checks,
    conformance_of,
    coverage,
    latency_of,
    parse_nodeid,
    servers_of,
)
from replicator.verification.runner import write_reports
from tests.unit.verify.verify_cases import REPO, make_replica
from verify.expect import Expectation


def outcome(nodeid: str, outcome: str = "passed", message: str = "", **finding) -> dict:
    return {"nodeid": nodeid, "outcome": outcome, "phase": "call", "seconds": 0.1,
            "message": message, "findings": [finding] if finding else []}


@pytest.fixture
def exp(tmp_path: Path) -> Expectation:
    return Expectation.build(make_replica(tmp_path))


def outcomes_for(exp: Expectation, *, fail_link: str | None = None) -> list[dict]:
    out = []
    for c in exp.containers:
        out.append(outcome(f"verify/test_services.py::test_container_runs[{c.subject}]"))
    for link in exp.links:
        failed = link.name == fail_link
        out.append(outcome(f"verify/test_links.py::test_link[{link.name}]",
                           "failed" if failed else "passed",
                           f"{link.name}: from x: tcp y:8080 timeout" if failed else ""))
    out.append(outcome("verify/test_conformance.py::test_conformance_summary",
                       kind="conformance", subject="summary", conformance_percent=100.0,
                       declared=15, conforming=15, missing=0, unexpected=0, changed=0,
                       declared_services=6, declared_links=9, declared_networks=6))
    out.append(outcome("verify/test_conformance.py::test_service_conforms[itl/wrs]", "failed",
                       "service itl/wrs changed: x: state exited", kind="diff",
                       subject="itl/wrs", item={"kind": "service", "name": "wrs",
                                                "status": "changed", "site": "itl",
                                                "details": ["x: state exited"]},
                       containers=[{"kind": "container", "name": "x", "status": "changed",
                                    "site": "itl", "details": ["state exited"]}]))
    out.append(outcome("verify/test_servers.py::test_fewer_physical_servers", kind="servers",
                       subject="physical servers", replica=1, production=9,
                       production_modelled=True, production_basis="sum", history=[],
                       hosts=[], reduction_percent=88.9))
    out.append(outcome("verify/test_end_to_end.py::test_odf_reaches_consumers", kind="e2e",
                       subject="ODF", latency_ms={"wrs": 40.0, "rma": 41.0, "cis": 39.0},
                       end_to_end_ms=41.0, reference_ms=350.0, within_reference=True,
                       send={"status": 200, "ms": 20.0}, venue="AQC", injector="i",
                       document_code="C", consumers={}))
    return out


def result_of(exp: Expectation, outcomes: list[dict]) -> VerificationResult:
    checks = build_checks(outcomes, exp)
    return VerificationResult(
        edition=exp.replica.edition, stacks=list(exp.replica.selected), level="full",
        seconds=1.0, checks=checks, declared=exp.declared_counts(),
        coverage=coverage(checks, exp), conformance=conformance_of(checks),
        servers=servers_of(checks), latency=latency_of(checks), workers=1)


def test_parse_nodeid() -> None:
    assert parse_nodeid("verify/test_links.py::test_link[a/app->b/app:80]") == (
        "links", "test_link", "a/app->b/app:80")
    assert parse_nodeid("verify/test_servers.py::test_fewer_physical_servers") == (
        "servers", "test_fewer_physical_servers", "")


def test_checks_are_placed_per_site_and_suite_and_coverage_is_full(exp: Expectation) -> None:
    result = result_of(exp, outcomes_for(exp))
    assert result.coverage["percent"] == 100.0
    link = next(c for c in result.checks if c.subject == "ovr-aqc/app->odf-distributor/app:8080")
    assert (link.site, link.suite) == ("toc", "ovr")
    sites = {(g.site, g.suite) for g in result.groups()}
    assert ("itl", "oms") in sites and ("edition", "-") in sites
    assert result.servers["replica"] == 1 and result.latency["end_to_end_ms"] == 41.0
    diffs = result.conformance["differences"]
    assert {d["kind"] for d in diffs} == {"service", "container"}


def test_a_failure_names_the_link_and_exits_6(exp: Expectation) -> None:
    name = "monitoring/app->ovr-sta/app:8080"
    result = result_of(exp, outcomes_for(exp, fail_link=name))
    assert not result.passed and result.exit_code == 6
    failed = {(c.concept, c.subject) for c in result.failures}
    assert ("links", name) in failed and ("conformance", "itl/wrs") in failed
    assert "verification FAILED" in result.summary_line()


def test_uncovered_links_lower_the_coverage(exp: Expectation) -> None:
    outcomes = [o for o in outcomes_for(exp) if "test_link[" not in o["nodeid"]]
    cov = result_of(exp, outcomes).coverage
    assert cov["links"]["covered"] == 0 and cov["services"]["covered"] == 6
    assert cov["percent"] == pytest.approx(100 * 6 / 15, abs=0.01)


def test_reports_are_written_and_self_contained(exp: Expectation, tmp_path: Path) -> None:
    result = result_of(exp, outcomes_for(exp, fail_link="wrs/web->wrs/app:8080"))
    write_reports(result, tmp_path)
    data = json.loads((tmp_path / "verification.json").read_text())
    assert data["exit_code"] == 6
    assert data["failures"][0]["subject"] in ("wrs/web->wrs/app:8080", "itl/wrs")
    html = (tmp_path / "verification.html").read_text()
    assert "FAILED" in html and "wrs/web-&gt;wrs/app:8080" in html
    assert "<script" not in html and "<link" not in html and "src=" not in html
    assert "350" in html and "state exited" in html


def cli(*args: str, root: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, REPLICATOR_PROJECT=str(root), REPLICATOR_HOME=str(root / ".replicator"),
               NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "replicator", "verify", *args], check=False,
                          cwd=root, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_cli_rejects_bad_input(tmp_path: Path) -> None:
    replica = make_replica(tmp_path)
    root = replica.root
    assert cli("no-such-stack", root=root).returncode == 2
    assert cli(root=root).returncode == 2  # neither STACK nor --edition
    bad = cli("--edition", replica.edition, "--level", "deep", root=root)
    assert bad.returncode == 2 and "structure or full" in bad.stderr + bad.stdout
