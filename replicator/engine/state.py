"""The state of one stack: what the engine created, written atomically.

One JSON file per stack, in the layout and format of Pulumi's file backend
(`.pulumi/stacks/<project>/<stack>.json`, a version 3 checkpoint; see
`pulumi_state`); a file of this engine's first format is migrated on first
load. Every step the
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

STATE_VERSION = 3  # Pulumi's checkpoint / deployment version
LEGACY_VERSION = 1  # this engine's first format, migrated on first load


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
    # Input property -> the URNs its value came from (Pulumi's propertyDependencies).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
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

    def __init__(self, workdir: Path, stack: str, project: str, secrets: SecretsManager, *,
                 path: Path | None = None, legacy_path: Path | None = None) -> None:
        self.path = path or workdir / "state" / f"{stack}.json"
        # Where a state of the first format may still be (migrated on first load).
        self.legacy_path = legacy_path
        self.dir = self.path.parent
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
        return self.path.exists() or bool(self.legacy_path and self.legacy_path.exists())

    def load(self) -> StackState:
        if not self.path.exists() and self.legacy_path is not None and self.legacy_path.exists():
            return self._migrate(self.legacy_path)
        if not self.path.exists():
            return StackState(stack=self.stack, project=self.project)
        raw = self._read_json(self.path)
        if raw.get("version") == LEGACY_VERSION:
            return self._migrate(self.path)
        if raw.get("version") != STATE_VERSION or not isinstance(raw.get("checkpoint"), dict):
            raise InputError(
                f"state version {raw.get('version')!r} is not supported (expected a Pulumi "
                f"checkpoint, version {STATE_VERSION})",
                file=self.path, path="version",
                fix="restore the file from a backup, or import a deployment with "
                    "`replicator stack import`")
        checkpoint = self._secrets.decrypt_tree(raw["checkpoint"], where=str(self.path))
        return self.from_deployment(checkpoint.get("latest") or {},
                                    extras=checkpoint.get("replicator") or {}, where=self.path)

    def from_deployment(self, deployment: dict[str, Any], *, extras: dict[str, Any] | None = None,
                        where: Path | str = "") -> StackState:
        """A v3 deployment (secrets decrypted) as this stack's state; bad input is exit 2."""
        # Imported here: pulumi_state builds on this module's classes.
        from pydantic import ValidationError

        from replicator.engine import pulumi_state

        try:
            model = pulumi_state.Deployment.model_validate(deployment)
        except ValidationError as exc:
            first = exc.errors()[0]
            field_path = ".".join(str(p) for p in first["loc"])
            raise InputError(f"not a Pulumi v3 deployment: {first['msg']}", file=where or None,
                             path=field_path,
                             fix="give a deployment written by `pulumi stack export` or "
                                 "`replicator stack export`") from exc
        return pulumi_state.from_deployment(model, stack=self.stack, project=self.project,
                                            extras=extras)

    def _read_json(self, path: Path) -> dict[str, Any]:
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(
                f"state file is not valid JSON ({exc.msg})",
                file=path,
                line=exc.lineno,
                fix="restore it from a backup, or remove it and import a deployment",
            ) from exc
        if not isinstance(raw, dict):
            raise InputError("state file is not a JSON object", file=path)
        return raw

    def _migrate(self, path: Path) -> StackState:
        """A state file of the first format: read it, write it as a checkpoint, keep a copy."""
        raw = self._read_json(path)
        if raw.get("version") != LEGACY_VERSION:
            raise InputError(f"state version {raw.get('version')!r} is not supported", file=path,
                             path="version")
        data = self._secrets.decrypt_tree(raw, where=str(path))
        state = StackState(
            stack=data["stack"],
            project=data["project"],
            resources=[ResourceState.from_json(r) for r in data.get("resources", [])],
            outputs=data.get("outputs", {}),
            engines=data.get("engines", {}),
            pending=[PendingOperation(**p) for p in data.get("pending", [])],
            last_operation=data.get("lastOperation", {}),
        )
        self.save(state)  # atomic: the new file is complete before the old one moves
        os.replace(path, path.with_name(path.name + ".v1.bak"))
        return state

    # -- writing -------------------------------------------------------------
    def checkpoint(self, state: StackState) -> dict[str, Any]:
        """The file backend's checkpoint for `state`, secrets encrypted."""
        from replicator.engine import pulumi_state

        deployment = pulumi_state.to_deployment(state).model_dump(mode="json",
                                                                   exclude_defaults=True)
        return self._secrets.encrypt_tree({
            "version": STATE_VERSION,
            "checkpoint": {"stack": f"organization/{self.project}/{self.stack}",
                           "latest": deployment,
                           "replicator": pulumi_state.extras_of(state)},
        })

    def save(self, state: StackState) -> None:
        text = json.dumps(self.checkpoint(state), indent=1, sort_keys=False)
        with self._write_lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path, text)

    def remove(self) -> None:
        with self._write_lock:
            if self.path.exists():
                self.path.unlink()


def command_line() -> str:
    return " ".join(["replicator", *sys.argv[1:]])[:200]
