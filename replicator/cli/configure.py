"""`replicator configure` and `replicator replicate`: Ansible over the deployed containers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console

from replicator import api
from replicator.api import ConfigureOptions, ReplicateOptions, StepFailedError
from replicator.api.events import (
    Event,
    PipelineFinished,
    PipelineStepFinished,
    PipelineStepStarted,
)
from replicator.cli import app
from replicator.cli.options import EditionOpt, StackArg
from replicator.cli.render import ConfigureRenderer, DeployRenderer
from replicator.inputs.ansible import Strategy
from replicator.paths import find_project_root
from replicator.stacks import resolve_targets


def _console(stderr: bool = False) -> Console:
    # Not a terminal (CI logs, pipes): rich would assume 80 columns and squeeze the table.
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=120)


console = _console()
err = _console(stderr=True)



@app.command()
def configure(
    stack: StackArg = None,
    edition: EditionOpt = None,
    check: Annotated[bool, typer.Option("--check", help="Dry run: report what would change.")] = False,
    limit: Annotated[str | None, typer.Option(
        "--limit", "-l", help="Ansible host pattern, e.g. svc_wrs or 'app:!svc_ovr'.")] = None,
    idempotence: Annotated[bool, typer.Option(
        "--idempotence", help="Run twice; fail if the second pass changes anything.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print a JSON result on stdout.")] = False,
    forks: Annotated[int | None, typer.Option("--forks", min=1, max=64,
                                                 help="Parallel hosts (default: 12 per core, 4 to 32).")] = None,
    strategy: Annotated[str, typer.Option(
        "--strategy", help="Ansible strategy: mitogen (one interpreter per container for the "
                           "run) | free (Ansible's own).")] = "mitogen",
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="More Ansible output in the artifacts.")] = 0,
) -> None:
    """Configure the deployed containers with the Ansible roles (inventory from the stack outputs)."""
    options = ConfigureOptions(stack=stack, edition=edition, check=check, limit=limit,
                               idempotence=idempotence, forks=forks,
                               strategy=cast(Strategy, strategy),
                               verbosity=verbose)
    root = find_project_root()
    run = api.configure(options.model_copy(update={"root": root}),
                        ConfigureRenderer(console, quiet=json_, root=root))
    if json_:
        print(json.dumps(run.to_json(), indent=2))
    if not run.succeeded:
        raise typer.Exit(int(run.exit_code))


@app.command()
def replicate(
    edition: Annotated[str, typer.Option("--edition", "-e", help="The edition to replicate.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Skip the confirmation prompt.")] = False,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", help="Skip a step by name (repeatable): build, up, configure, verify, "
                       "report.")] = None,
    forks: Annotated[int | None, typer.Option(
        "--forks", min=1, max=64, help="Ansible's parallel hosts (default: 12 per core, 4 to 32).")
    ] = None,
) -> None:
    """Build the images, deploy every stack of the edition, configure (idempotence gate), verify and report."""
    from replicator.cli.deploy import _confirm

    options = ReplicateOptions(edition=edition, skip=frozenset(skip or ()), forks=forks)
    root = find_project_root()
    targets = resolve_targets(root, None, edition)
    console.print(f"[bold]replicate {edition}[/]: " + " -> ".join(options.steps)
                  + f" ({', '.join(t.name for t in targets)})", highlight=False)
    _confirm(f"Run {', '.join(options.steps)} for edition {edition}?", yes)
    renderer = ReplicateRenderer(console, root)
    try:
        api.replicate(options.model_copy(update={"root": root}), renderer, targets=targets,
                      progress=console)
    except StepFailedError as exc:
        renderer.step_result(exc.step, exc.result)
        raise


class ReplicateRenderer:
    """Each step's events as its own command shows them, a rule between steps."""

    def __init__(self, out: Console, root: Path) -> None:
        self.out = out
        self.deploy = DeployRenderer(out)
        self.configure = ConfigureRenderer(out, root=root)

    def __call__(self, event: Event) -> None:
        if isinstance(event, PipelineStepStarted):
            self.out.rule(f"[bold]{event.number}/{event.total} {event.name}[/]"
                          + (f": {event.title}" if event.title else ""))
        elif isinstance(event, PipelineStepFinished):
            self.step_result(event.name, event.result)
        elif isinstance(event, PipelineFinished):
            self.out.rule()
            detail = ", ".join(f"{name} {sec:.0f} s" for name, sec in event.timings)
            self.out.print(f"[green]replicated[/] {event.edition} in {event.seconds:.0f} s "
                           f"({detail})", highlight=False)
        else:
            self.deploy(event)
            self.configure(event)

    def step_result(self, step: str, result: Any) -> None:
        """What a step produced (also the result of the step that failed)."""
        if step == "up":
            self.deploy.outcome(result.results, "up")
        elif step == "verify":
            from replicator.cli.verify import print_summary

            print_summary(result, self.out)
        elif step == "report":
            from replicator.cli.report import print_files, print_summary as print_report

            print_report(result.data, self.out)
            print_files(result, self.out, self.out)
