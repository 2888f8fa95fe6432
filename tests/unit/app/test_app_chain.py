"""The results chain ovr -> odf-distributor -> cis, myinfo, wrs, rma, as processes:
what each consumer serves, Version semantics, and no loss nor double effect
when the distributor is SIGKILLed or a consumer restarts in the middle of a stream."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading

import pytest
from app_harness import CONSUMERS, distinct, http, start_chain, wait_for
from replicator_app import odf

CODE = "SWAWTEAM--------------FNL-000100--"


@pytest.fixture(scope="module")
def chain(module_services):
    return start_chain(module_services) | {"key": module_services.key}


def send(chain, message: bytes):
    reply = http("POST", chain["ovr"].url + "/odf/send", odf.gzip(message),
                 {"X-API-KEY": chain["key"], "Content-Encoding": "gzip"})
    assert reply.status == 200, reply
    return reply.json()


def versions_served(chain, code: str) -> dict[str, int | None]:
    out = {}
    reply = chain["wrs"].get(f"/results/{code}")
    out["wrs"] = int(reply.headers["x-odf-version"]) if reply.status == 200 else None
    reply = chain["rma"].get(f"/api/results/{code}")
    out["rma"] = reply.json()["version"] if reply.status == 200 else None
    reply = chain["cis"].get(f"/feed/{code}")
    out["cis"] = odf.parse(reply.body).version if reply.status == 200 else None
    reply = chain["myinfo"].get(f"/view/{code}")
    out["myinfo"] = int(reply.headers["x-odf-version"]) if reply.status == 200 else None
    return out


def served_everywhere(chain, code: str, version: int) -> bool:
    return versions_served(chain, code) == dict.fromkeys(CONSUMERS, version)


def test_a_result_is_served_by_every_consumer_with_its_version(chain):
    send(chain, odf.result_message(CODE, 3, status="LIVE"))
    wait_for(lambda: served_everywhere(chain, CODE, 3), 10, what="version 3 everywhere")
    page = chain["wrs"].get(f"/results/{CODE}")
    assert page.headers["content-type"].startswith("text/html")
    assert "Version 3" in page.text and "<table class='results'>" in page.text
    rma = chain["rma"].get(f"/api/results/{CODE}").json()
    assert rma["document_type"] == "DT_RESULT" and rma["result_status"] == "LIVE"
    assert len(rma["results"]) > 0 and rma["results"][0]["rank"] == "1"
    feed = chain["cis"].get(f"/feed/{CODE}")
    assert feed.headers["content-type"].startswith("application/xml")
    assert odf.parse(feed.body).document_code == CODE
    assert "Version 3" in chain["myinfo"].get(f"/view/{CODE}").text
    assert chain["wrs"].get("/results/SWAWTEAM--------------FNL-999900--").status == 404


def test_newer_version_replaces_and_older_does_not(chain):
    code = "SWAXDUET--------------FNL-000100--"
    send(chain, odf.result_message(code, 5, status="UNOFFICIAL"))
    wait_for(lambda: served_everywhere(chain, code, 5), 10, what="version 5")
    send(chain, odf.result_message(code, 6, status="OFFICIAL"))
    wait_for(lambda: served_everywhere(chain, code, 6), 10, what="version 6 replaces 5")
    assert chain["rma"].get(f"/api/results/{code}").json()["result_status"] == "OFFICIAL"
    before = {c: chain[c].get("/odf/stats").json()["since_start"].get("stale", 0)
              for c in CONSUMERS}
    send(chain, odf.result_message(code, 4, status="LIVE"))  # late and older: no effect
    wait_for(lambda: all(chain[c].get("/odf/stats").json()["since_start"].get("stale", 0)
                         == before[c] + 1 for c in CONSUMERS), 10, what="stale v4 seen")
    assert served_everywhere(chain, code, 6)
    assert chain["rma"].get(f"/api/results/{code}").json()["result_status"] == "OFFICIAL"


def test_update_messages_are_all_kept(chain):
    code = "WPOWTEAM13------------FNL-000100--"
    for version in (1, 2):
        send(chain, odf.build("DT_SCHEDULE_UPDATE", code, version, source="OVRAQC",
                              language="ENG", competition=f"<Unit Code='{code}'/>"))
    wait_for(lambda: len(json.loads(chain["rma"].get(f"/api/results/{code}").body)
                         ["documents"]) == 2, 10, what="both updates kept")


def test_duplicate_delivery_has_no_effect(chain):
    code = "DIVM3MSPRNGBRD--------FNL-000100--"
    message = odf.result_message(code, 2)
    send(chain, message)
    wait_for(lambda: served_everywhere(chain, code, 2), 10, what="version 2")
    reply = http("POST", chain["wrs"].url + "/odf/deliver", message,
                 {"X-API-KEY": chain["key"]})
    assert reply.status == 200 and reply.json()["duplicates"] == 1
    assert http("POST", chain["wrs"].url + "/odf/deliver", message,
                {"X-API-KEY": "bad"}).status == 401


def stream(chain, count: int, rate: float, out: dict) -> threading.Thread:
    def run():
        out["reply"] = chain["ovr"].post("/odf/generate", {"count": count, "rate": rate},
                                         timeout=120)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_distributor_sigkill_mid_stream_delivers_everything_exactly_once(services):
    chain = start_chain(services)
    dist = chain["odf-distributor"]
    count = 600
    result: dict = {}
    thread = stream(chain, count, 300, result)
    wait_for(lambda: dist.get("/odf/status").json()["log"]["last_seq"] > 150, 10,
             0.02, "the stream to be under way")
    services.kill(dist)
    services.start(dist)  # same data dir and port: recovers the log and offsets
    thread.join(timeout=120)
    figures = result["reply"].json()
    assert figures["sent"] == count and figures["failed"] == 0, figures
    assert figures["retries"] > 0  # the OVR had to resend while it was down
    wait_for(lambda: all(distinct(chain[c]) == count for c in CONSUMERS), 30,
             what="every message at every consumer")
    for c in CONSUMERS:
        stats = chain[c].get("/odf/stats").json()
        since = stats["since_start"]
        # Each message took effect once: anything received twice was a duplicate.
        assert stats["distinct_messages"] == count
        assert since["received"] - since["duplicates"] == count, (c, stats)
    status = dist.get("/odf/status").json()
    assert status["log"]["last_seq"] >= count
    assert all(v["queue_depth"] == 0 for v in status["consumers"].values())


def test_consumer_restart_mid_stream_loses_nothing(services):
    chain = start_chain(services)
    count = 500
    result: dict = {}
    thread = stream(chain, count, 250, result)
    wait_for(lambda: distinct(chain["wrs"]) > 100, 10, 0.02, "wrs to receive the stream")
    services.kill(chain["wrs"])
    wait_for(lambda: chain["odf-distributor"].get("/odf/status").json()["consumers"]["wrs"]
             ["retries"] > 0, 10, what="the distributor to retry wrs")
    services.start(chain["wrs"])
    thread.join(timeout=120)
    assert result["reply"].json()["sent"] == count
    wait_for(lambda: all(distinct(chain[c]) == count for c in CONSUMERS), 30,
             what="every message at every consumer")
    latency = chain["rma"].get("/odf/latency?since=0").json()
    assert latency["count"] == count and latency["p50_ms"] > 0


def test_graceful_stop_flushes_and_restarts_clean(services):
    chain = start_chain(services)
    reply = chain["ovr"].post("/odf/generate", {"count": 50, "rate": 500})
    assert reply.json()["sent"] == 50
    wait_for(lambda: all(distinct(chain[c]) == 50 for c in CONSUMERS), 10, what="delivery")
    for name in ("odf-distributor", "wrs", "ovr"):
        assert services.stop(chain[name]) == 0, chain[name].log()[-2000:]
    queue = chain["odf-distributor"].data_dir / "odf-queue.sqlite3"
    with contextlib.closing(sqlite3.connect(queue)) as db:
        offsets = dict(db.execute("SELECT consumer, delivered FROM offsets"))
    assert offsets == dict.fromkeys(CONSUMERS, 50)
    for name in ("wrs", "odf-distributor", "ovr"):
        services.start(chain[name])
    reply = chain["ovr"].post("/odf/generate", {"count": 20, "rate": 500})
    assert reply.json()["sent"] == 20
    wait_for(lambda: all(distinct(chain[c]) == 70 for c in CONSUMERS), 10,
             what="delivery after restart (no version reused)")
