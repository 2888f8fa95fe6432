"""The idempotence gate's two passes in one ansible-playbook run, cut apart from its events.

`events_two_passes.json` is recorded from a real `configure --idempotence` of
the paris2024 replica (`ansible-playbook site.yml site.yml`), trimmed to four
hosts and to the fields the parser reads. Ansible sends a recap after each
playbook, each the running total of the run.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from replicator.configure import idempotence_report
from replicator.configure.passes import PassSplitter
from replicator.configure.results import HostStats, changed, parse_events

DATA = Path(__file__).parent / "data"
DB = "paris2024-itl-accreditation-db-1"


def recorded() -> list[dict[str, Any]]:
    return json.loads((DATA / "events_two_passes.json").read_text())


def play(events: list[dict[str, Any]], splitter: PassSplitter, *, status: str = "successful",
         rc: int = 0) -> list:
    for event in events:
        splitter.handle(event)
    return splitter.finish(status=status, rc=rc, artifact_dir=Path("/artifacts"))


def test_each_pass_gets_its_own_stats_not_the_running_total():
    first, second = play(recorded(), PassSplitter(["p-configure", "p-idempotence"], check=False))
    assert (first.label, second.label) == ("p-configure", "p-idempotence")
    assert first.hosts[DB].changed == 3 and first.hosts[DB].ok == 5
    # The second recap says changed=3 ok=9 for the db: the run's totals, not the pass's.
    assert second.hosts[DB] == HostStats(ok=4, changed=0, skipped=second.hosts[DB].skipped)
    assert all(h.changed == 0 for h in second.hosts.values())
    assert first.succeeded and second.succeeded
    assert idempotence_report(second).passed
    assert {r.artifact_dir for r in (first, second)} == {Path("/artifacts")}


def test_a_pass_sees_only_its_own_changes():
    first, second = play(recorded(), PassSplitter(["a", "b"], check=False))
    assert {(c.host, c.task) for c in first.changes} >= {
        (DB, "Ensure the database, its role and the role's password")}
    assert second.changes == []


def test_handlers_per_pass_and_each_pass_reported_before_the_next_starts():
    calls: list[str] = []
    seen: dict[int, int] = {}

    def on_start(number: int):
        calls.append(f"start {number}")

        def forward(_event: Any) -> None:
            seen[number] = seen.get(number, 0) + 1
        return forward

    def on_end(number: int, result: Any) -> None:
        calls.append(f"end {number}: changed={result.changed_total}")

    events = recorded()
    play(events, PassSplitter(["a", "b"], check=False, on_start=on_start, on_end=on_end))
    assert calls == ["start 1", "end 1: changed=9", "start 2", "end 2: changed=0"]
    assert seen[1] + seen[2] == len(events)
    assert seen[1] == events.index(next(e for e in events if e["event"] == "playbook_on_stats")) + 1


def test_a_failed_first_pass_stops_the_run_before_the_second():
    events = recorded()
    failed = copy.deepcopy(next(e for e in events if e["event"] == "runner_on_ok"
                                and e["event_data"].get("host") == DB))
    failed["event"] = "runner_on_failed"
    failed["event_data"]["res"] = {"msg": "boom"}
    cut = events.index(next(e for e in events if e["event"] == "playbook_on_stats"))
    events.insert(cut, failed)
    starts: list[int] = []
    splitter = PassSplitter(["a", "b"], check=False, on_start=lambda n: starts.append(n) or None)
    results = play(events, splitter, status="canceled", rc=1)
    assert splitter.cancel_requested()
    assert starts == [1] and len(results) == 1
    assert not results[0].succeeded
    assert [(f.host, f.message) for f in results[0].failures] == [(DB, "boom")]


def test_a_run_that_ends_without_a_recap_takes_the_runs_status():
    events = [e for e in recorded() if e["event"] != "playbook_on_stats"][:10]
    (only,) = play(events, PassSplitter(["a", "b"], check=False), status="failed", rc=4)
    assert (only.status, only.rc) == ("failed", 4) and not only.succeeded


def test_the_last_pass_takes_the_runs_exit_status():
    _, second = play(recorded(), PassSplitter(["a", "b"], check=False), status="failed", rc=2)
    assert (second.status, second.rc) == ("failed", 2)


def test_a_censored_no_log_result_that_changed_counts_as_changed():
    events = recorded()
    hidden = [e for e in events if "censored" in e["event_data"].get("res", {})]
    assert [changed(e) for e in hidden] == [True, False]  # first pass changed, second not
    _, changes, _, _ = parse_events(events[:events.index(hidden[1])])
    assert (DB, "Ensure the database, its role and the role's password") in {
        (c.host, c.task) for c in changes}
    # Without Ansible's line the change would be invisible: the result holds no `changed`.
    assert not changed({**hidden[0], "stdout": ""})
