"""`replicator campaign run campaigns/paris2024/smoke.yaml` on the games replica
(the configure tests' deployment, which carries the ITL's test tooling), then
`replicator campaign report`: what CI runs of the campaigns.

The smoke file is paris2024's; it is checked against paris2024's topology and
schedule and run against this edition (`--edition`), whose venues (AQC, STA)
cover its cells.
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def smoke(games):
    proc = games.project.cli("campaign", "run", "campaigns/paris2024/smoke.yaml", "--edition",
                             games.edition, timeout=900)
    return proc


def test_smoke_campaign_passes(smoke) -> None:
    assert smoke.returncode == 0, f"{smoke.stdout[-6000:]}\n{smoke.stderr[-3000:]}"
    assert "7/7 steps passed" in " ".join(smoke.stdout.split())


def test_every_step_is_recorded_with_evidence(games, smoke) -> None:
    db = sqlite3.connect(games.project.workdir / "campaigns.sqlite3")
    [(run_id, status, ended)] = db.execute("SELECT id, status, ended_at FROM runs").fetchall()
    assert status == "passed" and ended
    steps = db.execute("SELECT kind, passed, evidence FROM steps WHERE run_id = ?",
                       (run_id,)).fetchall()
    assert [k for k, _, _ in steps] == ["functional", "functional", "replay", "replay", "peak",
                                        "drill", "interface"]
    assert all(p == 1 and json.loads(e) for _, p, e in steps)


def test_report_has_cells_hours_and_drills_with_no_loss(games, smoke, tmp_path) -> None:
    proc = games.project.cli("campaign", "report", "--output", str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "campaign.json").read_text())
    assert {c["cell"]: c["pass_rate"] for c in data["cells"]} == {
        "oms-accreditation": 100.0, "diving-aqc": 100.0, "athletics-sta": 100.0,
        "results-peak": 100.0, "ods-drills": 100.0}
    assert data["test_hours"]["total"] > 0 and data["test_hours"]["target"] == 250_000
    assert len(data["drills"]) == 2
    for drill in data["drills"]:
        assert drill["recovery_s"] is not None and drill["lost"] == 0, drill
    [peak] = data["peaks"]
    assert peak["lost"] == 0 and peak["p99_ms"] is not None and peak["sent"] > 0
    junit = ET.parse(tmp_path / "campaign-junit.xml").getroot()
    assert sum(int(s.get("tests")) for s in junit) == 7
    assert sum(int(s.get("failures")) for s in junit) == 0
    assert (tmp_path / "campaign.html").read_text().count("<svg") == 5
    assert (tmp_path / "campaign.md").is_file()
