"""Durable stores in process: the distributor's queue (group commit, reads from
SQLite behind the in-memory tail, offsets, retention, reopen), the consumer store."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import pytest

from replicator_app import odf
from replicator_app import odf_queue
from replicator_app.odf_queue import OdfQueue
from replicator_app.store import ConsumerStore, JsonStore

CODE = "SWMW100MFR------------FNL-000100--"


def run(coro):
    return asyncio.run(coro)


def test_queue_group_commit_and_reads(tmp_path):
    async def main():
        queue = OdfQueue(tmp_path / "q.sqlite3", retain_bytes=2000, cache_records=10)
        queue.open(asyncio.get_running_loop())
        seqs = await asyncio.gather(*(queue.append(f"m{i:02d}".encode() * 100, float(i))
                                      for i in range(100)))
        assert sorted(seqs) == list(range(1, 101))
        assert queue.durable_seq == 100
        assert queue.commits < 100  # concurrent appends share a commit (one WAL fsync)
        from_db = queue.read(0, 1000, 1 << 30)  # before the in-memory tail: from SQLite
        assert [r.seq for r in from_db][:3] == [1, 2, 3]
        assert from_db[0].payload == b"m00" * 100 and from_db[0].sent_at == 0.0
        assert [r.seq for r in queue.read(95, 10)] == [96, 97, 98, 99, 100]
        assert queue.read(100) == []
        queue.save_offsets({"wrs": 50, "rma": 60})
        queue.trim()  # keeps the newest 2000 bytes of what every consumer has (seq <= 50)
        await wait_until(lambda: queue.first_seq > 1)
        assert queue.first_seq == 45  # 300 bytes each: 44..50 hold over 2000, so 1..44 go
        assert queue.read(0, 1)[0].seq == queue.first_seq
        queue.close()
    run(main())


def test_retention_deletes_in_small_transactions_and_resumes_after_a_reopen(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(odf_queue, "TRIM_ROWS", 7)

    async def main(appends: int, offsets: dict[str, int]) -> tuple[int, int, list[int]]:
        queue = OdfQueue(tmp_path / "q.sqlite3", retain_bytes=1000, cache_records=10)
        queue.open(asyncio.get_running_loop())
        for i in range(appends):
            await queue.append(b"x" * (100 + i % 3), float(i))
        commits = queue.commits
        queue.save_offsets(offsets)
        queue.trim()
        await wait_until(lambda: queue.first_seq == expected_first(queue))
        trimmed_in = queue.commits - commits
        queue.close()
        return queue.first_seq, trimmed_in, db_seqs(tmp_path / "q.sqlite3")

    # 1..40 delivered to every consumer: the newest 1000 bytes of them are 32..40.
    first, commits, seqs = run(main(60, {"wrs": 40, "cis": 55}))
    assert first == 32 and seqs == list(range(32, 61))
    assert commits >= 5  # 31 rows, at most 7 per transaction
    # After a reopen the sizes come from the table: 32..58 delivered, 50..58 kept.
    first, _, seqs = run(main(0, {"wrs": 58, "cis": 58}))
    assert first == 50 and seqs == list(range(50, 61))


def expected_first(queue: OdfQueue) -> int:
    """The first seq that the SQL rule keeps: the newest retain_bytes of the delivered."""
    delivered = min(queue.offsets.values())
    kept = 0
    for seq in range(delivered, 0, -1):
        kept += 100 + (seq - 1) % 3
        if kept > queue.retain_bytes:
            return seq + 1
    return 1


def db_seqs(path) -> list[int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [seq for (seq,) in conn.execute("SELECT seq FROM messages ORDER BY seq")]


def test_retention_sizes_follow_the_lowest_offset_both_ways():
    sizes = odf_queue._Sizes(10, [100] * 10)  # seqs 10..19
    sizes.mark_delivered(15)
    assert sizes.delivered_bytes == 600
    sizes.mark_delivered(12)  # a new consumer starts lower: rows 13..15 are not everyone's
    assert sizes.delivered_bytes == 300
    assert sizes.cut(100, limit=1) == (11, True)
    assert sizes.cut(100, limit=10) == (12, False)
    sizes.mark_delivered(30)  # beyond the end: only the rows there are
    assert sizes.delivered_bytes == 800 and not sizes.rest


async def wait_until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_queue_survives_a_reopen_with_offsets(tmp_path):
    async def write(n, offsets=None):
        queue = OdfQueue(tmp_path / "q.sqlite3")
        queue.open(asyncio.get_running_loop())
        for _ in range(n):
            await queue.append(b"x" * 50, 1.0)
        if offsets:
            queue.save_offsets(offsets)
        state = (queue.durable_seq, dict(queue.offsets))
        queue.close()
        return state

    assert run(write(5, {"wrs": 3})) == (5, {"wrs": 3})
    assert run(write(0)) == (5, {"wrs": 3})
    assert run(write(2, {"wrs": 7, "cis": 1})) == (7, {"wrs": 7, "cis": 1})
    assert run(write(0)) == (7, {"wrs": 7, "cis": 1})


def test_queue_fails_loudly_when_it_cannot_write(tmp_path):
    async def main():
        queue = OdfQueue(tmp_path / "q.sqlite3")
        queue.open(asyncio.get_running_loop())
        await queue.append(b"ok", 1.0)
        queue._pending.append(("offsets", {"bad": "not an int", "x": object()}))
        with pytest.raises(OSError):
            await queue.append(b"lost?", 1.0)
        assert not queue.healthy and "ODF queue write failed" in queue.error
        with pytest.raises(OSError):
            await queue.append(b"refused", 1.0)
        queue.close()
    run(main())


def test_consumer_store_version_semantics(tmp_path):
    async def main():
        store = ConsumerStore(tmp_path / "c.sqlite3")
        store.start(asyncio.get_running_loop())

        def item(version, status="LIVE", code=CODE, dt="DT_RESULT"):
            xml = (odf.result_message(code, version, status=status) if dt == "DT_RESULT"
                   else odf.build(dt, code, version, source="OVRAQC", language="ENG"))
            return odf.parse(xml), xml.decode(), 1.0

        first = await store.apply([item(2), item(1), item(2)])
        assert (first.applied, first.stale, first.duplicates) == (1, 1, 1)
        newer = await store.apply([item(3, "OFFICIAL")])
        assert newer.applied == 1
        docs = store.latest(CODE)
        assert [(d["version"], d["header"]["ResultStatus"]) for d in docs] == [(3, "OFFICIAL")]
        updates = await store.apply([item(1, dt="DT_SCHEDULE_UPDATE"),
                                     item(2, dt="DT_SCHEDULE_UPDATE")])
        assert updates.applied == 2
        assert sorted(d["version"] for d in store.latest(CODE)
                      if d["document_type"] == "DT_SCHEDULE_UPDATE") == [1, 2]
        assert store.counts() == {"distinct_messages": 5, "documents": 1, "updates": 2}
        store.stop()
        # Reopened: the same message again is a duplicate (the seen table persisted).
        again = ConsumerStore(tmp_path / "c.sqlite3")
        again.start(asyncio.get_running_loop())
        assert (await again.apply([item(3, "OFFICIAL")])).duplicates == 1
        again.stop()
    run(main())


def test_json_store(tmp_path):
    store = JsonStore(tmp_path / "j.sqlite3")
    doc = store.insert("tickets", {"title": "a", "status": "open"}, key="INC1")
    assert store.get("tickets", doc["id"])["title"] == "a"
    assert store.get_by_key("tickets", "INC1")["id"] == doc["id"]
    store.insert_many("tickets", [(None, {"title": str(i), "status": "closed"})
                                  for i in range(5)])
    assert store.count("tickets", {"status": "closed"}) == 5
    assert [d["title"] for d in store.list("tickets", 2, newest_first=True)] == ["4", "3"]
    assert store.update("tickets", doc["id"], {"status": "resolved"})["status"] == "resolved"
    assert store.group_count("tickets", ("status",))[0] == {"status": "closed", "count": 5}
    assert store.trim("tickets", 2) == 4 and store.count("tickets") == 2
    assert store.delete("tickets", store.list("tickets")[0]["id"])


def test_consumer_store_wal_stays_bounded_under_continuous_commits(tmp_path):
    """The WAL restarts only after a checkpoint that copied every frame. A background
    checkpointer alone never catches up with a writer that commits without pause (the
    WAL grew to 377 MB in 8 s); the writer's own checkpoint, made cheap by the
    background one, bounds it."""
    feed = odf.VenueFeed("LDA", ["SWM"], active_units=64)
    wal = tmp_path / "c.sqlite3-wal"

    async def main() -> tuple[int, int]:
        store = ConsumerStore(tmp_path / "c.sqlite3")
        store.start(asyncio.get_running_loop())
        peak = written = 0
        for _ in range(300):
            messages = [feed.next() for _ in range(30)]
            written += sum(map(len, messages))
            items = [(odf.parse(m, full=False), m.decode(), 1.0) for m in messages]
            await asyncio.gather(*(store.apply(items[i:i + 10]) for i in range(0, 30, 10)))
            peak = max(peak, wal.stat().st_size if wal.exists() else 0)
        await asyncio.to_thread(store.stop)
        return peak, written

    peak, written = run(main())
    assert written > 24 * 2**20
    assert peak < 12 * 2**20, f"WAL peaked at {peak / 2**20:.1f} MB"
