"""One run of the engine over one stack: the steps between the old state and the program.

The program registers resources one by one (concurrently, from the SDK's
threads); each registration is diffed against the old state and, unless this
is a preview, applied at once and checkpointed. Resources the program no
longer declares are deleted only once the program has finished successfully,
dependents first, as the Pulumi engine does.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from replicator.engine import urn as urns
from replicator.engine.autoname import autoname, is_autonamed
from replicator.engine.diff import DiffResult, Op, apply_ignore_changes, deletion_order, diff_inputs
from replicator.engine.events import Diagnostic, EventSink, Step
from replicator.engine.properties import (
    UNKNOWN,
    mark_secret_paths,
    secretise_like,
    strip_resource_refs,
)
from replicator.docker_client import DockerTimeoutError
from replicator.engine.providers.base import ProviderError
from replicator.engine.providers.docker import DockerProvider
from replicator.engine.state import PendingOperation, ResourceState, StackState, StateStore, _now

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


class Mode(str, Enum):
    PREVIEW = "preview"
    UP = "up"
    DESTROY = "destroy"
    REFRESH = "refresh"


class StepFailed(Exception):
    """A resource step failed; the message names the resource and the cause."""


@dataclass
class Goal:
    """What the program asked for in one RegisterResource call."""

    type: str
    name: str
    custom: bool
    parent: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    provider: str = ""
    version: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    retain_on_delete: bool = False
    # URNs this resource had before (the SDK resolves `aliases=` to URNs).
    aliases: list[str] = field(default_factory=list)
    # Resource options the program used that this engine does not implement.
    unsupported: list[str] = field(default_factory=list)


@dataclass
class RegisterResult:
    urn: str
    id: str
    outputs: dict[str, Any]


StackOutputsReader = Callable[[str], "dict[str, Any] | None"]


def default_docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


class Deployment:
    def __init__(
        self,
        *,
        stack: str,
        project: str,
        store: StateStore | None,
        old: StackState,
        mode: Mode,
        sink: EventSink,
        read_stack_outputs: StackOutputsReader | None = None,
        parallel: int = 8,
        config: dict[str, str] | None = None,
        program_dir: Path | None = None,
    ) -> None:
        self.stack = stack
        self.project = project
        self.store = store
        self.mode = mode
        self.sink = sink
        self.parallel = parallel
        self._read_stack_outputs = read_stack_outputs or (lambda name: None)
        self._config = dict(config or {})
        self._program_dir = program_dir
        self.old_state = old
        self.old = old.by_urn()
        # What exists right now; checkpointed after every step.
        self.live: dict[str, ResourceState] = dict(self.old)
        self.stack_outputs: dict[str, Any] = dict(old.outputs)
        self.engines: dict[str, dict[str, Any]] = dict(old.engines)
        self.pending: list[PendingOperation] = list(old.pending)
        self.registered: list[str] = []
        self.steps: list[Step] = []
        self.replaced_old: list[ResourceState] = []
        self.gone_for_replacement: set[str] = set()
        self.failed = False
        # A Docker engine that stopped answering (a call timed out): the run ends with
        # this error (exit 3) rather than as a failed resource.
        self.engine_error: DockerTimeoutError | None = None
        self._lock = threading.RLock()
        self._providers: dict[str, DockerProvider] = {}
        self._root_urn = urns.make_urn(stack, project, urns.STACK_TYPE, f"{project}-{stack}", None)

    # ------------------------------------------------------------------ helpers
    @property
    def preview(self) -> bool:
        return self.mode == Mode.PREVIEW

    def _checkpoint(self) -> None:
        if self.preview or self.store is None:
            return
        # Snapshot and write under one lock: two threads must never write an
        # older snapshot after a newer one.
        with self._lock:
            snapshot = StackState(
                stack=self.stack,
                project=self.project,
                resources=_ordered(list(self.live.values())),
                outputs=self.stack_outputs,
                # Only the engines of providers still in the state: a provider deleted
                # (a site no longer on that engine) must not count as a host any more.
                engines={urn: e for urn, e in self.engines.items() if urn in self.live},
                pending=list(self.pending),
                last_operation=self.old_state.last_operation,
            )
            self.store.save(snapshot)

    def save_final(self, result: str, started: str) -> None:
        if self.store is None or self.preview:
            return
        self.old_state.last_operation = {"kind": self.mode.value, "result": result,
                                         "started": started, "finished": _now()}
        self._checkpoint()

    def _new_step(self, urn: str, type_: str, op: Op, *, custom: bool, parent: str,
                  diff: DiffResult | None = None) -> Step:
        step = Step(urn=urn, type=type_, name=urns.name_of(urn), op=op, custom=custom,
                    parent=parent, diff=diff)
        with self._lock:
            self.steps.append(step)
        return step

    def _begin(self, step: Step) -> None:
        step.start()
        self.sink.step_started(step)

    def _emit_done(self, step: Step, error: str = "") -> None:
        step.finish(error)
        self.sink.step_finished(step)

    # ------------------------------------------------------------------ providers
    def _provider_for(self, ref: str, *, version: str = "") -> tuple[str, DockerProvider]:
        """Resolve a provider reference (`urn::id`, or "" for the default provider)."""
        with self._lock:
            if not ref:
                ref = self._ensure_default_provider(version)
            if ref in self._providers:
                return ref, self._providers[ref]
            purn, pid = urns.parse_provider_ref(ref)
            # The reference names one provider instance (URN and ID): after a host
            # change the old ID still means the old host, so deletes go there.
            record = next((r for r in (self.live.get(purn), self.old.get(purn),
                                       *[o for o in self.replaced_old if o.urn == purn])
                           if r is not None and r.id == pid), None)
            host = (record.inputs.get("host") if record else None) or default_docker_host()
            provider = DockerProvider(host, base_dir=self._program_dir)
            self._providers[ref] = provider
            return ref, provider

    def _ensure_default_provider(self, version: str) -> str:
        purn = urns.default_provider_urn(self.stack, self.project, "docker", version)
        # As Pulumi does: the default provider takes its inputs from the package's
        # config namespace (`docker:host` in Pulumi.yaml or the stack file).
        inputs = default_provider_inputs(self._config, "docker")
        host = inputs.setdefault("host", default_docker_host())
        inputs["version"] = version
        old = self.old.get(purn)
        pid = old.id if old and old.inputs.get("host") == host else str(uuid.uuid4())
        if purn not in self.registered:
            record = ResourceState(urn=purn, type="pulumi:providers:docker", custom=True, id=pid,
                                   inputs=dict(inputs), outputs=dict(inputs),
                                   created=old.created if old else _now(), modified=_now())
            self.live[purn] = record
            self.registered.append(purn)
        return urns.provider_ref(purn, self.live[purn].id)

    def register_provider(self, goal: Goal) -> RegisterResult:
        purn = urns.make_urn(self.stack, self.project, goal.type, goal.name, goal.parent or None)
        inputs = strip_resource_refs(goal.inputs)
        host = inputs.get("host") or default_docker_host()
        inputs["host"] = host
        old = self.old.get(purn)
        same = old is not None and old.inputs.get("host") == host
        op = Op.SAME if same else (Op.REPLACE if old else Op.CREATE)
        step = self._new_step(purn, goal.type, op, custom=True, parent=goal.parent,
                              diff=DiffResult(op, ("host",) if op == Op.REPLACE else ()))
        pid = old.id if same and old else (UNKNOWN if self.preview else str(uuid.uuid4()))
        record = ResourceState(urn=purn, type=goal.type, custom=True, id=pid, parent=goal.parent,
                               inputs=inputs, outputs=dict(inputs), dependencies=goal.dependencies,
                               created=old.created if old and same else _now(), modified=_now())
        provider = DockerProvider(host, base_dir=self._program_dir)
        with self._lock:
            self.registered.append(purn)
            if old and not same:
                # The old provider stays usable to delete what it created.
                self.replaced_old.append(old)
            self.live[purn] = record
            self._providers[urns.provider_ref(purn, pid)] = provider
        if self.preview:
            self.sink.step_planned(step)
        else:
            self._begin(step)
        if not self.preview:
            try:
                self.engines[purn] = provider.engine_info()
            except Exception as exc:  # noqa: BLE001 - reported, not fatal for a provider
                self._note_engine_fault(exc)
                self.sink.diagnostic(Diagnostic("warning", f"cannot read engine info of {host}: {exc}", purn))
            self._checkpoint()
            self._emit_done(step)
        return RegisterResult(purn, pid, dict(inputs))

    def _note_engine_fault(self, exc: BaseException) -> None:
        """Remember the first Docker timeout seen (anywhere in the exception's chain)."""
        seen: BaseException | None = exc
        while seen is not None and not isinstance(seen, DockerTimeoutError):
            seen = seen.__cause__ or seen.__context__
        if seen is not None and self.engine_error is None:
            self.engine_error = seen

    # ------------------------------------------------------------------ register
    def register(self, goal: Goal) -> RegisterResult:
        if goal.type.startswith(urns.PROVIDER_TYPE_PREFIX):
            return self.register_provider(goal)
        parent = goal.parent or ("" if goal.type == urns.STACK_TYPE else self._root_urn)
        urn = urns.make_urn(self.stack, self.project, goal.type, goal.name, parent or None)
        self._adopt_alias(urn, goal.aliases)
        if not goal.custom:
            return self._register_component(urn, goal, parent)
        return self._register_custom(urn, goal, parent)

    def _adopt_alias(self, urn: str, aliases: list[str]) -> None:
        """A resource known under an alias URN becomes this URN's old state (no replace)."""
        with self._lock:
            if urn in self.old:
                return
            alias = next((a for a in aliases if a in self.old and a in self.live), None)
            if alias is None:
                return
            moved = replace(self.old[alias], urn=urn)
            self.old[urn] = moved
            # Renamed in place: the old URN is neither live nor to be deleted.
            del self.live[alias]
            self.live[urn] = moved

    def _register_component(self, urn: str, goal: Goal, parent: str) -> RegisterResult:
        old = self.old.get(urn)
        op = Op.SAME if old else Op.CREATE
        self._claim(urn, goal)
        step = self._new_step(urn, goal.type, op, custom=False, parent=parent)
        record = ResourceState(urn=urn, type=goal.type, custom=False, parent=parent,
                               inputs={}, outputs=old.outputs if old else {},
                               dependencies=goal.dependencies, protect=goal.protect,
                               created=old.created if old else _now(), modified=_now())
        with self._lock:
            self.live[urn] = record
        if self.preview:
            self.sink.step_planned(step)
        else:
            self._begin(step)
            if op != Op.SAME:
                self._checkpoint()
            self._emit_done(step)
        return RegisterResult(urn, "", {})

    def _register_custom(self, urn: str, goal: Goal, parent: str) -> RegisterResult:
        if goal.unsupported:
            self.sink.diagnostic(Diagnostic(
                "warning", f"resource option(s) {', '.join(goal.unsupported)} are not supported by "
                "the embedded engine and were ignored (use --engine pulumi)", urn))
        provider_ref, provider = self._provider_for(goal.provider, version=goal.version)
        old = self.old.get(urn)
        if urn in self.gone_for_replacement:
            old = None  # deleted already because something it depends on was replaced
        raw = strip_resource_refs(goal.inputs)
        try:
            inputs = provider.check(goal.type, autoname(provider, goal.type, goal.name, raw,
                                                        old.inputs if old else None))
        except ProviderError as exc:
            self._fail_step(urn, goal, parent, Op.CREATE, str(exc))
        if old is not None and goal.ignore_changes:
            inputs = apply_ignore_changes(old.inputs, inputs, goal.ignore_changes)
        schema = provider.schema(goal.type)
        drift = provider.drift(goal.type, old.observed, inputs) if old else ""
        diff = diff_inputs(
            old.inputs if old else None, inputs, schema,
            replace_on_changes=goal.replace_on_changes,
            provider_changed=bool(old and old.provider and old.provider != provider_ref),
            drift=drift,
            delete_before_replace=goal.delete_before_replace,
        )
        refreshed: dict[str, Any] | None = None
        if diff.op == Op.SAME and old is not None and provider.refreshes_on_diff(goal.type):
            read = provider.read(goal.type, old.id, old.inputs, old.outputs)
            if read is None or read.outputs != old.outputs:
                refreshed = read.outputs if read else None
                diff = DiffResult(Op.UPDATE, ("imageId",), (), "the image was rebuilt") if read else \
                    DiffResult(Op.REPLACE, (), ("imageId",), "the image is gone")
        if urn in self.gone_for_replacement:
            diff = DiffResult(Op.REPLACE, diff.changed, diff.replace_keys,
                              "a resource it depends on was replaced", True)
        if old is not None and old.protect and diff.op == Op.REPLACE and urn not in self.gone_for_replacement:
            self._fail_step(urn, goal, parent, diff.op,
                            f"resource {urns.name_of(urn)} is protected and cannot be replaced "
                            f"({diff.describe()}): set protect=False first")
        if diff.op == Op.REPLACE and is_autonamed(provider, goal.type, raw):
            # As Pulumi re-runs Check without the old inputs: a replacement gets a new name.
            inputs = {**inputs, **autoname(provider, goal.type, goal.name, {}, None)}
        self._claim(urn, goal)
        step = self._new_step(urn, goal.type, diff.op, custom=True, parent=parent, diff=diff)

        if self.preview:
            if diff.op == Op.REPLACE and old is not None and (
                    diff.delete_before_replace or provider.object_name(goal.type, inputs)
                    == provider.object_name(goal.type, old.inputs)):
                self._delete_dependents(urn)  # in preview: only marks them as replaced
            self.sink.step_planned(step)
            if diff.op == Op.SAME and old:
                outputs, rid = old.outputs, old.id
            elif diff.op == Op.UPDATE and old:
                outputs, rid = {**old.outputs, **inputs, **(refreshed or {})}, old.id
            else:
                outputs, rid = provider.preview_outputs(goal.type, inputs), ""
            with self._lock:
                self.live[urn] = self._record(urn, goal, parent, provider_ref, inputs, outputs, rid, old)
            return RegisterResult(urn, rid, self._wire_outputs(outputs, goal))

        self._begin(step)
        try:
            rid, outputs = self._apply(step, urn, goal, provider, provider_ref, inputs, old, diff,
                                       refreshed)
        except (ProviderError, StepFailed) as exc:
            self._emit_done(step, str(exc))
            self.failed = True
            raise StepFailed(f"{goal.type} {goal.name}: {exc}") from exc
        except Exception as exc:  # a bug or an engine fault: still say which resource
            self._note_engine_fault(exc)
            text = exc.message if isinstance(exc, DockerTimeoutError) else repr(exc)
            self._emit_done(step, text)
            self.failed = True
            raise StepFailed(f"{goal.type} {goal.name}: {text}") from exc
        record = self._record(urn, goal, parent, provider_ref, inputs, outputs, rid, old,
                              keep_created=diff.op in (Op.SAME, Op.UPDATE))
        with self._lock:
            self.live[urn] = record
        if diff.op != Op.SAME:
            # Unchanged resources are saved with the final state: a no-op run
            # should not rewrite the state file once per resource.
            self._checkpoint()
        self._emit_done(step)
        return RegisterResult(urn, rid, self._wire_outputs(outputs, goal))

    def _claim(self, urn: str, goal: Goal) -> None:
        """Record a registration; the same URN twice in one run is a program error."""
        with self._lock:
            if urn in self.registered:
                self.failed = True
                raise StepFailed(f"Duplicate resource URN {urn!r}: two resources of type "
                                 f"{goal.type} are named {goal.name!r}; give each a unique name")
            self.registered.append(urn)

    def _fail_step(self, urn: str, goal: Goal, parent: str, op: Op, message: str) -> None:
        step = self._new_step(urn, goal.type, op, custom=True, parent=parent)
        self._begin(step)
        self._emit_done(step, message)
        self.failed = True
        raise StepFailed(f"{goal.type} {goal.name}: {message}")

    def _wire_outputs(self, outputs: dict[str, Any], goal: Goal) -> dict[str, Any]:
        return mark_secret_paths(secretise_like(outputs, goal.inputs), goal.additional_secret_outputs)

    def _record(self, urn: str, goal: Goal, parent: str, provider_ref: str, inputs: dict[str, Any],
                outputs: dict[str, Any], rid: str, old: ResourceState | None,
                keep_created: bool = True) -> ResourceState:
        return ResourceState(
            urn=urn, type=goal.type, custom=True, id=rid, parent=parent, provider=provider_ref,
            inputs=_keep_secrets(inputs, goal.inputs),
            outputs=self._wire_outputs(outputs, goal),
            dependencies=sorted(set(goal.dependencies)), protect=goal.protect,
            property_dependencies={k: sorted(set(v)) for k, v in goal.property_dependencies.items()},
            delete_before_replace=goal.delete_before_replace,
            ignore_changes=list(goal.ignore_changes),
            additional_secret_outputs=list(goal.additional_secret_outputs),
            retain_on_delete=goal.retain_on_delete,
            created=old.created if old and keep_created else _now(), modified=_now(),
        )

    # ------------------------------------------------------------------ apply
    def _apply(self, step: Step, urn: str, goal: Goal, provider: DockerProvider, provider_ref: str,
               inputs: dict[str, Any], old: ResourceState | None, diff: DiffResult,
               refreshed: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        from replicator.engine.properties import reveal

        plain = reveal(inputs)
        if diff.op == Op.SAME and old is not None:
            return old.id, old.outputs
        if diff.op == Op.UPDATE and old is not None:
            if refreshed is not None:
                return refreshed.get("id", old.id), refreshed
            return old.id, provider.update(goal.type, old.id, reveal(old.inputs), plain, reveal(old.outputs))
        if diff.op == Op.REPLACE and old is not None:
            same_name = provider.object_name(goal.type, plain) == provider.object_name(goal.type, reveal(old.inputs))
            if diff.delete_before_replace or same_name:
                # A Docker name is unique per engine: the old object must go first.
                self._delete_dependents(urn)
                _, old_provider = self._provider_for(old.provider)
                self._delete_one(old, old_provider)
            else:
                with self._lock:
                    self.replaced_old.append(old)
        return self._create(urn, goal, provider, provider_ref, plain)

    def _create(self, urn: str, goal: Goal, provider: DockerProvider, provider_ref: str,
                plain: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        pending = PendingOperation(urn=urn, type=goal.type, op="create",
                                   name=provider.object_name(goal.type, plain),
                                   provider=provider_ref)
        with self._lock:
            self.pending.append(pending)
        self._checkpoint()
        rid, outputs = provider.create(goal.type, urn, plain)
        with self._lock:
            self.pending.remove(pending)
        return rid, outputs

    def _delete_one(self, record: ResourceState, provider: DockerProvider | None) -> None:
        from replicator.engine.properties import reveal

        if record.custom and provider is not None and record.id and record.id != UNKNOWN \
                and not record.retain_on_delete \
                and not record.type.startswith(urns.PROVIDER_TYPE_PREFIX) \
                and record.type != urns.STACK_REFERENCE_TYPE:
            pending = PendingOperation(urn=record.urn, type=record.type, op="delete",
                                       name=provider.object_name(record.type, reveal(record.inputs)),
                                       provider=record.provider)
            with self._lock:
                self.pending.append(pending)
            provider.delete(record.type, record.id, reveal(record.inputs), reveal(record.outputs))
            with self._lock:
                self.pending.remove(pending)
        with self._lock:
            if self.live.get(record.urn) is record:
                del self.live[record.urn]
        self._checkpoint()

    def _delete_dependents(self, urn: str) -> None:
        """Before a delete-before-replace, delete what depends on the old resource."""
        with self._lock:
            deps = _dependency_map(self.live.values())
            closure: set[str] = set()
            frontier = {urn}
            while frontier:
                nxt = {u for u, d in deps.items() if d & frontier and u not in closure and u != urn}
                closure |= nxt
                frontier = nxt
            victims = [self.live[u] for u in closure if u in self.live and self.live[u].custom]
        if not victims:
            return
        protected = [urns.name_of(v.urn) for v in victims if v.protect]
        if protected:
            raise StepFailed(
                f"replacing {urns.name_of(urn)} would delete the protected resource(s) "
                f"{', '.join(sorted(protected))} that depend on it: set protect=False on them first")
        if self.preview:
            with self._lock:
                self.gone_for_replacement.update(v.urn for v in victims)
            return
        self._delete_records(victims, reason="replaced with a resource it depends on",
                             for_replacement=True)

    # ------------------------------------------------------------------ stack refs, outputs
    def read_stack_reference(self, type_: str, name: str, ref_id: str, parent: str) -> RegisterResult:
        urn = urns.make_urn(self.stack, self.project, type_, name, parent or self._root_urn)
        outputs = self._read_stack_outputs(ref_id)
        if outputs is None:
            if not self.preview:
                stack_name = ref_id.rsplit("/", 1)[-1]
                raise StepFailed(
                    f"stack reference {ref_id}: stack {stack_name} has no outputs yet; "
                    f"deploy it first (`replicator up {stack_name}`)"
                )
            props: dict[str, Any] = {"name": ref_id, "outputs": UNKNOWN, "secretOutputNames": []}
        else:
            from replicator.engine.properties import is_secret

            props = {"name": ref_id, "outputs": outputs,
                     "secretOutputNames": sorted(k for k, v in outputs.items() if is_secret(v))}
        step = self._new_step(urn, type_, Op.READ, custom=True, parent=parent)
        record = ResourceState(urn=urn, type=type_, custom=True, id=ref_id, parent=parent or self._root_urn,
                               inputs={"name": ref_id}, outputs=props, created=_now(), modified=_now())
        with self._lock:
            self.registered.append(urn)
            self.live[urn] = record
        if self.preview:
            self.sink.step_planned(step)
        else:
            self._begin(step)
            self._emit_done(step)
        return RegisterResult(urn, ref_id, props)

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        with self._lock:
            if urn == self._root_urn or urns.type_of(urn) == urns.STACK_TYPE:
                changed = self.stack_outputs != outputs
                self.stack_outputs = outputs
            elif urn in self.live:
                changed = self.live[urn].outputs != outputs
                self.live[urn] = replace(self.live[urn], outputs=outputs)
            else:
                changed = False
        if changed:
            self._checkpoint()

    # ------------------------------------------------------------------ finishing
    def plan_deletes(self) -> list[ResourceState]:
        registered = set(self.registered)
        with self._lock:
            leftovers = [r for u, r in self.live.items() if u not in registered]
        return leftovers + list(self.replaced_old)

    def finish(self) -> None:
        """After a successful program: delete what is no longer declared."""
        victims = self.plan_deletes()
        protected = [r for r in victims if r.protect]
        if protected:
            names = ", ".join(urns.name_of(r.urn) for r in protected)
            self.failed = True
            raise StepFailed(
                f"resource(s) {names} are protected and no longer declared; nothing was deleted: "
                "set protect=False on them and run up again, or declare them again"
            )
        self._delete_records(victims, reason="")

    def destroy_all(self) -> None:
        with self._lock:
            victims = list(self.live.values())
        protected = [r for r in victims if r.protect]
        if protected:
            names = ", ".join(urns.name_of(r.urn) for r in protected)
            raise StepFailed(f"resource(s) {names} are protected; nothing was destroyed: "
                             "set protect=False on them first")
        self._delete_records(victims, reason="")
        with self._lock:
            self.stack_outputs = {}
        self._checkpoint()

    def _delete_records(self, victims: list[ResourceState], *, reason: str,
                        for_replacement: bool = False) -> None:
        if not victims:
            return
        by_urn: dict[str, list[ResourceState]] = {}
        for r in victims:
            by_urn.setdefault(r.urn, []).append(r)
        deps = _dependency_map(victims)
        waves = deletion_order(list(by_urn), deps)
        errors: list[str] = []

        def run(record: ResourceState) -> None:
            step = self._new_step(record.urn, record.type, Op.DELETE, custom=record.custom,
                                  parent=record.parent,
                                  diff=DiffResult(Op.DELETE, reason=reason) if reason else None)
            if self.preview:
                self.sink.step_planned(step)
                return
            self._begin(step)
            try:
                provider = None
                if record.custom and record.provider:
                    _, provider = self._provider_for(record.provider)
                self._delete_one(record, provider)
                if for_replacement:
                    with self._lock:
                        self.gone_for_replacement.add(record.urn)
                self._emit_done(step)
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                self._note_engine_fault(exc)
                self._emit_done(step, str(exc))
                errors.append(f"{record.type} {urns.name_of(record.urn)}: {exc}")

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            for wave in waves:
                list(pool.map(run, [r for u in wave for r in by_urn[u]]))
                if errors:
                    break
        if errors:
            self.failed = True
            raise StepFailed("; ".join(errors))

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        with self._lock:
            records = [r for r in self.live.values() if r.custom and r.id
                       and not r.type.startswith(urns.PROVIDER_TYPE_PREFIX)
                       and r.type != urns.STACK_REFERENCE_TYPE]
        for record in records:
            _, provider = self._provider_for(record.provider)
            from replicator.engine.properties import reveal

            read = provider.read(record.type, record.id, reveal(record.inputs), reveal(record.outputs))
            if read is None:
                step = self._new_step(record.urn, record.type, Op.DELETE, custom=True,
                                      parent=record.parent,
                                      diff=DiffResult(Op.DELETE, reason="gone from the Docker engine"))
                with self._lock:
                    if not self.preview:
                        self.live.pop(record.urn, None)
            else:
                drift = provider.drift(record.type, read.observed, reveal(record.inputs))
                changed = reveal(read.outputs) != reveal(record.outputs)
                op = Op.UPDATE if (drift or changed) else Op.SAME
                step = self._new_step(record.urn, record.type, op, custom=True, parent=record.parent,
                                      diff=DiffResult(op, reason=drift))
                if not self.preview:
                    with self._lock:
                        self.live[record.urn] = replace(
                            record, observed=read.observed,
                            outputs=secretise_like(read.outputs, record.outputs))
            self.sink.step_planned(step)
        self._checkpoint()

    # ------------------------------------------------------------------ resume
    def resolve_pending(self) -> None:
        """Clean up after an interrupted run: objects created but never recorded."""
        if not self.pending or self.preview:
            return
        for op in list(self.pending):
            if op.op == "create" and op.name and op.provider:
                try:
                    _, provider = self._provider_for(op.provider)
                    provider.remove_orphan(op.type, op.name, self.stack)
                    self.sink.diagnostic(Diagnostic(
                        "info", f"resumed: removed {op.name}, left half-made by an interrupted run",
                        op.urn))
                except Exception as exc:  # noqa: BLE001
                    self._note_engine_fault(exc)
                    self.sink.diagnostic(Diagnostic("warning", f"could not clean {op.name}: {exc}", op.urn))
            self.pending.remove(op)
        self._checkpoint()

    # ------------------------------------------------------------------ summary
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for step in self.steps:
            if step.op == Op.READ or (not step.custom and step.op == Op.SAME):
                continue
            counts[step.op.value] = counts.get(step.op.value, 0) + 1
        return counts

    def changes(self) -> int:
        return sum(v for k, v in self.counts().items() if k not in ("same", "read"))


def default_provider_inputs(config: dict[str, str], package: str) -> dict[str, Any]:
    """`docker:host` -> {"host": ...}; JSON values (objects, lists) decoded."""
    import json

    inputs: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace != package or name == "version":
            continue
        try:
            decoded = json.loads(value)
            inputs[name] = decoded if isinstance(decoded, (dict, list)) else value
        except ValueError:
            inputs[name] = value
    return inputs


def _dependency_map(records: Any) -> dict[str, set[str]]:
    deps: dict[str, set[str]] = {}
    for r in records:
        d = set(r.dependencies)
        if r.parent:
            d.add(r.parent)
        if r.provider:
            d.add(urns.parse_provider_ref(r.provider)[0])
        deps[r.urn] = d
    return deps


def _ordered(records: list[ResourceState]) -> list[ResourceState]:
    """Dependencies before dependents (the order Pulumi keeps in its checkpoints)."""
    deps = _dependency_map(records)
    waves = deletion_order([r.urn for r in records], deps)
    by_urn = {r.urn: r for r in records}
    ordered = [by_urn[u] for wave in reversed(waves) for u in wave]
    return ordered


def _keep_secrets(checked: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """Inputs as stored: a property the program sent as a secret stays wrapped."""
    from replicator.engine.properties import contains_secret, make_secret, reveal

    result = dict(checked)
    for key, value in original.items():
        if key in result and contains_secret(value) and not contains_secret(result[key]):
            result[key] = make_secret(reveal(result[key]))
    return result
