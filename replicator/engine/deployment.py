"""One run of the engine over one stack: registrations in, steps out, state saved.

The shape of Pulumi's engine (pkg/resource/deploy): each RegisterResource goal
goes to the `StepGenerator`, which decides a step without touching Docker; the
`StepExecutor` applies it at once (resources register concurrently, from the
SDK's threads) or, in a preview, applies it as a dry run; the
`SnapshotPersister` writes the state after every step. Providers come from the
package registry (`providers.registry`). Resources the program no longer
declares are deleted only once the program has finished successfully,
dependents first.

`Deployment` is the facade the monitor, the runner and the tests use.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from replicator.inputs.deploy import DEFAULT_PARALLEL
from replicator.docker_client import DockerTimeoutError
from replicator.engine import urn as urns
from replicator.engine.diff import Op
from replicator.engine.events import EventSink, Step
from replicator.engine.goals import Goal, RegisterResult, StepFailed, StepRejected
from replicator.engine.providers.registry import ProviderInstances, default_provider_inputs
from replicator.engine.snapshot import SnapshotPersister
from replicator.engine.state import ResourceState, StackState, StateStore
from replicator.engine.step_executor import StepExecutor
from replicator.engine.step_generator import StepGenerator
from replicator.engine.steps import EngineStep, StepContext

__all__ = ["Deployment", "Goal", "Mode", "RegisterResult", "StepFailed", "default_provider_inputs"]


class Mode(str, Enum):
    PREVIEW = "preview"
    UP = "up"
    DESTROY = "destroy"
    REFRESH = "refresh"


StackOutputsReader = Callable[[str], "dict[str, Any] | None"]


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
        parallel: int = DEFAULT_PARALLEL,
        config: dict[str, str] | None = None,
        program_dir: Path | None = None,
    ) -> None:
        self.stack = stack
        self.project = project
        self.mode = mode
        self.sink = sink
        self._read_stack_outputs = read_stack_outputs or (lambda name: None)
        dry_run = mode == Mode.PREVIEW
        self.snapshot = SnapshotPersister(stack=stack, project=project, store=store, old=old,
                                          dry_run=dry_run)
        providers = ProviderInstances(program_dir=program_dir, records_of=self.snapshot.records_of)
        self.ctx = StepContext(stack=stack, snapshot=self.snapshot, providers=providers, sink=sink)
        self.generator = StepGenerator(self.ctx, project=project, config=dict(config or {}),
                                       dry_run=dry_run)
        self.executor = StepExecutor(self.ctx, dry_run=dry_run, parallel=parallel)

    # ------------------------------------------------------------------ what callers read
    @property
    def preview(self) -> bool:
        return self.mode == Mode.PREVIEW

    @property
    def steps(self) -> list[Step]:
        return self.ctx.events

    @property
    def live(self) -> dict[str, ResourceState]:
        """What exists right now (what the next save writes)."""
        return self.snapshot.live

    @property
    def failed(self) -> bool:
        return self.ctx.failed

    @property
    def engine_error(self) -> DockerTimeoutError | None:
        return self.ctx.engine_error

    @property
    def stack_outputs(self) -> dict[str, Any]:
        return self.snapshot.outputs

    def save_final(self, result: str, started: str) -> None:
        self.snapshot.save_final(self.mode.value, result, started)

    # ------------------------------------------------------------------ the program's calls
    def register(self, goal: Goal) -> RegisterResult:
        try:
            step = self._step_for(goal)
        except StepRejected as rejected:
            self.executor.reject(rejected, goal.type)
        self.executor.execute(step)
        new = step.new
        assert new is not None
        return RegisterResult(new.urn, new.id, new.outputs if new.custom else {})

    def _step_for(self, goal: Goal) -> EngineStep:
        gen = self.generator
        if goal.type.startswith(urns.PROVIDER_TYPE_PREFIX):
            return gen.provider_step(goal)
        urn, parent = gen.urn_of(goal)
        self.snapshot.adopt_alias(urn, goal.aliases)
        if not goal.custom:
            return gen.component_step(urn, goal, parent)
        reg = gen.prepare(urn, goal, parent)
        diff = gen.diff(reg)
        refreshed = None
        if gen.wants_read(reg, diff):
            # The generator never touches Docker: the executor reads, the generator decides.
            diff, refreshed = gen.diff_after_read(reg, diff, self.executor.read(reg))
        return gen.custom_step(reg, diff, refreshed)

    def read_stack_reference(self, type_: str, name: str, ref_id: str, parent: str) -> RegisterResult:
        step = self.generator.read_step(type_, name, ref_id, parent, self._read_stack_outputs(ref_id))
        self.executor.execute(step)
        assert step.new is not None
        return RegisterResult(step.new.urn, ref_id, step.new.outputs)

    def register_outputs(self, urn: str, outputs: dict[str, Any]) -> None:
        stack = urn == self.generator.root_urn or urns.type_of(urn) == urns.STACK_TYPE
        self.snapshot.set_outputs(urn, outputs, stack=stack)

    # ------------------------------------------------------------------ the verbs
    def finish(self) -> None:
        """After a successful program: delete what is no longer declared."""
        self.executor.execute_deletes(self.generator.deletes_after_program())

    def destroy_all(self) -> None:
        self.executor.execute_deletes(self.generator.destroy_steps())
        with self.snapshot.lock:
            self.snapshot.outputs = {}
        self.snapshot.save()

    def refresh(self) -> None:
        self.executor.refresh(self.generator.refresh_steps())

    def resolve_pending(self) -> None:
        """Clean up after an interrupted run: objects created but never recorded."""
        self.executor.resolve_pending()

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
