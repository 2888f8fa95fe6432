"""Reading ansible-runner events: host stats, changes, failures, the idempotence report.

The data files are events recorded from real runs on the paris2024 replica
(trimmed to the fields the parser reads): a first pass with changes and
handlers, the idempotent second pass, and a run where one host was stopped
(unreachable) and another had no secrets (a no_log task failed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicator.configure import ConfigureResult, idempotence_report
from replicator.configure.results import HostStats, PlaybookResult, failure_message, parse_events

DATA = Path(__file__).parent / "data"


def load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())


def result_from(name: str) -> PlaybookResult:
    hosts, changes, failures, unreachable = parse_events(load(name))
    return PlaybookResult(status="successful" if not failures and not unreachable else "failed",
                          rc=0 if not failures and not unreachable else 2, seconds=1.0,
                          hosts=hosts, changes=changes, failures=failures,
                          unreachable=unreachable)


def test_stats_per_host_from_the_recap_event():
    hosts, *_ = parse_events(load("events_first_pass.json"))
    assert len(hosts) == 6
    assert hosts["paris2024-itl-accreditation-app-1"] == HostStats(
        ok=23, changed=6, failed=0, unreachable=0, skipped=hosts[
            "paris2024-itl-accreditation-app-1"].skipped, rescued=0, ignored=0)
    assert hosts["paris2024-itl-accreditation-db-1"].changed == 0


def test_changed_tasks_include_handlers():
    _, changes, failures, unreachable = parse_events(load("events_first_pass.json"))
    assert not failures and not unreachable
    assert len(changes) == 16
    handlers = {(c.host, c.label) for c in changes if c.handler}
    assert ("paris2024-itl-wrs-app-1", "app_service : Restart the application") in handlers
    assert ("paris2024-itl-wrs-app-1", "common : Reread and update supervisor programs") in handlers
    seeded = [c for c in changes if c.task == "Generate records in each empty collection"]
    assert [c.host for c in seeded] == ["paris2024-itl-accreditation-app-1"]  # first instance only


def test_idempotent_second_pass_passes_the_gate():
    second = result_from("events_second_pass.json")
    report = idempotence_report(second)
    assert report.passed
    assert report.lines() == ["Idempotence completed successfully."]
    assert all(h.changed == 0 for h in second.hosts.values())


def test_a_second_pass_with_changes_fails_listing_each_task_and_host():
    report = idempotence_report(result_from("events_first_pass.json"))
    assert not report.passed
    lines = report.lines()
    assert lines[0] == "Idempotence test failed because of the following tasks:"
    assert "* [paris2024-itl-wrs-app-1] => app_service : Copy the application archive" in lines
    assert ("* [paris2024-itl-accreditation-app-2] => app_service : Restart the application "
            "(handler)") in lines
    assert len(lines) == 1 + 16
    doc = report.to_json()
    assert doc["passed"] is False and len(doc["offenders"]) == 16


def test_failures_name_host_task_and_reason():
    result = result_from("events_failed.json")
    assert not result.succeeded
    [failed] = result.failures
    assert failed.host == "paris2024-itl-rma-app-1"
    assert failed.label == "common : Check the ODF API key was handed over"
    assert "no_log" in failed.message  # the censored result is not shown
    [gone] = result.unreachable
    assert gone.host == "paris2024-itl-odf-replayer-app-1"
    assert "is not running" in gone.message
    assert result.hosts["paris2024-itl-odf-replayer-app-1"].unreachable == 1
    assert result.hosts["paris2024-itl-rma-app-1"].failed == 1


def test_configure_result_fails_on_idempotence_offenders():
    first = result_from("events_second_pass.json")
    second = result_from("events_first_pass.json")
    ok = ConfigureResult(prepared=None, passes=[first, first],  # type: ignore[arg-type]
                         idempotence=idempotence_report(first))
    bad = ConfigureResult(prepared=None, passes=[first, second],  # type: ignore[arg-type]
                          idempotence=idempotence_report(second))
    assert ok.succeeded
    assert not bad.succeeded


@pytest.mark.parametrize(("res", "expected"), [
    ({"msg": "boom", "rc": 2}, "boom; rc=2"),
    ({"msg": "non-zero return code", "stderr": "a\nb\nc\nd", "rc": 1},
     "non-zero return code; b | c | d; rc=1"),
    ({"censored": "the output has been hidden"}, "no_log"),
    ({"results": [{"failed": True, "msg": "item one"}, {"changed": True}]}, "item one"),
    ({"status": -1}, "HTTP status -1"),
    (None, ""),
])
def test_failure_message(res, expected):
    assert expected in failure_message(res)
