"""Applies steps and reports them (Pulumi's step_executor.go).

A registration's step runs at once on the thread of its RegisterResource call:
the SDK registers a resource only when what it depends on is done, so the
program's own concurrency is the parallelism dependencies allow. Deletes run in
waves, dependents first, the members of a wave in parallel on a thread pool.
In a dry run (preview) every step is reported as planned and applied with
`dry_run=True`, which changes nothing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

from replicator.docker_client import DockerTimeoutError
from replicator.engine import urn as urns
from replicator.engine.diff import deletion_order
from replicator.engine.events import Diagnostic
from replicator.engine.events import Step as StepEvent
from replicator.engine.goals import Registration, StepFailed, StepRejected
from replicator.engine.providers.base import ProviderError, ReadResult
from replicator.engine.snapshot import dependency_map
from replicator.engine.state import PendingOperation
from replicator.engine.steps import (
    DeleteStep,
    EngineStep,
    RefreshStep,
    ReplaceStep,
    StepContext,
)


class StepExecutor:
    def __init__(self, ctx: StepContext, *, dry_run: bool, parallel: int) -> None:
        self.ctx, self.dry_run, self.parallel = ctx, dry_run, parallel

    def _begin(self, event: StepEvent) -> None:
        self.ctx.log(event)
        event.start()
        self.ctx.sink.step_started(event)

    def _done(self, event: StepEvent, error: str = "") -> None:
        event.finish(error)
        self.ctx.sink.step_finished(event)

    def execute(self, step: EngineStep) -> None:
        """Apply one step; a failure is reported on its event and raised naming the resource."""
        event = step.event
        if self.dry_run:
            self.ctx.log(event)
            self.ctx.sink.step_planned(event)
            step.apply(self.ctx, dry_run=True)
            return
        self._begin(event)
        label = f"{event.type} {event.name}"
        try:
            if isinstance(step, ReplaceStep) and step.dependents:
                self.execute_deletes(step.dependents)
            step.apply(self.ctx, dry_run=False)
        except (ProviderError, StepFailed) as exc:
            self._done(event, str(exc))
            self.ctx.failed = True
            raise StepFailed(f"{label}: {exc}") from exc
        except Exception as exc:  # a bug or an engine fault: still say which resource
            self.ctx.note_engine_fault(exc)
            text = exc.message if isinstance(exc, DockerTimeoutError) else repr(exc)
            self._done(event, text)
            self.ctx.failed = True
            raise StepFailed(f"{label}: {text}") from exc
        self._done(event)

    def reject(self, rejected: StepRejected, type_: str) -> NoReturn:
        """A goal the generator refused: a failed step of the resource, then `StepFailed`."""
        event = StepEvent(urn=rejected.urn, type=type_, name=urns.name_of(rejected.urn),
                          op=rejected.op, custom=True, parent=rejected.parent)
        self._begin(event)
        self._done(event, rejected.message)
        self.ctx.failed = True
        raise StepFailed(f"{type_} {event.name}: {rejected.message}") from rejected

    def read(self, reg: Registration) -> ReadResult | None:
        """The engine read a decision needs (see StepGenerator.wants_read); also in a preview."""
        assert reg.old is not None
        return reg.provider.read(reg.goal.type, reg.old.id, reg.old.inputs, reg.old.outputs)

    def execute_deletes(self, steps: list[DeleteStep]) -> None:
        """Deletes in waves (every resource after those that depend on it); stops at a failed wave."""
        if not steps:
            return
        by_urn: dict[str, list[DeleteStep]] = {}
        for step in steps:
            by_urn.setdefault(step.old.urn, []).append(step)
        waves = deletion_order(list(by_urn), dependency_map(s.old for s in steps))
        errors: list[str] = []

        def run(step: DeleteStep) -> None:
            event = step.event
            if self.dry_run:
                self.ctx.log(event)
                self.ctx.sink.step_planned(event)
                return
            self._begin(event)
            try:
                step.apply(self.ctx, dry_run=False)
                self._done(event)
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                self.ctx.note_engine_fault(exc)
                self._done(event, str(exc))
                errors.append(f"{event.type} {event.name}: {exc}")

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            for wave in waves:
                list(pool.map(run, [s for u in wave for s in by_urn[u]]))
                if errors:
                    break
        if errors:
            self.ctx.failed = True
            raise StepFailed("; ".join(errors))

    def refresh(self, steps: list[RefreshStep]) -> None:
        """Read every resource back, one after the other; one save at the end."""
        for step in steps:
            step.apply(self.ctx, self.dry_run)
            assert step.event is not None
            self.ctx.log(step.event)
            self.ctx.sink.step_planned(step.event)
        self.ctx.snapshot.save()

    def resolve_pending(self) -> None:
        """Clean up after an interrupted run: objects created but never recorded."""
        snapshot = self.ctx.snapshot
        if not snapshot.pending or self.dry_run:
            return
        for op in list(snapshot.pending):
            if op.op == "create" and op.name and op.provider:
                self._remove_orphan(op)
            snapshot.end(op)
        snapshot.save()

    def _remove_orphan(self, op: PendingOperation) -> None:
        try:
            self.ctx.providers.get(op.provider).remove_orphan(op.type, op.name, self.ctx.stack)
            self.ctx.sink.diagnostic(Diagnostic(
                "info", f"resumed: removed {op.name}, left half-made by an interrupted run", op.urn))
        except Exception as exc:  # noqa: BLE001
            self.ctx.note_engine_fault(exc)
            self.ctx.sink.diagnostic(Diagnostic("warning", f"could not clean {op.name}: {exc}", op.urn))
