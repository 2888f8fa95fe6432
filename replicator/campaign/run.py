"""Running a campaign: its cells' steps in order, each recorded as soon as it ends.

Progress goes to a `Progress` sink (the CLI draws cells, steps, elapsed time and
ETA). Ctrl-C or SIGTERM sets a flag the steps poll; the step in progress undoes
its fault, the replayer's load is stopped, the run is recorded as
`interrupted` with every step done so far, and `Cancelled` is raised (exit 5).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from replicator.campaign.driver import Interrupted, Replica
from replicator.campaign.model import Campaign, Cell
from replicator.campaign.schedule import Schedule
from replicator.campaign.steps import KINDS, Context, Outcome
from replicator.campaign.store import CampaignStore, StepRecord
from replicator.errors import ExitCode, InputError, ReplicatorError


class Cancelled(ReplicatorError):
    exit_code = ExitCode.CANCELLED


class Progress(Protocol):
    def started(self, run_id: int, cells: list[Cell], steps: int) -> None: ...
    def step_started(self, cell: Cell, title: str) -> None: ...
    def step_done(self, record: StepRecord) -> None: ...


@dataclass
class RunSummary:
    run_id: int
    status: str
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@contextmanager
def _stop_flag() -> Iterator[list[bool]]:
    """A flag set by SIGINT or SIGTERM (the previous handlers come back after)."""
    flag = [False]

    def handler(signum: int, frame: object) -> None:
        flag[0] = True

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_campaign(root: Path, campaign: Campaign, schedule: Schedule, *, file: str,
                 edition: str, cells: list[str] | None, scale: float, store: CampaignStore,
                 progress: Progress) -> RunSummary:
    chosen = campaign.selected(cells)
    unknown = sorted(set(cells or ()) - {c.name for c in campaign.cells})
    if unknown:
        raise InputError(f"no cell {', '.join(unknown)} in campaign {campaign.campaign}",
                         file=file, path="--cell", fix="use one of: " + ", ".join(c.name for c in campaign.cells))
    with _stop_flag() as flag:
        replica = Replica(root, edition, lambda: flag[0])
        ctx = Context(root=root, replica=replica, schedule=schedule, scale=scale)
        run_id = store.start_run(campaign.campaign, file, edition, scale,
                                 [c.name for c in chosen], sum(c.testers for c in chosen))
        summary = RunSummary(run_id, "running")
        progress.started(run_id, chosen, sum(len(c.steps) for c in chosen))
        try:
            for cell in chosen:
                for step in cell.steps:
                    summary.steps.append(_one(cell, step, ctx, store, run_id, progress))
        except (Interrupted, KeyboardInterrupt):
            replica.stop_load()
            store.end_run(run_id, "interrupted")
            raise Cancelled(f"campaign run {run_id} interrupted after {len(summary.steps)} "
                            "step(s); what was done is recorded",
                            fix="run it again; `replicator campaign report` shows the record"
                            ) from None
        except BaseException:
            store.end_run(run_id, "error")
            raise
    summary.status = "passed" if all(s.passed for s in summary.steps) else "failed"
    store.end_run(run_id, summary.status)
    return summary


def _one(cell: Cell, step, ctx: Context, store: CampaignStore, run_id: int,
         progress: Progress) -> StepRecord:
    title = step.title()
    progress.step_started(cell, title)
    started = time.time()
    try:
        outcome = KINDS[step.kind](step, cell, ctx)
    except (Interrupted, KeyboardInterrupt):
        raise
    except ReplicatorError as exc:  # the replica answered badly: a failed step, not a crash
        outcome = Outcome(False, [f"FAILED: {exc.render()}"])
    record = StepRecord(cell=cell.name, suite=cell.suite, sport=cell.sport, venue=cell.venue,
                        step=title, kind=step.kind, started_at=started, ended_at=time.time(),
                        passed=outcome.passed, evidence=outcome.evidence,
                        figures={**outcome.figures, "testers": cell.testers}, run_id=run_id)
    store.add_step(run_id, record)
    progress.step_done(record)
    return record
