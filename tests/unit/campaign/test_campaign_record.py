"""The record (SQLite), the progress computed from it, the report files, and a
run interrupted by Ctrl-C (recorded as such, exit 5)."""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from replicator.campaign import run as run_module
from replicator.campaign.loader import load_campaign
from replicator.campaign.progress import progress_data
from replicator.campaign.render import write_campaign_report
from replicator.campaign.steps import Outcome
from replicator.campaign.store import CampaignStore
from tests.unit.campaign.campaign_cases import recorded_store

ROOT = Path(__file__).resolve().parents[3]


def test_progress_takes_each_cells_latest_execution(tmp_path: Path) -> None:
    data = progress_data(recorded_store(tmp_path / "c.sqlite3"), target_hours=1.0)
    cells = {c["cell"]: c for c in data["cells"]}
    assert cells["diving-aqc"] == {**cells["diving-aqc"], "run": 2, "passed": 1, "steps": 1,
                                   "pass_rate": 100.0}
    assert cells["drills"]["run"] == 1
    assert [r["pass_rate"] for r in data["pass_rate_over_time"]] == [50.0, 100.0]
    # 36 s x 2 testers twice, 20 s and 18 s x 1 tester.
    assert data["test_hours"]["total"] == pytest.approx((72 * 2 + 20 + 18) / 3600, abs=1e-4)
    assert data["test_hours"]["cumulative"][-1]["hours"] == pytest.approx(
        data["test_hours"]["total"], abs=1e-4)
    assert data["open_failures"] == []  # the failed replay passed in the later run
    assert data["drills"][0]["recovery_s"] == 2.5 and data["drills"][0]["lost"] == 0
    assert "consumers" not in data["drills"][0]
    assert data["peaks"][0]["p99_ms"] == 120.0
    assert {g["venue"] for g in data["by_venue"]} == {"AQC", "ALL"}


def test_report_files_json_junit_markdown_html(tmp_path: Path) -> None:
    store = recorded_store(tmp_path / "c.sqlite3")
    data = progress_data(store, target_hours=250_000)
    steps = {"diving-aqc": [{"step": "replay", "passed": False, "evidence": ["FAILED: x"],
                             "seconds": 3.0}]}
    paths = write_campaign_report(data, steps, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["cells"] == data["cells"]
    junit = ET.parse(paths["junit"]).getroot()
    suite = junit.find("testsuite[@name='diving-aqc']")
    assert suite is not None and suite.find("testcase/failure").text == "FAILED: x"
    md = paths["markdown"].read_text()
    assert "| diving-aqc | results | DIV | AQC | 2 |" in md
    html = paths["html"].read_text()
    assert html.count("<svg") == 5 and "http" not in html.split("<body>")[1].replace(
        "http://www.w3.org", "")
    assert (tmp_path / "out" / "charts" / "campaign-drills.svg").is_file()


class FakeReplica:
    def __init__(self, root, edition, should_stop):
        self.should_stop = should_stop
        self.edition = edition
        self.stopped = False

    def stop_load(self) -> None:
        self.stopped = True


def test_ctrl_c_keeps_what_was_done_and_exits_5(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    campaign, _, schedule = load_campaign(ROOT / "campaigns/paris2024/smoke.yaml", ROOT)
    calls = []

    def fake(step, cell, ctx):
        calls.append(step.kind)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
            assert ctx.replica.should_stop()
            raise run_module.Interrupted
        return Outcome(True, ["ok: fake"])

    monkeypatch.setattr(run_module, "Replica", FakeReplica)
    monkeypatch.setattr(run_module, "KINDS", {k: fake for k in run_module.KINDS})
    store = CampaignStore(tmp_path / "c.sqlite3")

    class Quiet:
        def started(self, *a): pass
        def step_started(self, *a): pass
        def step_done(self, *a): pass

    # What was there before (SIG_IGN when started in the background, not the default).
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(run_module.Cancelled) as info:
        run_module.run_campaign(ROOT, campaign, schedule, file="smoke.yaml",
                                edition="paris2024", cells=None, scale=1.0, store=store,
                                progress=Quiet())
    assert info.value.exit_code == 5
    [run] = store.runs()
    assert run["status"] == "interrupted" and run["ended_at"]
    assert [s.step for s in store.steps()] == ["functional: health"]
    assert signal.getsignal(signal.SIGINT) is before  # the run's own handler is gone
