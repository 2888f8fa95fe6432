"""Configure a fresh games edition end to end, then drive the ODF chain through it.

Needs Docker and the project's images (built by the session fixture). One
module-scoped deployment (tests/integration/configure/conftest.py): about
five minutes on a 2-core machine.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from tests.integration.games import dt_result

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]

CONSUMERS = ("wrs", "rma", "cis", "myinfo")
RSC = "SWMW100MFR------------FNL-000100--"


def _wait(predicate, timeout: float = 60, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


# --------------------------------------------------------------------------- configure


def test_configure_succeeds_and_second_pass_changes_nothing(games):
    doc = games.configure
    assert doc["succeeded"], doc
    first, second = doc["passes"]
    hosts = set(first["hosts"])
    assert len(hosts) == 14  # games.py: accreditation 3, wrs 2, ovr 2, seven single apps
    assert first["changed"] > 0
    assert doc["idempotence"]["passed"], doc["idempotence"]["offenders"]
    assert second["changes"] == []
    assert all(stats["changed"] == 0 and stats["failed"] == 0 and stats["unreachable"] == 0
               for stats in second["hosts"].values())


def test_second_configure_reports_changed_zero_on_every_host(games):
    proc = games.project.cli("configure", "--edition", games.edition, "--json", timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [only] = json.loads(proc.stdout)["passes"]
    assert {h: s["changed"] for h, s in only["hosts"].items()} == \
        {h: 0 for h in only["hosts"]}


def test_programs_stopped_by_hand_are_started_again_by_the_files_task_alone(games):
    programs = {games.container("wrs"): "replicator-app",
                games.container("accreditation", "web"): "nginx",
                games.container("accreditation", "db"): "postgresql"}
    for container, program in programs.items():
        assert games.exec(container, "supervisorctl", "stop", program).returncode == 0
    proc = games.project.cli("configure", "--edition", games.edition, "--json", timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [only] = json.loads(proc.stdout)["passes"]
    # One change a container (its files task started the program and waited for it);
    # no handler: nothing changed that it would apply.
    assert sorted(c["host"] for c in only["changes"]) == sorted(programs)
    assert not any(c["handler"] for c in only["changes"])
    assert all(c["task"].split(" : ")[1].startswith("Write ") for c in only["changes"])
    for container, program in programs.items():
        assert "RUNNING" in games.exec(container, "supervisorctl", "status", program).stdout


def test_services_run_under_supervisor_with_the_contract_files(games):
    app = games.container("accreditation")
    status = games.exec(app, "supervisorctl", "status", "replicator-app").stdout
    assert "RUNNING" in status
    config = json.loads(games.exec(app, "cat", "/etc/replicator/app.json").stdout)
    assert config["db"] == {"host": "accreditation-db", "port": 5432, "dbname": "accreditation",
                            "user": "accreditation_app",
                            "password_file": "/etc/replicator/secrets/db_password"}
    assert config["peers"]["odf-distributor"] == "http://odf-distributor-app:8080"
    mode = games.exec(app, "stat", "-c", "%a %U %G", "/etc/replicator/app.json",
                      "/etc/replicator/secrets", "/etc/replicator/secrets/db_password",
                      "/etc/replicator/secrets/odf_api_key").stdout.split("\n")
    assert mode[:4] == ["640 root replicator", "750 root replicator", "640 root replicator",
                        "640 root replicator"]
    health = games.json(app, "http://127.0.0.1:8080/health")
    assert health["status"] == "ok" and health["checks"]["db"] == "ok"
    assert games.json(app, "http://127.0.0.1:8080/api")["collections"]  # seeded
    web = games.container("accreditation", "web")
    assert "RUNNING" in games.exec(web, "supervisorctl", "status", "nginx").stdout
    status, body = games.http(web, "GET", "http://127.0.0.1/health")
    assert status == 200 and json.loads(body)["service"] == "accreditation"
    db = games.container("accreditation", "db")
    assert "RUNNING" in games.exec(db, "supervisorctl", "status", "postgresql").stdout
    distributor = json.loads(games.exec(games.container("odf-distributor"), "cat",
                                        "/etc/replicator/app.json").stdout)
    assert sorted(distributor["consumers"]) == sorted(CONSUMERS)
    monitoring = json.loads(games.exec(games.container("monitoring"), "cat",
                                       "/etc/replicator/app.json").stdout)
    assert {t["service"] for t in monitoring["monitor_targets"]} == {
        "accreditation", "odf-distributor", "cis", "myinfo", "wrs", "rma", "ovr-aqc", "ovr-sta"}


def test_no_secret_in_the_repo_inventory_or_runner_artifacts(games, repo):
    from replicator.secrets_store import SecretsStore

    store = SecretsStore(games.project.workdir)
    values = [v.encode() for v in store.load(games.edition).values()]
    assert len(values) == 2  # the ODF key and the accreditation db password
    encrypted = store.path(games.edition)
    roots = [games.project.workdir / "ansible", repo / "roles", repo / "playbooks",
             repo / "replicator", repo / "tests", repo / "docs"]
    artifacts = list((games.project.workdir / "ansible" / games.edition / "artifacts").iterdir())
    assert artifacts, "the runner left no artifacts to check"
    assert any((a / "command").exists() for a in artifacts)
    leaks = []
    for base in roots:
        for path in base.rglob("*"):
            if path.is_file() and path != encrypted and not path.is_symlink():
                data = path.read_bytes()
                leaks += [str(path) for v in values if v in data]
    assert leaks == []
    assert not (games.project.workdir / "ansible" / games.edition / "env").exists()


# --------------------------------------------------------------------------- ODF chain


def _send(games, tmp_path: Path, venue: str, xml: bytes):
    path = tmp_path / f"msg-{time.monotonic_ns()}.xml"
    path.write_bytes(xml)
    return games.project.cli("odf", "send", "--venue", venue, str(path), "--edition",
                             games.edition, timeout=120)


def _served_version(games, consumer: str, code: str) -> int | None:
    proc = games.project.cli("odf", "get", "--consumer", consumer, code, "--edition",
                             games.edition, timeout=60)
    if proc.returncode != 0:
        return None
    text = proc.stdout
    if consumer == "rma":
        return int(json.loads(text)["version"])
    match = (re.search(r"data-version='(\d+)'", text) or re.search(r'Version="(\d+)"', text)
             or re.search(r"Version (\d+)", text))
    return int(match.group(1)) if match else None


def test_dt_result_from_a_venue_is_served_by_wrs_rma_and_cis(games, tmp_path):
    proc = _send(games, tmp_path, "AQC", dt_result(RSC, 1))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["forwarded"] is True
    for consumer in ("wrs", "rma", "cis", "myinfo"):
        _wait(lambda c=consumer: _served_version(games, c, RSC) == 1, 60,
              what=f"{consumer} serving Version 1")


def test_a_newer_version_replaces_the_served_one(games, tmp_path):
    code = "ATHM100M--------------FNL-000100--"
    assert _send(games, tmp_path, "STA", dt_result(code, 1, source="ATHSTA1")).returncode == 0
    _wait(lambda: _served_version(games, "rma", code) == 1, 60, what="version 1")
    assert _send(games, tmp_path, "STA", dt_result(code, 2, source="ATHSTA1",
                                                    status="OFFICIAL")).returncode == 0
    for consumer in ("wrs", "rma", "cis"):
        _wait(lambda c=consumer: _served_version(games, c, code) == 2, 60,
              what=f"{consumer} serving Version 2")
    # an older version arriving late does not replace the newer one
    assert _send(games, tmp_path, "STA", dt_result(code, 1, source="ATHSTA1")).returncode == 0
    time.sleep(3)
    assert _served_version(games, "rma", code) == 2


def test_bad_api_key_is_refused_with_401(games):
    xml = dt_result(RSC, 9)
    distributor = games.container("odf-distributor")
    status, _ = games.http(distributor, "POST", "http://127.0.0.1:8080/odf/messages", xml,
                           key="x" * 32)
    assert status == 401
    status, _ = games.http(distributor, "POST", "http://127.0.0.1:8080/odf/messages", xml)
    assert status == 401
    ovr = games.container("ovr-aqc")
    status, _ = games.http(ovr, "POST", "http://127.0.0.1:8080/odf/send", xml, key="wrong")
    assert status == 401
    status, _ = games.http(games.container("rma"), "POST", "http://127.0.0.1:8080/odf/deliver",
                           xml, key="wrong")
    assert status == 401
    # the real key works (sanity check of the test itself)
    status, _ = games.http(distributor, "POST", "http://127.0.0.1:8080/odf/messages", xml,
                           key=games.key())
    assert status == 200


def _distinct(games, consumer: str) -> int:
    return int(games.json(games.container(consumer), "http://127.0.0.1:8080/odf/stats")
               ["distinct_messages"])


def _drained(games) -> bool:
    status = games.json(games.container("odf-distributor"), "http://127.0.0.1:8080/odf/status")
    return all(c["queue_depth"] == 0 for c in status["consumers"].values())


def _generate(games, venue: str, count: int, rate: float, out: dict) -> None:
    body = json.dumps({"count": count, "rate": rate}).encode()
    status, raw = games.http(games.container(f"ovr-{venue}"), "POST",
                             "http://127.0.0.1:8080/odf/generate", body, timeout=300)
    out[venue] = (status, json.loads(raw) if raw.startswith(b"{") else raw)


def _stream_with(games, action, count: int = 400, rate: float = 40.0) -> dict:
    """Stream from both venues; run `action` in the middle; wait for the fan-out to drain."""
    _wait(lambda: _drained(games), 120, what="an idle distributor before the stream")
    before = {c: _distinct(games, c) for c in CONSUMERS}
    results: dict = {}
    threads = [threading.Thread(target=_generate, args=(games, v, count, rate, results))
               for v in ("aqc", "sta")]
    for t in threads:
        t.start()
    time.sleep(count / rate / 3)
    action()
    for t in threads:
        t.join(timeout=600)
    sent = 0
    for venue, (status, body) in results.items():
        assert status == 200, (venue, body)
        assert body["failed"] == 0, (venue, body)
        sent += body["sent"]
    assert sent == 2 * count
    _wait(lambda: _drained(games), 300, interval=1, what="the fan-out to drain")
    after = {c: _distinct(games, c) for c in CONSUMERS}
    return {"sent": sent, "delta": {c: after[c] - before[c] for c in CONSUMERS}}


def test_distributor_stopped_mid_stream_delivers_every_message_once(games):
    distributor = games.container("odf-distributor")

    def bounce():
        assert games.exec(distributor, "supervisorctl", "stop", "replicator-app").returncode == 0
        time.sleep(3)
        assert games.exec(distributor, "supervisorctl", "start", "replicator-app").returncode == 0

    outcome = _stream_with(games, bounce)
    # every message the venues had acknowledged reached each consumer, and exactly once
    # (identity+Version are unique per generated message; redeliveries are deduplicated)
    assert outcome["delta"] == {c: outcome["sent"] for c in CONSUMERS}, outcome


def test_consumer_restarted_mid_stream_loses_nothing(games):
    rma = games.container("rma")

    def restart():
        assert games.exec(rma, "supervisorctl", "restart", "replicator-app").returncode == 0

    outcome = _stream_with(games, restart, count=300)
    assert outcome["delta"] == {c: outcome["sent"] for c in CONSUMERS}, outcome


def test_odf_get_of_unknown_document_fails(games):
    proc = games.project.cli("odf", "get", "--consumer", "rma", "NOPE", "--edition",
                             games.edition, timeout=60)
    assert proc.returncode == 1
    assert "404" in proc.stderr
