"""Local SQLite storage: the consumers' store and small JSON collections for the
other roles (the distributor's queue is ``odf_queue.py``).

- ``ConsumerStore``: latest Version per ODF identity (+ every ``*_UPDATE``), a
  ``seen`` table of identity+Version for exactly-once effect, written by one
  thread that commits whatever is pending as one transaction (group commit);
  WAL checkpoints mostly on a thread of their own (``checkpoint.py``).
- ``JsonStore``: collections of JSON documents in SQLite.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import NamedTuple

from .checkpoint import Checkpointer

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- consumers

CONSUMER_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    identity TEXT PRIMARY KEY, document_code TEXT NOT NULL, document_type TEXT NOT NULL,
    version INTEGER NOT NULL, result_status TEXT, header TEXT NOT NULL, xml TEXT NOT NULL,
    sent_at REAL, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS documents_code ON documents (document_code);
CREATE TABLE IF NOT EXISTS updates (
    identity TEXT NOT NULL, version INTEGER NOT NULL, document_code TEXT NOT NULL,
    document_type TEXT NOT NULL, header TEXT NOT NULL, xml TEXT NOT NULL,
    sent_at REAL, received_at REAL NOT NULL, PRIMARY KEY (identity, version));
CREATE INDEX IF NOT EXISTS updates_code ON updates (document_code);
CREATE TABLE IF NOT EXISTS seen (
    identity TEXT NOT NULL, version INTEGER NOT NULL, sent_at REAL, received_at REAL NOT NULL,
    PRIMARY KEY (identity, version)) WITHOUT ROWID;
"""


class Applied(NamedTuple):
    applied: int      # changed the state (new latest Version, or an _UPDATE kept)
    duplicates: int   # identity+Version seen before: no effect
    stale: int        # first seen, but older than the Version kept: no effect
    new_sent_at: list[float]  # sent_at of every first-seen message (latency)


class ConsumerStore:
    """SQLite (WAL) store of one consumer, written by a single group-commit thread."""

    def __init__(self, path: Path, synchronous: str = "FULL"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous if synchronous in ("FULL", "NORMAL") else "FULL"
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._read = self._connect()
        self._read.executescript(CONSUMER_SCHEMA)
        self._read_lock = threading.Lock()
        self._thread = threading.Thread(target=self._writer, name="consumer-store", daemon=True)
        self._checkpointer = Checkpointer(self._connect)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.commits = 0

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()
        self._checkpointer.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._checkpointer.stop()

    async def apply(self, messages: list[tuple]) -> Applied:
        """Persist (header, xml, sent_at) tuples; returns once committed."""
        assert self._loop is not None, "apply() before start()"
        future = self._loop.create_future()
        self._queue.put((messages, future))
        return await future

    def _writer(self) -> None:
        loop = self._loop
        assert loop is not None  # start() sets it before starting this thread
        conn = self._connect()
        while True:
            item = self._queue.get()
            batch = [item]
            while True:  # take everything pending: one transaction for all of it
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(entry is None for entry in batch)
            batch = [entry for entry in batch if entry is not None]
            if batch:
                try:
                    results = self._commit(conn, batch)
                except Exception as exc:
                    log.exception("consumer store commit failed")
                    for _, future in batch:
                        loop.call_soon_threadsafe(_fail, future, exc)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        loop.call_soon_threadsafe(_resolve, future, result)
            if stop:
                conn.close()
                return

    def _commit(self, conn: sqlite3.Connection, batch: list) -> list[Applied]:
        now = time.time()
        results = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for messages, _ in batch:
                applied = duplicates = stale = 0
                new_sent: list[float] = []
                for header, xml, sent_at in messages:
                    cur = conn.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?, ?)",
                                       (header.identity, header.version, sent_at, now))
                    if cur.rowcount == 0:
                        duplicates += 1
                        continue
                    new_sent.append(sent_at)
                    attrs = json.dumps(header.attrs)
                    if header.is_update:
                        conn.execute(
                            "INSERT OR IGNORE INTO updates VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (header.identity, header.version, header.document_code,
                             header.document_type, attrs, xml, sent_at, now))
                        applied += 1
                        continue
                    cur = conn.execute(
                        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (identity) DO UPDATE SET version = excluded.version, "
                        "result_status = excluded.result_status, header = excluded.header, "
                        "xml = excluded.xml, sent_at = excluded.sent_at, "
                        "received_at = excluded.received_at "
                        "WHERE excluded.version > documents.version",
                        (header.identity, header.document_code, header.document_type,
                         header.version, header["ResultStatus"] or None, attrs, xml, sent_at,
                         now))
                    if cur.rowcount:
                        applied += 1
                    else:
                        stale += 1
                results.append(Applied(applied, duplicates, stale, new_sent))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.commits += 1
        return results

    # -- reads (any thread)

    def query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._read_lock:
            self._read.row_factory = sqlite3.Row
            return self._read.execute(sql, args).fetchall()

    def latest(self, document_code: str) -> list[dict]:
        """Every kept document with this DocumentCode (latest Version per identity,
        plus every *_UPDATE), most recently received first."""
        rows = self.query(
            "SELECT identity, document_code, document_type, version, header, xml, sent_at, "
            "received_at FROM documents WHERE document_code = ? "
            "UNION ALL SELECT identity, document_code, document_type, version, header, xml, "
            "sent_at, received_at FROM updates WHERE document_code = ? "
            "ORDER BY received_at DESC, version DESC LIMIT 200", (document_code, document_code))
        return [dict(row) | {"header": json.loads(row["header"])} for row in rows]

    def documents(self, document_type: str | None = None, limit: int = 100) -> list[dict]:
        sql = ("SELECT document_code, document_type, version, result_status, received_at "
               "FROM documents")
        args: tuple = ()
        if document_type:
            sql += " WHERE document_type = ?"
            args = (document_type,)
        sql += " ORDER BY received_at DESC LIMIT ?"
        return [dict(r) for r in self.query(sql, (*args, limit))]

    def counts(self) -> dict:
        row = self.query("SELECT (SELECT count(*) FROM seen) AS distinct_messages, "
                         "(SELECT count(*) FROM documents) AS documents, "
                         "(SELECT count(*) FROM updates) AS updates")[0]
        return dict(row)

    def latency(self, since: float) -> list[tuple[float, float]]:
        """(received_at, latency seconds) of messages first received after `since`."""
        return [(r[0], r[1]) for r in self.query(
            "SELECT received_at, received_at - sent_at FROM seen "
            "WHERE received_at > ? AND sent_at IS NOT NULL", (since,))]


def _resolve(future: asyncio.Future, result) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


# --------------------------------------------------------------------------- JSON collections

JSON_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, key TEXT,
    data TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    UNIQUE (collection, key));
CREATE INDEX IF NOT EXISTS records_collection ON records (collection, id);
"""


class JsonStore:
    """Collections of JSON documents in one SQLite file (thread-safe, one connection).

    A document is returned as ``{"id": n, **data, "created_at": ...}``; ``key`` is
    an optional natural key, unique within its collection.
    """

    def __init__(self, path: Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(JSON_SCHEMA)
        self._lock = threading.Lock()

    @staticmethod
    def _doc(row) -> dict:
        return {"id": row[0], **json.loads(row[1]),
                "created_at": _iso(row[2]), "updated_at": _iso(row[3])}

    def insert(self, collection: str, data: dict, key: str | None = None) -> dict:
        now = time.time()
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO records (collection, key, data, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)", (collection, key, json.dumps(data), now, now))
        return {"id": cur.lastrowid, **data, "created_at": _iso(now), "updated_at": _iso(now)}

    def insert_many(self, collection: str, rows: list[tuple[str | None, dict]]) -> int:
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO records (collection, key, data, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?)",
                    ((collection, key, json.dumps(data), now, now) for key, data in rows))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return len(rows)

    @contextlib.contextmanager
    def transaction(self):
        """The connection, locked, inside BEGIN IMMEDIATE ... COMMIT."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def add_keyed(self, collection: str, prefix: str, makes: list) -> list[int]:
        """Insert one document per `make(key)`, the key being prefix + the new id
        (so keys stay unique whatever was deleted); returns the ids."""
        now = time.time()
        with self.transaction() as conn:
            first = conn.execute(  # never reuse an id, even of a deleted document
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'records'), "
                "0), coalesce((SELECT max(id) FROM records), 0)) + 1").fetchone()[0]
            ids = list(range(first, first + len(makes)))
            conn.executemany(
                "INSERT INTO records (id, collection, key, data, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ((i, collection, f"{prefix}{i:07d}", json.dumps(make(f"{prefix}{i:07d}")), now,
                  now) for i, make in zip(ids, makes, strict=True)))
        return ids

    def get(self, collection: str, ident: int) -> dict | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, data, created_at, updated_at FROM records "
                "WHERE collection = ? AND id = ?", (collection, ident)).fetchone()
        return self._doc(row) if row else None

    def get_by_key(self, collection: str, key: str) -> dict | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT id, data, created_at, updated_at FROM records "
                "WHERE collection = ? AND key = ?", (collection, key)).fetchone()
        return self._doc(row) if row else None

    def list(self, collection: str, limit: int = 100, offset: int = 0,
             filters: dict[str, str] | None = None, newest_first: bool = False,
             after_id: int = 0) -> list[dict]:
        sql = "SELECT id, data, created_at, updated_at FROM records WHERE collection = ?"
        args: list = [collection]
        if after_id:
            sql += " AND id > ?"
            args.append(after_id)
        for field, value in (filters or {}).items():
            sql += " AND CAST(json_extract(data, ?) AS TEXT) = ?"
            args += [f"$.{field}", str(value)]
        sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'} LIMIT ? OFFSET ?"
        args += [limit, offset]
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [self._doc(row) for row in rows]

    def update(self, collection: str, ident: int, patch: dict) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT data FROM records WHERE collection = ? AND id = ?",
                                     (collection, ident)).fetchone()
            if row is None:
                return None
            data = json.loads(row[0]) | patch
            self._conn.execute("UPDATE records SET data = ?, updated_at = ? WHERE id = ?",
                               (json.dumps(data), time.time(), ident))
        return self.get(collection, ident)

    def delete(self, collection: str, ident: int) -> bool:
        with self._lock:
            cur = self._conn.execute("DELETE FROM records WHERE collection = ? AND id = ?",
                                     (collection, ident))
        return cur.rowcount > 0

    def count(self, collection: str, filters: dict[str, str] | None = None) -> int:
        sql = "SELECT count(*) FROM records WHERE collection = ?"
        args: list = [collection]
        for field, value in (filters or {}).items():
            sql += " AND CAST(json_extract(data, ?) AS TEXT) = ?"
            args += [f"$.{field}", str(value)]
        with self._lock:
            return self._conn.execute(sql, args).fetchone()[0]

    def group_count(self, collection: str, fields: tuple[str, ...]) -> builtins.list[dict]:
        columns = ", ".join(f"json_extract(data, '$.{f}')" for f in fields)
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {columns}, count(*) FROM records WHERE collection = ? "
                f"GROUP BY {columns} ORDER BY count(*) DESC LIMIT 500", (collection,)).fetchall()
        return [dict(zip((*fields, "count"), row, strict=True)) for row in rows]

    def trim(self, collection: str, keep: int) -> int:
        with self._lock:
            cur = self._conn.execute(
                "DELETE FROM records WHERE collection = ? AND id <= (SELECT id FROM records "
                "WHERE collection = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (collection, collection, keep))
        return cur.rowcount

    def ping(self) -> None:
        with self._lock:
            self._conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"
