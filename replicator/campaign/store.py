"""The campaign record: every run and every step, in SQLite under `.replicator/`.

One database per project (``.replicator/campaigns.sqlite3``). A run row is
written when the run starts and updated when it ends (passed, failed or
interrupted), and each step's row is committed as soon as the step is done, so
an interrupted run keeps all it did. WAL mode: a report can read while a run
writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicator.paths import work_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign TEXT NOT NULL, file TEXT NOT NULL, edition TEXT NOT NULL,
    started_at REAL NOT NULL, ended_at REAL, status TEXT NOT NULL,
    scale REAL NOT NULL DEFAULT 1, cells TEXT NOT NULL DEFAULT '[]',
    testers INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    cell TEXT NOT NULL, suite TEXT NOT NULL, sport TEXT NOT NULL, venue TEXT NOT NULL,
    step TEXT NOT NULL, kind TEXT NOT NULL,
    started_at REAL NOT NULL, ended_at REAL NOT NULL,
    passed INTEGER NOT NULL, evidence TEXT NOT NULL, figures TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS steps_run ON steps(run_id);
"""


@dataclass
class StepRecord:
    cell: str
    suite: str
    sport: str
    venue: str
    step: str
    kind: str
    started_at: float
    ended_at: float
    passed: bool
    evidence: list[str]
    figures: dict[str, Any] = field(default_factory=dict)
    run_id: int = 0


def database_path(root: Path) -> Path:
    return work_dir(root) / "campaigns.sqlite3"


class CampaignStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.row_factory = sqlite3.Row
            with db:
                yield db

    def start_run(self, campaign: str, file: str, edition: str, scale: float, cells: list[str],
                  testers: int) -> int:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO runs (campaign, file, edition, started_at, status, scale, cells, "
                "testers) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
                (campaign, file, edition, time.time(), scale, json.dumps(cells), testers))
            return int(cursor.lastrowid or 0)

    def end_run(self, run_id: int, status: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET ended_at = ?, status = ? WHERE id = ?",
                       (time.time(), status, run_id))

    def add_step(self, run_id: int, step: StepRecord) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO steps (run_id, cell, suite, sport, venue, step, kind, started_at, "
                "ended_at, passed, evidence, figures) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, step.cell, step.suite, step.sport, step.venue, step.step, step.kind,
                 step.started_at, step.ended_at, int(step.passed), json.dumps(step.evidence),
                 json.dumps(step.figures)))

    def runs(self, campaign: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs" + (" WHERE campaign = ?" if campaign else "") + " ORDER BY id"
        with self._connect() as db:
            rows = db.execute(query, (campaign,) if campaign else ()).fetchall()
        return [{**dict(r), "cells": json.loads(r["cells"])} for r in rows]

    def steps(self, run_ids: list[int] | None = None) -> list[StepRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM steps ORDER BY id").fetchall()
        wanted = set(run_ids) if run_ids is not None else None
        return [StepRecord(cell=r["cell"], suite=r["suite"], sport=r["sport"], venue=r["venue"],
                           step=r["step"], kind=r["kind"], started_at=r["started_at"],
                           ended_at=r["ended_at"], passed=bool(r["passed"]),
                           evidence=json.loads(r["evidence"]), figures=json.loads(r["figures"]),
                           run_id=r["run_id"])
                for r in rows if wanted is None or r["run_id"] in wanted]


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Temp file in the same directory, fsync, rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
