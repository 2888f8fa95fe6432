"""Background WAL checkpoints for the consumers' SQLite store (``store.py``).

A writer checkpoints inside the COMMIT that takes the WAL past 1,000 pages
(``wal_autocheckpoint``), and the appends behind it wait. This thread copies the
WAL every 0.2 s on its own connection, so the writer's own checkpoint finds
little left to copy. The writer's checkpoint must stay: the WAL restarts from
its beginning only after a checkpoint that copied every frame, which a
background checkpoint never does while the writer commits without pause (with
the writer's off, a consumer's WAL grew to 377 MB in 8 s). The distributor's
queue keeps the writer's checkpoint alone: adding this thread there did not
lower its latency (docs/odf-queue.md).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Checkpointer:
    """Every `interval` s a PASSIVE checkpoint (never blocks the writer); a
    TRUNCATE one at stop()."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], interval: float = 0.2):
        self._connect = connect
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = self._connect()
        try:
            while not self._stopping.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    log.exception("WAL checkpoint failed")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:
            log.exception("final WAL checkpoint failed")
        finally:
            conn.close()
