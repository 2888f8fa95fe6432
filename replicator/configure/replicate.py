"""`replicator replicate`: the one-shot pipeline, as an ordered list of steps.

Each step is a `Step(name, run)`; `run(ctx)` raises a `ReplicatorError` (or
`typer.Exit`) to stop the pipeline. Every step is declared here, in order, and
imports what it runs only when it runs, so `--skip` of a stage never loads it.

`ctx.results` collects what each step wants to hand to the next ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

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
    from replicator.cli.targets import Targets
    from replicator.engine import Mode
    from replicator.engine.selection import select_backend
    from replicator.paths import work_dir

    runner = select_backend(ctx.options.get("engine", "auto"), ctx.root, work_dir(ctx.root),
                            parallel=ctx.options.get("parallel", 8))
    targets = Targets(runner, [t.name for t in ctx.targets])
    results = deploy._run_each(targets, Mode.UP, as_json=False, show_same=False)
    ctx.results["up"] = results
    deploy._exit_for(results)


def step_configure(ctx: ReplicateContext) -> None:
    from replicator.cli.configure import run_configure

    result = run_configure(ctx.root, ctx.targets, idempotence=True, console=ctx.console,
                           forks=ctx.options.get("forks"))
    ctx.results["configure"] = result


def step_verify(ctx: ReplicateContext) -> None:
    import typer

    from replicator.cli.verify import print_summary
    from replicator.errors import ExitCode
    from replicator.verification import run_verification

    result = run_verification(ctx.root, [t.name for t in ctx.targets],
                              ctx.options.get("verify_output"))
    ctx.results["verify"] = result
    print_summary(result, ctx.console)
    if not result.passed:
        raise typer.Exit(int(ExitCode.VERIFY_FAILED))


def step_report(ctx: ReplicateContext) -> None:
    from replicator.cli.report import print_summary
    from replicator.paths import work_dir
    from replicator.report import generate_report

    result = generate_report(ctx.root, work_dir(ctx.root), edition=ctx.edition)
    ctx.results["report"] = result
    print_summary(result.data, ctx.console)
    for warning in result.data["warnings"]:
        ctx.console.print(f"[yellow]warning:[/] {escape(str(warning))}", highlight=False)
    for kind, path in result.files.items():
        ctx.console.print(f"[green]wrote[/] {kind}: {escape(str(path))}", highlight=False)


# The pipeline, in order.
STEPS: list[Step] = [
    Step("build", step_build, "Build the images (only those whose recipe changed)"),
    Step("up", step_up, "Deploy the stacks of the edition, WAN owner first"),
    Step("configure", step_configure, "Configure every container, then check idempotence"),
    Step("verify", step_verify, "Verify the replica against the topology"),
    Step("report", step_report, "Servers, energy and CO2e against earlier editions"),
]
