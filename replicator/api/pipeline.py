"""`replicate`: the one-shot pipeline, as an ordered list of steps.

Each step is a `Step(name, run)`; `run(ctx)` returns what it produced (handed on in
`ctx.results[name]` and reported in `PipelineStepFinished`) or raises a
`ReplicatorError` to stop the pipeline. Every step is declared here, in order, and
imports what it runs only when it runs, so skipping a stage never loads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from replicator.api.events import (
    EventHandler,
    PipelineFinished,
    PipelineStarted,
    PipelineStepFinished,
    PipelineStepStarted,
    ignore,
)
from replicator.api.options import PIPELINE_STEPS, ConfigureOptions, ReplicateOptions, VerifyOptions
from replicator.errors import ExitCode, ReplicatorError
from replicator.stacks import CheckedStack


class StepFailedError(ReplicatorError):
    """A step of the pipeline ran and failed; its result is in `result`."""

    def __init__(self, step: str, message: str, result: Any, exit_code: ExitCode) -> None:
        super().__init__(f"replicate stopped at {step}: {message}", exit_code=exit_code)
        self.step = step
        self.result = result


@dataclass
class ReplicateContext:
    root: Path
    options: ReplicateOptions
    targets: list[CheckedStack]
    on_event: EventHandler = ignore
    progress: Console | None = None  # where the image build and dockerd print progress lines
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[ReplicateContext], Any]
    title: str = ""


@dataclass
class ReplicateResult:
    edition: str
    results: dict[str, Any]  # step name -> what it produced
    timings: list[tuple[str, float]]
    seconds: float


def step_build(ctx: ReplicateContext) -> list[str]:
    from replicator.dockerd import connect, ensure_engine
    from replicator.images.build import build_images

    quiet = ctx.progress or Console(quiet=True)
    info = ensure_engine(console=quiet)
    client = connect(info.docker_host)
    built = build_images(client, progress=quiet)
    return [getattr(b, "action", "") for b in built]


def step_up(ctx: ReplicateContext) -> Any:
    from replicator.api.service import run_targets
    from replicator.api.targets import Targets
    from replicator.engine.selection import select_backend
    from replicator.paths import work_dir

    runner = select_backend(ctx.options.engine, ctx.root, work_dir(ctx.root),
                            parallel=ctx.options.parallel)
    result = run_targets(Targets(runner, ctx.names), "up", ctx.on_event)
    if not result.succeeded:
        failed = ", ".join(r.stack for r in result.results if not r.succeeded) or "no stack ran"
        raise StepFailedError("up", f"deployment failed ({failed})", result, result.exit_code)
    return result


def step_configure(ctx: ReplicateContext) -> Any:
    from replicator.api.service import configure_targets

    options = ConfigureOptions(root=ctx.root, edition=ctx.options.edition, idempotence=True,
                               forks=ctx.options.forks, strategy=ctx.options.strategy)
    run = configure_targets(ctx.root, ctx.targets, options, ctx.on_event)
    if not run.succeeded:
        raise StepFailedError("configure", "configuration failed", run, run.exit_code)
    return run


def step_verify(ctx: ReplicateContext) -> Any:
    from replicator.api.service import verify_stacks

    options = VerifyOptions(root=ctx.root, edition=ctx.options.edition,
                            output=ctx.options.verify_output)
    result = verify_stacks(ctx.root, ctx.names, options, ctx.on_event)
    if not result.passed:
        raise StepFailedError("verify", result.summary_line(), result, ExitCode.VERIFY_FAILED)
    return result


def step_report(ctx: ReplicateContext) -> Any:
    from replicator.api.events import ReportStarted
    from replicator.paths import work_dir
    from replicator.report import generate_report

    ctx.on_event(ReportStarted(ctx.options.edition))
    return generate_report(ctx.root, work_dir(ctx.root), edition=ctx.options.edition)


# The pipeline, in order.
STEPS: list[Step] = [
    Step("build", step_build, "Build the images (only those whose recipe changed)"),
    Step("up", step_up, "Deploy the stacks of the edition, WAN owner first"),
    Step("configure", step_configure, "Configure every container, then check idempotence"),
    Step("verify", step_verify, "Verify the replica against the topology"),
    Step("report", step_report, "Servers, energy and CO2e against earlier editions"),
]
assert tuple(s.name for s in STEPS) == PIPELINE_STEPS  # the options check names against these


def replicate(options: ReplicateOptions, on_event: EventHandler = ignore, *,
              targets: list[CheckedStack] | None = None, steps: list[Step] | None = None,
              progress: Console | None = None) -> ReplicateResult:
    """Every step not skipped, in order; the first that fails raises `StepFailedError`.

    `targets`: the edition's checked stacks if the caller has them already; `steps`:
    the pipeline (default `STEPS`; tests pass fakes); `progress`: a console for the
    image build's and dockerd's progress lines (default: none shown).
    """
    from replicator.api.service import project_root
    from replicator.stacks import resolve_targets

    root = project_root(options.root)
    if targets is None:
        targets = resolve_targets(root, None, options.edition)
    chosen = [s for s in (steps if steps is not None else STEPS) if s.name not in options.skip]
    ctx = ReplicateContext(root=root, options=options, targets=targets, on_event=on_event,
                           progress=progress)
    on_event(PipelineStarted(options.edition, tuple(s.name for s in chosen), tuple(ctx.names)))
    started = time.monotonic()
    timings: list[tuple[str, float]] = []
    for number, step in enumerate(chosen, start=1):
        on_event(PipelineStepStarted(number, len(chosen), step.name, step.title))
        t0 = time.monotonic()
        ctx.results[step.name] = step.run(ctx)
        timings.append((step.name, time.monotonic() - t0))
        on_event(PipelineStepFinished(step.name, timings[-1][1], ctx.results[step.name]))
    seconds = time.monotonic() - started
    on_event(PipelineFinished(options.edition, seconds, tuple(timings)))
    return ReplicateResult(options.edition, ctx.results, timings, seconds)
