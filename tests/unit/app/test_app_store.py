"""Durable stores in process: the distributor's log (group commit, recovery of a
torn tail, catch-up reads from disk, retention), offsets, the consumer store."""

from __future__ import annotations

import asyncio
import json

from replicator_app import odf
from replicator_app.store import RECORD, ConsumerStore, JsonStore, OdfLog, Offsets

CODE = "SWMW100MFR------------FNL-000100--"


def run(coro):
    return asyncio.run(coro)


def test_log_group_commit_and_reads(tmp_path):
    async def main():
        log = OdfLog(tmp_path, segment_bytes=4096, cache_records=10)
        log.open(asyncio.get_running_loop())
        seqs = await asyncio.gather(*(log.append(f"m{i}".encode() * 100, float(i))
                                      for i in range(100)))
        assert sorted(seqs) == list(range(1, 101))
        assert log.durable_seq == 100
        assert log.fsyncs < 100  # concurrent appends share an fdatasync
        assert len(list(tmp_path.glob("*.log"))) > 1  # rotated at 4 KiB
        from_disk = log.read(0, 1000, 1 << 30)  # before the in-memory tail: from segments
        assert [r.seq for r in from_disk][:3] == [1, 2, 3]
        assert from_disk[0].payload == b"m0" * 100 and from_disk[0].sent_at == 0.0
        assert [r.seq for r in log.read(95, 10)] == [96, 97, 98, 99, 100]
        assert log.read(100) == []
        removed = log.trim(50)
        assert removed >= 1 and log.first_seq <= 51
        assert log.read(0, 1)[0].seq == log.first_seq
        log.close()
    run(main())


def test_log_recovers_after_a_torn_tail(tmp_path):
    async def write(n):
        log = OdfLog(tmp_path)
        log.open(asyncio.get_running_loop())
        for i in range(n):
            await log.append(b"x" * 50, 1.0)
        last = log.durable_seq
        log.close()
        return last

    assert run(write(5)) == 5
    segment = next(tmp_path.glob("*.log"))
    size = segment.stat().st_size
    with open(segment, "ab") as fh:  # a record cut by a crash in the middle of a write
        fh.write(RECORD.pack(50, 0, 6, 1.0, 1.0) + b"x" * 10)
    assert run(write(0)) == 5
    assert segment.stat().st_size == size
    assert run(write(2)) == 7  # appends continue after the cut


def test_log_rejects_a_corrupt_record(tmp_path):
    async def write(n):
        log = OdfLog(tmp_path)
        log.open(asyncio.get_running_loop())
        for _ in range(n):
            await log.append(b"y" * 20, 1.0)
        seq = log.durable_seq
        log.close()
        return seq

    run(write(3))
    segment = next(tmp_path.glob("*.log"))
    data = bytearray(segment.read_bytes())
    data[-5] ^= 0xFF  # flip a byte of the last payload: its CRC no longer matches
    segment.write_bytes(bytes(data))
    assert run(write(0)) == 2


def test_offsets_are_saved_atomically(tmp_path):
    path = tmp_path / "offsets.json"
    offsets = Offsets(path)
    assert offsets.values == {}
    offsets.values.update(wrs=10, rma=7)
    assert offsets.save() is True
    assert offsets.save() is False  # unchanged: no write
    assert json.loads(path.read_text()) == {"wrs": 10, "rma": 7}
    assert Offsets(path).values == {"wrs": 10, "rma": 7}


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
