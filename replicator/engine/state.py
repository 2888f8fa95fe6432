"""The state of one stack: what the engine created, written atomically.

One JSON file per stack under `<workdir>/state/<stack>.json`. Every step the
engine applies is checkpointed at once (write to a temporary file in the same
directory, fsync, rename), so an interrupted run leaves a state that tells the
next run exactly what exists. A lock file beside it (an `flock`, released by
the kernel even when the process is killed) refuses a second concurrent run.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import socket
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from replicator.engine.secrets import SecretsManager
from replicator.atomic import write_atomic as _atomic_write
from replicator.errors import InputError, StackLockedError

STATE_VERSION = 1


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class ResourceState:
    urn: str
    type: str
    custom: bool
    id: str = ""
    parent: str = ""
    provider: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    retain_on_delete: bool = False
    # What the last refresh observed that is not an output (e.g. a stopped container).
    observed: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    modified: str = ""

    @property
    def name(self) -> str:
        return self.urn.split("::", 3)[3]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResourceState:
        return cls(**data)


@dataclass
class PendingOperation:
    """A step started but not known to have finished (the run was interrupted)."""

    urn: str
    type: str
    op: str  # create | delete | update
    name: str  # the Docker object name, to find it again
    provider: str = ""


@dataclass
class StackState:
    stack: str
    project: str
    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    engines: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[PendingOperation] = field(default_factory=list)
    last_operation: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, ResourceState]:
        return {r.urn: r for r in self.resources}


class StateStore:
    """Reads and writes one stack's state file; thread-safe checkpoints."""

    def __init__(self, workdir: Path, stack: str, project: str, secrets: SecretsManager) -> None:
        self.dir = workdir / "state"
        self.path = self.dir / f"{stack}.json"
        self.lock_path = self.dir / f"{stack}.lock"
        self.stack = stack
        self.project = project
        self._secrets = secrets
        self._write_lock = threading.Lock()
        self._lock_fh: Any = None

    # -- locking -----------------------------------------------------------
    def acquire_lock(self, command: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.lock_path, "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            try:
                info = json.loads(holder)
                who = f"pid {info['pid']} ({info['command']}, started {info['started']})"
            except (ValueError, KeyError):
                who = "another process"
            raise StackLockedError(
                f"stack {self.stack} is locked by {who}: another run is updating it",
                file=self.lock_path,
                fix="wait for that run to finish; the lock is released as soon as it exits",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "command": command, "started": _now(),
                             "host": socket.gethostname()}))
        fh.flush()
        self._lock_fh = fh

    def release_lock(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.seek(0)
            self._lock_fh.truncate()
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # -- reading -------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> StackState:
        if not self.path.exists():
            return StackState(stack=self.stack, project=self.project)
        try:
            raw = json.loads(self.path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(
                f"state file is not valid JSON ({exc.msg})",
                file=self.path,
                line=exc.lineno,
                fix="restore it from the .bak copy beside it, or remove it and import nothing",
            ) from exc
        if raw.get("version") != STATE_VERSION:
            raise InputError(
                f"state version {raw.get('version')!r} is not supported (expected {STATE_VERSION})",
                file=self.path,
                path="version",
            )
        data = self._secrets.decrypt_tree(raw, where=str(self.path))
        return StackState(
            stack=data["stack"],
            project=data["project"],
            resources=[ResourceState.from_json(r) for r in data.get("resources", [])],
            outputs=data.get("outputs", {}),
            engines=data.get("engines", {}),
            pending=[PendingOperation(**p) for p in data.get("pending", [])],
            last_operation=data.get("lastOperation", {}),
        )

    # -- writing -------------------------------------------------------------
    def save(self, state: StackState) -> None:
        payload = {
            "version": STATE_VERSION,
            "stack": state.stack,
            "project": state.project,
            "updated": _now(),
            "lastOperation": state.last_operation,
            "engines": state.engines,
            "outputs": state.outputs,
            "resources": [r.to_json() for r in state.resources],
            "pending": [asdict(p) for p in state.pending],
        }
        text = json.dumps(self._secrets.encrypt_tree(payload), indent=1, sort_keys=False)
        with self._write_lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path, text)

    def remove(self) -> None:
        with self._write_lock:
            if self.path.exists():
                self.path.unlink()


def command_line() -> str:
    return " ".join(["replicator", *sys.argv[1:]])[:200]
