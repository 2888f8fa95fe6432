"""What one pass of the site playbook did: per-host stats, changed, failed and unreachable tasks,
read from ansible-runner's events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# The last task of site.yml on every host: progress counts a host as done there.
DONE_TASK = "Container configured"

EventHandler = Callable[[Mapping[str, Any]], None]

# --------------------------------------------------------------------------- results


@dataclass
class HostStats:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class TaskOutcome:
    """One task on one host that changed something, failed, or was unreachable."""

    host: str
    task: str
    role: str = ""
    message: str = ""
    handler: bool = False

    @property
    def label(self) -> str:
        return f"{self.role} : {self.task}" if self.role else self.task

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "task": self.label, "role": self.role,
                "message": self.message, "handler": self.handler}


@dataclass
class PlaybookResult:
    status: str
    rc: int
    seconds: float
    check: bool = False
    hosts: dict[str, HostStats] = field(default_factory=dict)
    changes: list[TaskOutcome] = field(default_factory=list)
    failures: list[TaskOutcome] = field(default_factory=list)
    unreachable: list[TaskOutcome] = field(default_factory=list)
    artifact_dir: Path | None = None
    label: str = ""

    @property
    def succeeded(self) -> bool:
        return self.rc == 0 and self.status == "successful" and not self.failures \
            and not self.unreachable

    @property
    def changed_total(self) -> int:
        return sum(h.changed for h in self.hosts.values())

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "status": self.status, "rc": self.rc,
                "succeeded": self.succeeded, "check": self.check,
                "seconds": round(self.seconds, 2), "changed": self.changed_total,
                "hosts": {h: s.to_json() for h, s in sorted(self.hosts.items())},
                "changes": [c.to_json() for c in self.changes],
                "failures": [f.to_json() for f in self.failures],
                "unreachable": [u.to_json() for u in self.unreachable],
                "artifacts": str(self.artifact_dir) if self.artifact_dir else None}


# --------------------------------------------------------------------------- events


def _task_of(data: Mapping[str, Any]) -> tuple[str, str]:
    task = str(data.get("task") or data.get("name") or "")
    role = str(data.get("role") or "")
    prefix = f"{role} : "
    if role and task.startswith(prefix):
        task = task[len(prefix):]
    return task, role


def failure_message(res: Mapping[str, Any] | None) -> str:
    """A short, readable reason from a module result."""
    if not res:
        return ""
    if "censored" in res:
        return "output hidden (no_log task): run the role by hand with the secret set to see it"
    if res.get("results"):
        msgs = [failure_message(item) for item in res["results"]
                if isinstance(item, Mapping) and (item.get("failed") or item.get("unreachable"))]
        msgs = [m for m in msgs if m]
        if msgs:
            return "; ".join(msgs[:3])
    parts: list[str] = []
    for key in ("msg", "reason"):
        value = res.get(key)
        if value:
            parts.append(str(value).strip())
            break
    for key in ("stderr", "module_stderr", "stdout", "module_stdout"):
        value = res.get(key)
        if value and str(value).strip() and str(value).strip() not in parts:
            lines = str(value).strip().splitlines()
            parts.append(" | ".join(lines[-3:]))
            break
    if not parts and "status" in res:
        parts.append(f"HTTP status {res['status']}")
    if "rc" in res and res.get("rc") not in (0, None):
        parts.append(f"rc={res['rc']}")
    return "; ".join(parts)[:600]


def changed(event: Mapping[str, Any]) -> bool:
    """Whether a task result changed something.

    A `no_log` task's result is censored down to one key, `changed` included, so
    the line Ansible printed for it (`changed: [host]`) is what tells; without
    this, a secret-handling task that changes on every run would pass the gate.
    """
    res = (event.get("event_data") or {}).get("res") or {}
    if "censored" in res and "changed" not in res:
        last = str(event.get("stdout") or "").strip().splitlines()[-1:]
        return bool(last) and last[0].startswith("changed:")
    return bool(res.get("changed"))


def _is_handler(data: Mapping[str, Any]) -> bool:
    # The free strategy reports handlers as plain tasks: tell them by their file.
    path = str(data.get("task_path") or "")
    return "/handlers/" in path.replace("\\", "/")


def parse_events(events: Iterable[Mapping[str, Any]]) -> tuple[
        dict[str, HostStats], list[TaskOutcome], list[TaskOutcome], list[TaskOutcome]]:
    """Host stats, changed tasks, failed tasks and unreachable hosts of a run's events."""
    hosts: dict[str, HostStats] = {}
    changes: list[TaskOutcome] = []
    failures: list[TaskOutcome] = []
    unreachable: list[TaskOutcome] = []
    stats: Mapping[str, Any] | None = None
    for event in events:
        kind = event.get("event")
        data = event.get("event_data") or {}
        if kind == "playbook_on_stats":
            stats = data
            continue
        host = data.get("host")
        if not host:
            continue
        task, role = _task_of(data)
        handler = _is_handler(data)
        res = data.get("res") or {}
        if kind == "runner_on_ok" and changed(event):
            changes.append(TaskOutcome(host, task, role, handler=handler))
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            if changed(event):
                changes.append(TaskOutcome(host, task, role, handler=handler))
            failures.append(TaskOutcome(host, task, role, failure_message(res), handler))
        elif kind == "runner_on_unreachable":
            unreachable.append(TaskOutcome(host, task, role, failure_message(res), handler))
    if stats is not None:
        names = {"ok": "ok", "changed": "changed", "failures": "failed", "dark": "unreachable",
                 "skipped": "skipped", "rescued": "rescued", "ignored": "ignored"}
        for key, attr in names.items():
            for host, count in (stats.get(key) or {}).items():
                setattr(hosts.setdefault(host, HostStats()), attr, int(count))
    return hosts, changes, failures, unreachable
