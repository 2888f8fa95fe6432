"""Registrations -> steps (Pulumi's step_generator.go). Decides, never touches Docker.

For each goal the generator checks the inputs with the goal's provider, diffs
them against the old state (`diff.py`) and returns the step to apply: same,
create, update, replace (with the dependents a delete-before-replace takes down
first), read; after the program, the deletes of what it no longer declares. The
only engine read a decision needs (an image rebuilt under its tag) is done by the
executor and handed back through `diff_after_read`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from replicator.engine import urn as urns
from replicator.engine.autoname import autoname, is_autonamed
from replicator.engine.diff import DiffResult, Op, apply_ignore_changes, diff_inputs
from replicator.engine.events import Diagnostic
from replicator.engine.events import Step as StepEvent
from replicator.engine.goals import Goal, Registration, StepFailed, StepRejected
from replicator.engine.properties import UNKNOWN, is_secret, reveal, strip_resource_refs
from replicator.engine.providers.base import ProviderError, ReadResult, ResourceProvider
from replicator.engine.providers.registry import default_provider_inputs, plugin_for
from replicator.engine.state import ResourceState, _now
from replicator.engine.steps import (
    CreateStep,
    DeleteStep,
    EngineStep,
    ProviderStep,
    ReadStep,
    RefreshStep,
    ReplaceStep,
    SameStep,
    StepContext,
    UpdateStep,
)


class StepGenerator:
    def __init__(self, ctx: StepContext, *, project: str, config: dict[str, str],
                 dry_run: bool) -> None:
        self.ctx, self.project, self.dry_run = ctx, project, dry_run
        self.stack = ctx.stack
        self.snapshot = ctx.snapshot
        self._config = config
        self.registered: list[str] = []
        # Deleted (or, in a preview, to be deleted) because something they depend on is
        # replaced delete-first: they come back as replacements when they register.
        self.gone_for_replacement: set[str] = set()
        self.root_urn = urns.make_urn(self.stack, project, urns.STACK_TYPE,
                                      f"{project}-{self.stack}", None)

    def _event(self, urn: str, type_: str, op: Op, *, custom: bool, parent: str,
               diff: DiffResult | None = None) -> StepEvent:
        return StepEvent(urn=urn, type=type_, name=urns.name_of(urn), op=op, custom=custom,
                         parent=parent, diff=diff)

    def _claim(self, urn: str, goal: Goal) -> None:
        """Record a registration; the same URN twice in one run is a program error."""
        with self.snapshot.lock:
            if urn in self.registered:
                self.ctx.failed = True
                raise StepFailed(f"Duplicate resource URN {urn!r}: two resources of type "
                                 f"{goal.type} are named {goal.name!r}; give each a unique name")
            self.registered.append(urn)

    # ------------------------------------------------------------------ providers
    def provider_for(self, ref: str, package: str, version: str = "") -> tuple[str, ResourceProvider]:
        """A provider reference (`urn::id`, or "" for the package's default provider)."""
        if not ref:
            ref = self._default_provider(package, version)
        return ref, self.ctx.providers.get(ref)

    def _default_provider(self, package: str, version: str) -> str:
        plugin = plugin_for(package)
        purn = urns.default_provider_urn(self.stack, self.project, package, version)
        # As Pulumi does: the default provider takes its inputs from the package's
        # config namespace (`docker:host` in Pulumi.yaml or the stack file).
        inputs = default_provider_inputs(self._config, package)
        for key, value in plugin.defaults().items():
            inputs.setdefault(key, value)
        inputs["version"] = version
        with self.snapshot.lock:
            old = self.snapshot.base.get(purn)
            if purn not in self.registered:
                same = old is not None and plugin.same_instance(old.inputs, inputs)
                pid = old.id if old and same else str(uuid.uuid4())
                self.snapshot.put(ResourceState(
                    urn=purn, type=f"{urns.PROVIDER_TYPE_PREFIX}{package}", custom=True, id=pid,
                    inputs=dict(inputs), outputs=dict(inputs),
                    created=old.created if old else _now(), modified=_now()))
                self.registered.append(purn)
            return urns.provider_ref(purn, self.snapshot.live[purn].id)

    def provider_step(self, goal: Goal) -> ProviderStep:
        purn = urns.make_urn(self.stack, self.project, goal.type, goal.name, goal.parent or None)
        try:
            plugin = plugin_for(urns.package_of(goal.type))
        except ProviderError as exc:
            raise StepRejected(purn, goal.parent, Op.CREATE, str(exc)) from exc
        inputs = strip_resource_refs(goal.inputs)
        for key, value in plugin.defaults().items():
            inputs[key] = inputs.get(key) or value
        old = self.snapshot.base.get(purn)
        same = old is not None and plugin.same_instance(old.inputs, inputs)
        op = Op.SAME if same else (Op.REPLACE if old else Op.CREATE)
        event = self._event(purn, goal.type, op, custom=True, parent=goal.parent,
                            diff=DiffResult(op, plugin.identity if op == Op.REPLACE else ()))
        pid = old.id if same and old else (UNKNOWN if self.dry_run else str(uuid.uuid4()))
        record = ResourceState(urn=purn, type=goal.type, custom=True, id=pid, parent=goal.parent,
                               inputs=inputs, outputs=dict(inputs), dependencies=goal.dependencies,
                               created=old.created if old and same else _now(), modified=_now())
        provider = self.ctx.providers.make(plugin.package, inputs)
        with self.snapshot.lock:
            self.registered.append(purn)
            if old and not same:
                # The old instance stays usable to delete what it created.
                self.snapshot.replaced.append(old)
            self.ctx.providers.add(urns.provider_ref(purn, pid), provider)
        return ProviderStep(event, record, provider)

    # ------------------------------------------------------------------ resources
    def urn_of(self, goal: Goal) -> tuple[str, str]:
        """The goal's URN and parent (the root stack unless given)."""
        parent = goal.parent or ("" if goal.type == urns.STACK_TYPE else self.root_urn)
        return urns.make_urn(self.stack, self.project, goal.type, goal.name, parent or None), parent

    def component_step(self, urn: str, goal: Goal, parent: str) -> EngineStep:
        old = self.snapshot.base.get(urn)
        self._claim(urn, goal)
        record = ResourceState(urn=urn, type=goal.type, custom=False, parent=parent,
                               inputs={}, outputs=old.outputs if old else {},
                               dependencies=goal.dependencies, protect=goal.protect,
                               created=old.created if old else _now(), modified=_now())
        event = self._event(urn, goal.type, Op.SAME if old else Op.CREATE, custom=False,
                            parent=parent)
        return SameStep(event, record) if old else CreateStep(event, component=record)

    def prepare(self, urn: str, goal: Goal, parent: str) -> Registration:
        """The goal checked by its provider (a check failure names the resource)."""
        if goal.unsupported:
            self.ctx.sink.diagnostic(Diagnostic(
                "warning", f"resource option(s) {', '.join(goal.unsupported)} are not supported by "
                "the embedded engine and were ignored (use --engine pulumi)", urn))
        old = self.snapshot.base.get(urn)
        if urn in self.gone_for_replacement:
            old = None  # deleted already because something it depends on was replaced
        try:
            provider_ref, provider = self.provider_for(goal.provider, urns.package_of(goal.type),
                                                       goal.version)
            raw = strip_resource_refs(goal.inputs)
            inputs = provider.check(goal.type, autoname(provider, goal.type, goal.name, raw,
                                                        old.inputs if old else None))
        except ProviderError as exc:
            raise StepRejected(urn, parent, Op.CREATE, str(exc)) from exc
        if old is not None and goal.ignore_changes:
            inputs = apply_ignore_changes(old.inputs, inputs, goal.ignore_changes)
        return Registration(urn, goal, parent, provider_ref, provider, inputs, old)

    def diff(self, reg: Registration) -> DiffResult:
        old, goal = reg.old, reg.goal
        drift = reg.provider.drift(goal.type, old.observed, reg.inputs) if old else ""
        return diff_inputs(
            old.inputs if old else None, reg.inputs, reg.provider.schema(goal.type),
            replace_on_changes=goal.replace_on_changes,
            provider_changed=bool(old and old.provider and old.provider != reg.provider_ref),
            drift=drift, drift_update=bool(drift) and reg.provider.repairs_drift(goal.type),
            delete_before_replace=goal.delete_before_replace)

    @staticmethod
    def wants_read(reg: Registration, diff: DiffResult) -> bool:
        """Unchanged inputs, but the object may have changed by itself (a rebuilt image)."""
        return diff.op == Op.SAME and reg.old is not None \
            and reg.provider.refreshes_on_diff(reg.goal.type)

    @staticmethod
    def diff_after_read(reg: Registration, diff: DiffResult, read: ReadResult | None,
                        ) -> tuple[DiffResult, dict[str, Any] | None]:
        if read is not None and reg.old is not None and read.outputs == reg.old.outputs:
            return diff, None
        if read is None:
            return DiffResult(Op.REPLACE, (), ("imageId",), "the image is gone"), None
        return DiffResult(Op.UPDATE, ("imageId",), (), "the image was rebuilt"), read.outputs

    def custom_step(self, reg: Registration, diff: DiffResult,
                    refreshed: dict[str, Any] | None) -> EngineStep:
        urn, goal, old, provider = reg.urn, reg.goal, reg.old, reg.provider
        gone = urn in self.gone_for_replacement
        if gone:
            diff = DiffResult(Op.REPLACE, diff.changed, diff.replace_keys,
                              "a resource it depends on was replaced", True)
        if old is not None and old.protect and diff.op == Op.REPLACE and not gone:
            raise StepRejected(urn, reg.parent, diff.op,
                               f"resource {urns.name_of(urn)} is protected and cannot be replaced "
                               f"({diff.describe()}): set protect=False first")
        if diff.op == Op.REPLACE and is_autonamed(provider, goal.type, strip_resource_refs(goal.inputs)):
            # As Pulumi re-runs Check without the old inputs: a replacement gets a new name.
            reg.inputs = {**reg.inputs, **autoname(provider, goal.type, goal.name, {}, None)}
        self._claim(urn, goal)
        event = self._event(urn, goal.type, diff.op, custom=True, parent=reg.parent, diff=diff)
        if diff.op == Op.SAME and old is not None:
            return SameStep(event, reg.record(old.id, old.outputs))
        if diff.op == Op.UPDATE and old is not None:
            return UpdateStep(event, reg, refreshed)
        if diff.op == Op.REPLACE and old is not None:
            # A Docker name is unique per engine: under the same name the old object must go first.
            delete_first = diff.delete_before_replace or provider.object_name(
                goal.type, reveal(reg.inputs)) == provider.object_name(goal.type, reveal(old.inputs))
            if not delete_first:
                if not self.dry_run:
                    with self.snapshot.lock:
                        self.snapshot.replaced.append(old)
                return ReplaceStep(event, reg, delete_first=False, dependents=[])
            return ReplaceStep(event, reg, delete_first=True, dependents=self._dependents(reg))
        return CreateStep(event, reg)

    def _dependents(self, reg: Registration) -> list[DeleteStep]:
        """Before a delete-before-replace: what depends on the old resource goes first."""
        urn = reg.urn
        victims = self.snapshot.dependents_of(urn)
        protected = [urns.name_of(v.urn) for v in victims if v.protect]
        if protected:
            raise StepRejected(
                urn, reg.parent, Op.REPLACE,
                f"replacing {urns.name_of(urn)} would delete the protected resource(s) "
                f"{', '.join(sorted(protected))} that depend on it: set protect=False on them first")
        if self.dry_run:
            with self.snapshot.lock:
                self.gone_for_replacement.update(v.urn for v in victims)
            return []
        return [self.delete_step(v, "replaced with a resource it depends on",
                                 on_deleted=self._mark_gone) for v in victims]

    def read_step(self, type_: str, name: str, ref_id: str, parent: str,
                  outputs: dict[str, Any] | None) -> ReadStep:
        """A StackReference: the other stack's outputs (unknown in a preview until it has some)."""
        urn = urns.make_urn(self.stack, self.project, type_, name, parent or self.root_urn)
        if outputs is None:
            if not self.dry_run:
                stack_name = ref_id.rsplit("/", 1)[-1]
                raise StepFailed(f"stack reference {ref_id}: stack {stack_name} has no outputs yet; "
                                 f"deploy it first (`replicator up {stack_name}`)")
            props: dict[str, Any] = {"name": ref_id, "outputs": UNKNOWN, "secretOutputNames": []}
        else:
            props = {"name": ref_id, "outputs": outputs,
                     "secretOutputNames": sorted(k for k, v in outputs.items() if is_secret(v))}
        record = ResourceState(urn=urn, type=type_, custom=True, id=ref_id,
                               parent=parent or self.root_urn, inputs={"name": ref_id},
                               outputs=props, created=_now(), modified=_now())
        with self.snapshot.lock:
            self.registered.append(urn)
        return ReadStep(self._event(urn, type_, Op.READ, custom=True, parent=parent), record)

    # ------------------------------------------------------------------ deletes, refresh
    def delete_step(self, record: ResourceState, reason: str = "", *,
                    on_deleted: Callable[[str], None] | None = None) -> DeleteStep:
        event = self._event(record.urn, record.type, Op.DELETE, custom=record.custom,
                            parent=record.parent,
                            diff=DiffResult(Op.DELETE, reason=reason) if reason else None)
        return DeleteStep(event, record, on_deleted=on_deleted)

    def _mark_gone(self, urn: str) -> None:
        """A dependent deleted for a replacement: it is replaced when it registers."""
        with self.snapshot.lock:
            self.gone_for_replacement.add(urn)

    def deletes_after_program(self) -> list[DeleteStep]:
        """What the program no longer declares, and the old objects of replacements."""
        with self.snapshot.lock:
            registered = set(self.registered)
            victims = [r for u, r in self.snapshot.live.items() if u not in registered]
            victims += self.snapshot.replaced
        protected = [r for r in victims if r.protect]
        if protected:
            names = ", ".join(urns.name_of(r.urn) for r in protected)
            self.ctx.failed = True
            raise StepFailed(
                f"resource(s) {names} are protected and no longer declared; nothing was deleted: "
                "set protect=False on them and run up again, or declare them again")
        return [self.delete_step(r) for r in victims]

    def destroy_steps(self) -> list[DeleteStep]:
        with self.snapshot.lock:
            victims = list(self.snapshot.live.values())
        protected = [r for r in victims if r.protect]
        if protected:
            names = ", ".join(urns.name_of(r.urn) for r in protected)
            raise StepFailed(f"resource(s) {names} are protected; nothing was destroyed: "
                             "set protect=False on them first")
        return [self.delete_step(r) for r in victims]

    def refresh_steps(self) -> list[RefreshStep]:
        with self.snapshot.lock:
            records = [r for r in self.snapshot.live.values() if r.custom and r.id
                       and not r.type.startswith(urns.PROVIDER_TYPE_PREFIX)
                       and r.type != urns.STACK_REFERENCE_TYPE]
        return [RefreshStep(r, self.provider_for(r.provider, urns.package_of(r.type))[1])
                for r in records]
