"""The batch path ovr -> odf-distributor (POST /odf/messages/batch): each message of
a batch is checked and acknowledged on its own, the valid ones are committed in one
transaction before the answer, a SIGKILL right after an answer loses nothing it
acknowledged, and the OVR's batch sender keeps per-message results, retries and
identity order (also against a distributor that has no batch endpoint)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import threading
import time

import pytest
from app_harness import CONSUMERS, StubServer, distinct, http, start_chain, wait_for
from replicator_app import odf
from replicator_app.odf_queue import OdfQueue

CODE = "SWMM400MFR------------FNL-000100--"
OTHER = "SWMM200MFR------------FNL-000100--"


@pytest.fixture(scope="module")
def chain(module_services):
    wrs = module_services.run("wrs")
    dist = module_services.run("odf-distributor", consumers={"wrs": wrs.url})
    return {"wrs": wrs, "dist": dist, "key": module_services.key}


def post_batch(url: str, messages, key: str | None, gzip: bool = True, raw: bytes | None = None):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-KEY"] = key
    body = raw if raw is not None else json.dumps({"messages": messages}).encode()
    if gzip:
        headers["Content-Encoding"] = "gzip"
        body = odf.gzip(body)
    return http("POST", url + "/odf/messages/batch", body, headers, timeout=30)


def stored(chain) -> int:
    return chain["dist"].get("/odf/status").json()["log"]["last_seq"]


def item(message: bytes, sent_at: float | None = None) -> dict:
    out: dict = {"xml": message.decode()}
    if sent_at is not None:
        out["sent_at"] = sent_at
    return out


def without(message: bytes, attribute: str) -> bytes:
    return re.sub(rf' {attribute}="[^"]*"'.encode(), b"", message, count=1)


def test_each_message_of_a_batch_is_acknowledged_or_refused_on_its_own(chain):
    before, delivered = stored(chain), distinct(chain["wrs"])
    reply = post_batch(chain["dist"].url, [
        item(odf.result_message(CODE, 1), 1_700_000_000.5),
        item(without(odf.result_message(CODE, 2), "Source")),
        item(b"<OdfBody CompetitionCode='OG2024'"),
        item(odf.result_message(OTHER, 4)),
        {"xml": 42},
    ], chain["key"])
    assert reply.status == 200, reply
    body = reply.json()
    assert (body["stored"], body["rejected"]) == (2, 3)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [200, 400, 400, 200, 400]
    assert "Source" in results[1]["error"] and "malformed XML" in results[2]["error"]
    assert results[0]["seq"] == before + 1 and results[3]["seq"] == before + 2
    assert (results[0]["version"], results[3]["version"]) == (1, 4)
    assert stored(chain) == before + 2
    recent = chain["dist"].get(f"/odf/messages?after={before}").json()["messages"]
    assert [(m["DocumentCode"], m["Version"]) for m in recent] == [(CODE, "1"), (OTHER, "4")]
    assert recent[0]["sent_at"] == 1_700_000_000.5
    assert abs(recent[1]["sent_at"] - time.time()) < 60  # no sent_at: received time
    wait_for(lambda: distinct(chain["wrs"]) == delivered + 2, 10, what="delivery to wrs")


@pytest.mark.parametrize("gzip", [True, False])
def test_plain_and_gzip_batches(chain, gzip):
    before = stored(chain)
    version = 10 if gzip else 11
    reply = post_batch(chain["dist"].url, [item(odf.result_message(CODE, version))],
                       chain["key"], gzip=gzip)
    assert reply.status == 200 and reply.json()["results"][0]["seq"] == before + 1, reply


@pytest.mark.parametrize("key", [None, "x" * 32])
def test_a_batch_with_a_wrong_key_is_401_and_nothing_is_stored(chain, key):
    before = stored(chain)
    reply = post_batch(chain["dist"].url, [item(odf.result_message(CODE, 30))], key)
    assert reply.status == 401, reply
    assert stored(chain) == before


@pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"messages": []}', b'{"messages": "x"}',
                                 b"[1, 2]", None])
def test_a_malformed_batch_is_400_and_nothing_is_stored(chain, raw):
    before = stored(chain)
    if raw is None:  # one message over the bound
        raw = json.dumps({"messages": [item(odf.result_message(CODE, 40))] * 1001}).encode()
    reply = post_batch(chain["dist"].url, None, chain["key"], raw=raw)
    assert reply.status == 400 and "batch" in reply.json()["error"], reply
    assert stored(chain) == before


def test_a_batch_is_one_transaction(tmp_path):
    async def main():
        queue = OdfQueue(tmp_path / "q.sqlite3")
        queue.open(asyncio.get_running_loop())
        seqs = await queue.append_many([(f"m{i}".encode(), float(i)) for i in range(50)])
        assert seqs == list(range(1, 51)) and queue.commits == 1
        assert await queue.append_many([]) == []
        assert await queue.append(b"one", 1.0) == 51
        assert [r.payload for r in queue.read(48, 10)] == [b"m48", b"m49", b"one"]
        queue.close()
        with contextlib.closing(sqlite3.connect(tmp_path / "q.sqlite3")) as db:
            assert db.execute("SELECT count(*), max(seq) FROM messages").fetchone() == (51, 51)

    asyncio.run(main())


def test_sigkill_right_after_answers_loses_no_acknowledged_message(services):
    """Batches are posted back to back; the distributor is SIGKILLed while they flow:
    every message it acknowledged is in its queue file, with its seq."""
    wrs = services.run("wrs")
    dist = services.run("odf-distributor", consumers={"wrs": wrs.url})
    acknowledged: dict[int, tuple[str, int]] = {}
    stop = threading.Event()

    def sender():
        version = 0
        while not stop.is_set():
            batch = []
            for _ in range(50):
                version += 1
                batch.append(item(odf.result_message(CODE, version)))
            try:
                reply = post_batch(dist.url, batch, services.key)
            except OSError:
                return
            if reply.status != 200:
                return
            for r in reply.json()["results"]:
                acknowledged[r["seq"]] = (CODE, r["version"])

    thread = threading.Thread(target=sender)
    thread.start()
    wait_for(lambda: len(acknowledged) >= 1000, 30, 0.01, "1,000 acknowledged messages")
    services.kill(dist)
    stop.set()
    thread.join(timeout=30)
    with contextlib.closing(sqlite3.connect(dist.data_dir / "odf-queue.sqlite3")) as db:
        rows = {seq: odf.parse(payload, full=False)
                for seq, payload in db.execute("SELECT seq, payload FROM messages")}
    assert len(acknowledged) >= 1000
    missing = [seq for seq in acknowledged if seq not in rows]
    assert not missing, f"{len(missing)} acknowledged message(s) lost, e.g. {missing[:5]}"
    assert all(rows[seq].version == version for seq, (_, version) in acknowledged.items())
    services.start(dist)  # recovers: the next batch continues the sequence
    reply = post_batch(dist.url, [item(odf.result_message(OTHER, 1))], services.key)
    assert reply.json()["results"][0]["seq"] == max(rows) + 1


def test_ovr_batches_under_load_in_order_without_duplicates(services):
    chain = start_chain(services)
    count = 3000
    reply = chain["ovr"].post("/odf/generate", {"count": count, "rate": 2000}, timeout=120)
    figures = reply.json()
    assert figures["sent"] == count and figures["failed"] == 0, figures
    assert figures["requests"] < count, figures  # messages shared requests
    wait_for(lambda: all(distinct(chain[c]) == count for c in CONSUMERS), 30,
             what="every message at every consumer")
    for c in CONSUMERS:
        since = chain[c].get("/odf/stats").json()["since_start"]
        # In order (no older version after a newer one) and each message once.
        assert since.get("stale", 0) == 0 and since.get("duplicates", 0) == 0, (c, since)
    metrics = chain["odf-distributor"].get("/metrics").text
    assert 'route="/odf/messages/batch",status="200"' in metrics
    status = chain["ovr"].get("/odf/status").json()
    assert status["batch"] == 100 and status["requests"] == figures["requests"]


def test_ovr_with_batch_1_sends_one_message_per_request(services):
    chain = start_chain(services)
    ovr = services.run("ovr-lda", "ovr", venue="LDA", disciplines=["SWM"],
                       peers={"odf-distributor": chain["odf-distributor"].url},
                       options={"ovr_batch": 1})
    figures = ovr.post("/odf/generate", {"count": 100, "rate": 500}).json()
    assert figures["sent"] == 100 and figures["requests"] == 100, figures
    wait_for(lambda: all(distinct(chain[c]) == 100 for c in CONSUMERS), 10, what="delivery")


class StubDistributor(StubServer):
    """A distributor stand-in in the test process: answers each message of a batch
    by its Version (7: refused, 8: 503 the first time, else stored), or 404 for the
    batch endpoint (an older distributor), recording what it received."""

    def __init__(self, batch: bool = True):
        self.batch = batch
        self.received: list[tuple[str, list[int]]] = []  # (path, versions)
        self.seen: set[int] = set()
        self.lock = threading.Lock()
        super().__init__()

    def answer(self, path: str, body: bytes) -> tuple[int, dict]:
        if path == "/odf/messages/batch":
            if not self.batch:
                return 404, {"error": "no route"}
            versions = [odf.parse(m["xml"]).version for m in json.loads(body)["messages"]]
            self.record(path, versions)
            return 200, {"results": [self.result(v) for v in versions]}
        version = odf.parse(body).version
        self.record(path, [version])
        return 200, {"status": "stored", "seq": 1, "version": version}

    def record(self, path: str, versions: list[int]) -> None:
        with self.lock:
            self.received.append((path, versions))

    def result(self, version: int) -> dict:
        with self.lock:
            first = version not in self.seen
            self.seen.add(version)
        if version == 7:
            return {"status": 400, "error": "refused: version 7"}
        if version == 8 and first:
            return {"status": 503, "error": "not now"}
        return {"status": 200, "seq": version, "version": version}

    def sent(self, version: int) -> int:
        return sum(versions.count(version) for _, versions in self.received)

@pytest.fixture
def stub():
    server = StubDistributor()
    yield server
    server.close()


def send_all(ovr, key: str, versions: list[int]) -> dict[int, object]:
    """POST /odf/send for each version at once (distinct identities); replies by version."""
    replies: dict[int, object] = {}

    def one(version):
        code = f"SWMM{version:03d}MFR------------FNL-000100--"[:34]
        replies[version] = http("POST", ovr.url + "/odf/send", odf.result_message(code, version),
                                {"X-API-KEY": key}, timeout=30)

    threads = [threading.Thread(target=one, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return replies


def test_ovr_keeps_per_message_results_and_resends_only_the_unacknowledged(services, stub):
    ovr = services.run("ovr-aqc", "ovr", venue="AQC", peers={"odf-distributor": stub.url},
                       options={"retry_backoff_max": 0.2})
    replies = send_all(ovr, services.key, [7, 8, 9, 10, 11])
    assert replies[7].status == 502 and "refused: version 7" in replies[7].json()["error"]
    assert replies[7].json()["attempts"] == 1
    assert replies[8].status == 200 and replies[8].json()["attempts"] == 2, replies[8]
    for version in (9, 10, 11):
        assert replies[version].status == 200 and replies[version].json()["forwarded"]
    # Acknowledged or refused messages are never sent again; only 8 was retried.
    assert {v: stub.sent(v) for v in (7, 8, 9, 10, 11)} == {7: 1, 8: 2, 9: 1, 10: 1, 11: 1}
    assert all(path == "/odf/messages/batch" for path, _ in stub.received)
    status = ovr.get("/odf/status").json()
    assert status["retries"] == 1 and status["failed"] == 1 and status["sent"] == 4


def test_ovr_falls_back_to_one_message_per_request_without_a_batch_endpoint(services):
    stub = StubDistributor(batch=False)
    try:
        ovr = services.run("ovr-aqc", "ovr", venue="AQC", peers={"odf-distributor": stub.url})
        replies = send_all(ovr, services.key, [20, 21, 22])
        assert all(reply.status == 200 for reply in replies.values()), replies
        assert sorted(v for path, vs in stub.received if path == "/odf/messages"
                      for v in vs) == [20, 21, 22]
        assert ovr.get("/odf/status").json()["batch"] == 1
        replies = send_all(ovr, services.key, [23])  # straight to the single endpoint now
        assert replies[23].status == 200
        assert stub.received[-1] == ("/odf/messages", [23])
    finally:
        stub.close()
