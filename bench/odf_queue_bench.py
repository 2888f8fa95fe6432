#!/usr/bin/env python3
"""Which store carries the distributor's durable ODF queue: SQLite (WAL) or PostgreSQL?

    .venv/bin/python bench/odf_queue_bench.py [--seconds 5] [--size 2000] [--json]

Both run the distributor's write pattern: 64 concurrent appenders (the OVR's
connections), one writer thread that commits everything pending as one
transaction (group commit), an append acknowledged only once committed. Both
durable: SQLite `synchronous=FULL` (WAL fsynced per commit); PostgreSQL 15
`fsync=on`, `synchronous_commit=on`, a throwaway cluster on a loopback port in a
temp dir (stopped by pid). Prints, per store: the most appends/s (closed loop),
append latency p50/p99 at 1,000 msg/s (open loop) and commits made.
RabbitMQ is not measured (see docs/odf-queue.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class GroupCommitter:
    """The distributor's pattern: appends queue up in the loop, one thread commits."""

    def __init__(self, commit: Callable[[list[bytes]], None]):
        self.commit = commit
        self.pending: list[tuple[bytes, asyncio.Future]] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.commits = 0
        self.stopping = False
        self.loop = asyncio.get_running_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    async def append(self, payload: bytes) -> None:
        future = self.loop.create_future()
        with self.lock:
            self.pending.append((payload, future))
        self.wake.set()
        await future

    def _run(self) -> None:
        while not self.stopping:
            self.wake.wait(0.5)
            self.wake.clear()
            with self.lock:
                batch, self.pending = self.pending, []
            if batch:
                self.commit([payload for payload, _ in batch])
                self.commits += 1
                for _, future in batch:
                    self.loop.call_soon_threadsafe(future.set_result, None)

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join(10)


def sqlite_commit(path: Path) -> Callable[[list[bytes]], None]:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, at REAL, payload BLOB)")

    def commit(rows: list[bytes]) -> None:
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO m (at, payload) VALUES (?, ?)", [(now, r) for r in rows])
        conn.execute("COMMIT")
    return commit


def postgres_commit(dsn: str) -> Callable[[list[bytes]], None]:
    import psycopg2  # the app image's python3-psycopg2 (psycopg2-binary on the host)
    from psycopg2.extras import execute_values
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE m (seq bigserial PRIMARY KEY, at double precision, "
                    "payload bytea)")
    conn.commit()

    def commit(rows: list[bytes]) -> None:
        now = time.time()
        with conn.cursor() as cur:
            execute_values(cur, "INSERT INTO m (at, payload) VALUES %s",
                           [(now, psycopg2.Binary(r)) for r in rows], page_size=1000)
        conn.commit()
    return commit


async def closed_loop(committer: GroupCommitter, payload: bytes, seconds: float) -> float:
    done = 0
    end = time.monotonic() + seconds

    async def appender() -> None:
        nonlocal done
        while time.monotonic() < end:
            await committer.append(payload)
            done += 1
    started = time.monotonic()
    await asyncio.gather(*(appender() for _ in range(64)))
    return done / (time.monotonic() - started)


async def open_loop(committer: GroupCommitter, payload: bytes, seconds: float,
                    rate: float = 1000.0) -> dict[str, float]:
    latencies: list[float] = []
    start = time.monotonic()

    async def one(due: float) -> None:
        await committer.append(payload)
        latencies.append(time.monotonic() - due)
    tasks = []
    for i in range(int(seconds * rate)):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.ensure_future(one(due)))
    await asyncio.gather(*tasks)
    latencies.sort()
    n = len(latencies)
    return {"p50_ms": round(latencies[n // 2] * 1000, 2),
            "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2)}


async def measure(make: Callable[[], Callable[[list[bytes]], None]], seconds: float,
                  size: int) -> dict[str, float]:
    payload = os.urandom(size // 2).hex().encode()[:size]
    committer = GroupCommitter(await asyncio.to_thread(make))
    try:
        most = await closed_loop(committer, payload, seconds)
        commits_before = committer.commits
        at_1000 = await open_loop(committer, payload, seconds)
        commits = committer.commits - commits_before
    finally:
        committer.stop()
    return {"max_per_s": round(most), **at_1000,
            "commits_per_s_at_1000": round(commits / seconds)}


class Cluster:
    """A throwaway, durable PostgreSQL 15 cluster on 127.0.0.1 (stopped by pid)."""

    def __init__(self, root: Path):
        self.root = root
        self.user = "postgres" if os.geteuid() == 0 else None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        subprocess.run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                        "trust", "-E", "UTF8"], user=self.user, capture_output=True,
                       check=True, timeout=120)
        self.proc = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port), "-h",
             "127.0.0.1", "-k", str(self.root), "-c", "fsync=on", "-c", "synchronous_commit=on"],
            user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):  # bounded: 30 s
            ready = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p",
                                    str(self.port)], capture_output=True, check=False)
            if ready.returncode == 0:
                return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--size", type=int, default=2000, help="message bytes (ODF ~1-3 KB)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="odf-queue-bench-") as tmp:
        root = Path(tmp)
        root.chmod(0o711)  # the cluster runs as user postgres, below this directory
        results["sqlite-wal"] = asyncio.run(measure(
            lambda: sqlite_commit(root / "q.sqlite3"), args.seconds, args.size))
        (root / "pg").mkdir()
        with Cluster(root / "pg") as dsn:
            results["postgresql"] = asyncio.run(measure(
                lambda: postgres_commit(dsn), args.seconds, args.size))
    if args.json:
        print(json.dumps(results, indent=1))
        return 0
    print(f"durable ODF queue, {args.size} B messages, 64 appenders, group commit "
          f"({args.seconds:g} s per figure)")
    print(f"{'store':<12} {'max msg/s':>10} {'p50 ms @1000/s':>15} {'p99 ms @1000/s':>15} "
          f"{'commits/s @1000/s':>18}")
    for name, r in results.items():
        print(f"{name:<12} {r['max_per_s']:>10} {r['p50_ms']:>15} {r['p99_ms']:>15} "
              f"{r['commits_per_s_at_1000']:>18}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
