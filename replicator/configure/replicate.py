"""`replicator replicate`: the one-shot pipeline, as an ordered list of steps.

Each step is a `Step(name, run)`; `run(ctx)` raises a `ReplicatorError` (or
`typer.Exit`) to stop the pipeline. Later stages (verify, report...) append
their own step to `STEPS`, e.g. from their module::

    from replicator.configure.replicate import STEPS, Step
    STEPS.append(Step("verify", run_verify))

`ctx.results` collects what each step wants to hand to the next ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from replicator.stacks import CheckedStack


@dataclass
class ReplicateContext:
    root: Path
    edition: str
    targets: list[CheckedStack]
    console: Console
    yes: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[ReplicateContext], None]
    title: str = ""


def step_build(ctx: ReplicateContext) -> None:
    from replicator.dockerd import connect, ensure_engine
    from replicator.images.build import build_images

    info = ensure_engine(console=ctx.console)
    client = connect(info.docker_host)
    built = build_images(client, progress=ctx.console)
    ctx.results["images"] = [getattr(b, "action", "") for b in built]


def step_up(ctx: ReplicateContext) -> None:
    from replicator.cli import deploy
    from replicator.engine import Mode

    results = deploy._run_each(ctx.targets, Mode.UP, engine=ctx.options.get("engine", "auto"),
                               parallel=ctx.options.get("parallel", 8), as_json=False,
                               show_same=False)
    ctx.results["up"] = results
    deploy._exit_for(results)


def step_configure(ctx: ReplicateContext) -> None:
    from replicator.cli.configure import run_configure

    result = run_configure(ctx.root, ctx.targets, idempotence=True, console=ctx.console,
                           forks=ctx.options.get("forks"))
    ctx.results["configure"] = result


# The pipeline, in order. Append later stages (verify, report) here.
STEPS: list[Step] = [
    Step("build", step_build, "Build the images (only those whose recipe changed)"),
    Step("up", step_up, "Deploy the stacks of the edition, WAN owner first"),
    Step("configure", step_configure, "Configure every container, then check idempotence"),
]
