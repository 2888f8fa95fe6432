"""Steps and the events a deployment emits while it runs.

The deployment never prints: it tells an `EventSink` what it plans and does,
and the display (or a JSON writer, or a test) decides what to show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from replicator.engine.diff import DiffResult, Op


@dataclass
class Step:
    urn: str
    type: str
    name: str
    op: Op
    custom: bool = True
    parent: str = ""
    diff: DiffResult | None = None
    status: str = "planned"  # planned | running | done | failed
    error: str = ""
    started: float = 0.0
    finished: float = 0.0

    def start(self) -> None:
        self.status = "running"
        self.started = time.monotonic()

    def finish(self, error: str = "") -> None:
        self.finished = time.monotonic()
        self.status = "failed" if error else "done"
        self.error = error

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started if self.started else 0.0

    def to_json(self) -> dict[str, object]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "op": self.op.value,
                "status": self.status, "error": self.error,
                "detail": self.diff.describe() if self.diff else "",
                "seconds": round(self.seconds, 3)}


@dataclass
class Diagnostic:
    severity: str  # debug | info | warning | error
    message: str
    urn: str = ""


class EventSink(Protocol):
    def step_planned(self, step: Step) -> None: ...

    def step_started(self, step: Step) -> None: ...

    def step_finished(self, step: Step) -> None: ...

    def diagnostic(self, diag: Diagnostic) -> None: ...


@dataclass
class RecordingSink:
    """Keeps every event; used by tests and by `--json`."""

    steps: list[Step] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def step_planned(self, step: Step) -> None:
        self.steps.append(step)

    def step_started(self, step: Step) -> None:
        if step not in self.steps:
            self.steps.append(step)

    def step_finished(self, step: Step) -> None:
        pass

    def diagnostic(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)


class FanOutSink:
    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def step_planned(self, step: Step) -> None:
        for s in self.sinks:
            s.step_planned(step)

    def step_started(self, step: Step) -> None:
        for s in self.sinks:
            s.step_started(step)

    def step_finished(self, step: Step) -> None:
        for s in self.sinks:
            s.step_finished(step)

    def diagnostic(self, diag: Diagnostic) -> None:
        for s in self.sinks:
            s.diagnostic(diag)
