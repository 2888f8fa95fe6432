"""The steps of a deployment, one class per kind, as in Pulumi's engine (step.go).

The `StepGenerator` decides the steps (it never touches Docker); the
`StepExecutor` applies them. `apply(ctx, dry_run=True)` is the preview of the very
same step: it computes the record the resource would have (outputs the provider
computes stay unknown) and calls nothing that changes an engine. Every step leaves
the resource's new record (`new`) in the snapshot; the executor reports its event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from replicator.docker_client import DockerTimeoutError
from replicator.engine import urn as urns
from replicator.engine.diff import DiffResult, Op
from replicator.engine.events import Diagnostic, EventSink
from replicator.engine.events import Step as StepEvent
from replicator.engine.goals import Registration
from replicator.engine.properties import UNKNOWN, reveal, secretise_like
from replicator.engine.providers.base import ResourceProvider
from replicator.engine.providers.registry import ProviderInstances
from replicator.engine.snapshot import SnapshotPersister
from replicator.engine.state import PendingOperation, ResourceState


class StepContext:
    """What the steps of one deployment share."""

    def __init__(self, *, stack: str, snapshot: SnapshotPersister, providers: ProviderInstances,
                 sink: EventSink) -> None:
        self.stack = stack
        self.snapshot = snapshot
        self.providers = providers
        self.sink = sink
        # Every event reported, in order: the run's result and summary.
        self.events: list[StepEvent] = []
        self.failed = False
        # A Docker engine that stopped answering (a call timed out): the run ends with
        # this error (exit 3) rather than as a failed resource.
        self.engine_error: DockerTimeoutError | None = None

    def log(self, event: StepEvent) -> None:
        with self.snapshot.lock:
            self.events.append(event)

    def note_engine_fault(self, exc: BaseException) -> None:
        """Remember the first Docker timeout seen (anywhere in the exception's chain)."""
        seen: BaseException | None = exc
        while seen is not None and not isinstance(seen, DockerTimeoutError):
            seen = seen.__cause__ or seen.__context__
        if seen is not None and self.engine_error is None:
            self.engine_error = seen


class EngineStep:
    """A step: the event the display shows, and `apply`, which leaves `new` in the snapshot."""

    def __init__(self, event: StepEvent) -> None:
        self.event = event
        self.new: ResourceState | None = None

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        raise NotImplementedError


class SameStep(EngineStep):
    """Nothing to do: the resource keeps its ID and outputs (a component keeps its outputs)."""

    def __init__(self, event: StepEvent, new: ResourceState) -> None:
        super().__init__(event)
        self.new = new

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        assert self.new is not None
        # Not saved: a no-op run should not rewrite the state file once per resource.
        ctx.snapshot.put(self.new)


class CreateStep(EngineStep):
    """A new resource. A component has nothing to create: it is only recorded."""

    def __init__(self, event: StepEvent, reg: Registration | None = None, *,
                 component: ResourceState | None = None) -> None:
        super().__init__(event)
        self.reg, self.component = reg, component

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        if self.component is not None:
            self.new = self.component
        elif self.reg is not None and dry_run:
            self.new = self.reg.record("", self.reg.provider.preview_outputs(self.reg.goal.type,
                                                                             self.reg.inputs))
        elif self.reg is not None:
            rid, outputs = _create(ctx, self.reg)
            self.new = self.reg.record(rid, outputs, keep_created=False)
        assert self.new is not None
        ctx.snapshot.put(self.new)
        if not dry_run:
            ctx.snapshot.save()


class UpdateStep(EngineStep):
    """In place; `refreshed` holds what the provider read when the object changed by itself."""

    def __init__(self, event: StepEvent, reg: Registration, refreshed: dict[str, Any] | None) -> None:
        super().__init__(event)
        self.reg, self.refreshed = reg, refreshed

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        reg, old = self.reg, self.reg.old
        assert old is not None
        rid = old.id
        if dry_run:
            outputs = {**old.outputs, **reg.inputs, **(self.refreshed or {})}
        elif self.refreshed is not None:
            rid, outputs = self.refreshed.get("id", old.id), self.refreshed
        else:
            outputs = reg.provider.update(reg.goal.type, old.id, reveal(old.inputs),
                                          reveal(reg.inputs), reveal(old.outputs))
        self.new = reg.record(rid, outputs)
        ctx.snapshot.put(self.new)
        if not dry_run:
            ctx.snapshot.save()


class DeleteStep(EngineStep):
    """Deletes an object (unless retained) and forgets its record.

    `on_deleted`: a dependent deleted for a replacement tells the generator, which
    replaces it when it registers again.
    """

    def __init__(self, event: StepEvent, old: ResourceState, *,
                 on_deleted: Callable[[str], None] | None = None) -> None:
        super().__init__(event)
        self.old, self.on_deleted = old, on_deleted

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        if dry_run:
            return
        old = self.old
        provider = ctx.providers.get(old.provider) if old.custom and old.provider else None
        delete_resource(ctx, old, provider)
        if self.on_deleted is not None:
            self.on_deleted(old.urn)


class ReplaceStep(CreateStep):
    """A new object for the resource: Pulumi's DeleteReplaced + CreateReplacement.

    `delete_first`: the old object goes before the new one is created (delete-before-
    replace, or the same Docker name, unique per engine); the executor first deletes
    `dependents` (what depends on the old object). Otherwise the old object is deleted
    after the program, with the other deletes.
    """

    def __init__(self, event: StepEvent, reg: Registration, *, delete_first: bool,
                 dependents: list[DeleteStep]) -> None:
        super().__init__(event, reg)
        self.delete_first, self.dependents = delete_first, dependents

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        reg = self.reg
        assert reg is not None
        if not dry_run and self.delete_first and reg.old is not None:
            old = reg.old
            delete_resource(ctx, old, ctx.providers.get(old.provider) if old.provider else reg.provider)
        super().apply(ctx, dry_run)


class ProviderStep(EngineStep):
    """A provider resource registered (same, new, or another instance): recorded, and the
    engine it runs against noted in the state (the hosts report reads it)."""

    def __init__(self, event: StepEvent, new: ResourceState, provider: ResourceProvider) -> None:
        super().__init__(event)
        self.new, self.provider = new, provider

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        new = self.new
        assert new is not None
        ctx.snapshot.put(new)
        if dry_run:
            return
        try:
            info = self.provider.engine_info()
            with ctx.snapshot.lock:
                ctx.snapshot.engines[new.urn] = info
        except Exception as exc:  # noqa: BLE001 - reported, not fatal for a provider
            ctx.note_engine_fault(exc)
            where = new.inputs.get("host") or urns.name_of(new.urn)
            ctx.sink.diagnostic(Diagnostic("warning", f"cannot read engine info of {where}: {exc}",
                                           new.urn))
        ctx.snapshot.save()


class ReadStep(SameStep):
    """A resource read, not managed (a StackReference): recorded like an unchanged one;
    deleting it only forgets the record (there is no object behind it)."""


class RefreshStep:
    """Reads a resource back from its engine: gone (forgotten), drifted or changed, or same.

    Its op is known only once read, so its event is made by `apply`.
    """

    def __init__(self, old: ResourceState, provider: ResourceProvider) -> None:
        self.old, self.provider = old, provider
        self.event: StepEvent | None = None

    def apply(self, ctx: StepContext, dry_run: bool) -> None:
        old, provider = self.old, self.provider
        read = provider.read(old.type, old.id, reveal(old.inputs), reveal(old.outputs))
        if read is None:
            op, diff = Op.DELETE, DiffResult(Op.DELETE, reason="gone from the Docker engine")
            if not dry_run:
                with ctx.snapshot.lock:
                    ctx.snapshot.live.pop(old.urn, None)
        else:
            drift = provider.drift(old.type, read.observed, reveal(old.inputs))
            changed = reveal(read.outputs) != reveal(old.outputs)
            op = Op.UPDATE if (drift or changed) else Op.SAME
            diff = DiffResult(op, reason=drift)
            if not dry_run:
                # Outputs as read, secret where they were: observing is not a change.
                ctx.snapshot.put(replace(old, observed=read.observed,
                                         outputs=secretise_like(read.outputs, old.outputs)))
        self.event = StepEvent(urn=old.urn, type=old.type, name=urns.name_of(old.urn), op=op,
                               custom=True, parent=old.parent, diff=diff)


def delete_resource(ctx: StepContext, record: ResourceState, provider: ResourceProvider | None) -> None:
    """Delete `record`'s object (a pending operation while it runs), then forget the record."""
    if record.custom and provider is not None and record.id and record.id != UNKNOWN \
            and not record.retain_on_delete \
            and not record.type.startswith(urns.PROVIDER_TYPE_PREFIX) \
            and record.type != urns.STACK_REFERENCE_TYPE:
        pending = PendingOperation(urn=record.urn, type=record.type, op="delete",
                                   name=provider.object_name(record.type, reveal(record.inputs)),
                                   provider=record.provider)
        ctx.snapshot.begin(pending, save=False)
        provider.delete(record.type, record.id, reveal(record.inputs), reveal(record.outputs))
        ctx.snapshot.end(pending)
    ctx.snapshot.remove(record)
    ctx.snapshot.save()


def _create(ctx: StepContext, reg: Registration) -> tuple[str, dict[str, Any]]:
    plain = reveal(reg.inputs)
    # Recorded (and saved) before the call: the next run removes what a kill left half-made.
    pending = PendingOperation(urn=reg.urn, type=reg.goal.type, op="create",
                               name=reg.provider.object_name(reg.goal.type, plain),
                               provider=reg.provider_ref)
    ctx.snapshot.begin(pending, save=True)
    rid, outputs = reg.provider.create(reg.goal.type, reg.urn, plain)
    ctx.snapshot.end(pending)
    return rid, outputs
