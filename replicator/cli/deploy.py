"""`replicator preview|up|down|refresh|outputs|status`: the stacks' lifecycle."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from replicator.inputs.deploy import DEFAULT_PARALLEL, MAX_PARALLEL
from replicator import api
from replicator.api import DeployOptions, DeployResult
from replicator.api.options import Engine, OutputsOptions, StatusOptions, Verb
from replicator.api.targets import resolve
from replicator.cli import app
from replicator.cli.options import BackendUrlOpt, CwdOpt, EditionOpt, StackArg
from replicator.cli.render import DeployRenderer
from replicator.errors import ExitCode

console = Console()
err = Console(stderr=True)

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Skip the confirmation prompt.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON result on stdout.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="auto | embedded | pulumi.")]
ParallelOpt = Annotated[int, typer.Option("--parallel", "-p", min=1, max=MAX_PARALLEL,
                                          help="Resource operations in parallel.")]
ShowSameOpt = Annotated[bool, typer.Option("--show-same", help="Also list unchanged resources.")]


def _interactive() -> bool:
    return sys.stdin.isatty()


def _confirm(question: str, yes: bool) -> None:
    """Ask like `pulumi up` does; never ask with --yes or when stdin is not a terminal."""
    if yes or not _interactive():
        return
    if not typer.confirm(question, default=False):
        err.print("[yellow]cancelled: nothing was changed[/]")
        raise typer.Exit(int(ExitCode.CANCELLED))


def _deploy(options: DeployOptions, *, as_json: bool, show_same: bool) -> DeployResult:
    """Call the API; render its events (or, with --json, print the results as JSON)."""
    out = err if as_json else console
    renderer = DeployRenderer(out, show_same=show_same, quiet=as_json)
    result = api.deploy(options, renderer)
    renderer.outcome(result.results, result.verb)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    return result


def _exit_for(result: DeployResult) -> None:
    if not result.succeeded:
        raise typer.Exit(int(result.exit_code))


@app.command()
def preview(stack: StackArg = None, edition: EditionOpt = None, json_: JsonOpt = False,
            engine: EngineOpt = "auto", parallel: ParallelOpt = DEFAULT_PARALLEL,
            show_same: ShowSameOpt = False, cwd: CwdOpt = None,
            backend_url: BackendUrlOpt = None) -> None:
    """Show what `up` would do, resource by resource, changing nothing."""
    options = _options("preview", stack, edition, cwd, engine, backend_url, parallel)
    _exit_for(_deploy(options, as_json=json_, show_same=show_same))


@app.command()
def up(stack: StackArg = None, edition: EditionOpt = None, yes: YesOpt = False,
       json_: JsonOpt = False, refresh: Annotated[bool, typer.Option(
           "--refresh", help="Refresh the state from Docker before updating.")] = False,
       engine: EngineOpt = "auto", parallel: ParallelOpt = DEFAULT_PARALLEL, show_same: ShowSameOpt = False,
       cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Create or update the stack's Docker objects to match the program."""
    options = _options("up", stack, edition, cwd, engine, backend_url, parallel, refresh=refresh)
    if not yes and _interactive():
        previews = _deploy(options.model_copy(update={"verb": "preview", "refresh": False}),
                           as_json=False, show_same=show_same)
        _exit_for(previews)
        if previews.changes == 0 and not refresh:
            console.print("[green]No changes to apply.[/]")
            return
        _confirm("Do you want to perform this update?", yes)
    _exit_for(_deploy(options, as_json=json_, show_same=show_same))


@app.command(name="down")
def down(stack: StackArg = None, edition: EditionOpt = None, yes: YesOpt = False,
         json_: JsonOpt = False, engine: EngineOpt = "auto", parallel: ParallelOpt = DEFAULT_PARALLEL,
         cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Delete every Docker object of the stack (`pulumi destroy`)."""
    options = _options("destroy", stack, edition, cwd, engine, backend_url, parallel)
    if not yes and _interactive():  # name (and check) the stacks before the question
        names = resolve(stack, edition, cwd=cwd, engine=engine, backend_url=backend_url,
                        parallel=parallel).names
        _confirm(f"Delete every resource of {', '.join(names)}?", yes)
    _exit_for(_deploy(options, as_json=json_, show_same=False))


app.command(name="destroy", hidden=True)(down)


@app.command()
def refresh(stack: StackArg = None, edition: EditionOpt = None, yes: YesOpt = False,
            json_: JsonOpt = False, engine: EngineOpt = "auto", cwd: CwdOpt = None,
            backend_url: BackendUrlOpt = None) -> None:
    """Read the real Docker objects back into the state (finds removed or stopped containers)."""
    options = _options("refresh", stack, edition, cwd, engine, backend_url, 8)
    _exit_for(_deploy(options, as_json=json_, show_same=False))


def _options(verb: Verb, stack: str | None, edition: str | None, cwd: Path | None, engine: str,
             backend_url: str | None, parallel: int, *, refresh: bool = False) -> DeployOptions:
    # cast: typer hands --engine over as a str; DeployOptions checks it when it is built.
    return DeployOptions(verb=verb, stack=stack, edition=edition, cwd=cwd,
                         engine=cast(Engine, engine), backend_url=backend_url,
                         parallel=parallel, refresh=refresh)


@app.command()
def outputs(stack: StackArg = None, json_: JsonOpt = False,
            show_secrets: Annotated[bool, typer.Option("--show-secrets")] = False,
            cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Print the stack's outputs (secrets masked unless --show-secrets)."""
    values = api.outputs(OutputsOptions(stack=stack, cwd=cwd, backend_url=backend_url,
                                        show_secrets=show_secrets))
    if json_:
        print(json.dumps(values, indent=2, sort_keys=True))
        return
    table = Table("Output", "Value", box=None)
    for key, value in sorted(values.items()):
        text = value if isinstance(value, str) else json.dumps(value)
        table.add_row(Text(key), Text(text if len(text) < 200 else text[:197] + "..."))
    console.print(table)


@app.command()
def status(stack: StackArg = None, edition: EditionOpt = None, json_: JsonOpt = False) -> None:
    """Per stack, its containers: live state, the host (engine) they run on, their networks."""
    result = api.status(StatusOptions(stack=stack, edition=edition))
    rows, down = result.rows, result.engines_down
    if json_:
        print(json.dumps([r.to_json() for r in rows], indent=2))
    else:
        _print_status(rows)
    for p in down:
        err.print(f"[bold red]error:[/] host {p.host}: the engine at {p.engine} does not "
                  f"answer ({p.error}); its containers: "
                  + ", ".join(r.container for r in rows if r.engine == p.engine)
                  + "\n  fix: bring the host back (`replicator hosts up`), then "
                    "`replicator up` converges")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _print_status(rows: list) -> None:
    """One table per stack, the `<edition>-<site>-` prefix in the title: fits 80 columns."""
    for stack in dict.fromkeys(r.stack for r in rows):
        mine = [r for r in rows if r.stack == stack]
        hosts = ", ".join(dict.fromkeys(r.host for r in mine))
        table = Table("Container", "State", "Host", "Networks", title_justify="left",
                      title=f"{stack} (site {mine[0].site}, host {hosts})")
        prefix = f"{stack}-"
        for r in mine:
            style = {"running": "green", "missing": "red", "engine down": "red"}.get(r.state,
                                                                                    "yellow")
            table.add_row(r.container.removeprefix(prefix), f"[{style}]{r.state}[/]", r.host,
                          _network_summary(r.networks))
        console.print(table)
    bad = [r for r in rows if r.state != "running"]
    console.print(f"{len(rows)} containers on {len({r.engine for r in rows})} engine(s), "
                  f"{len(rows) - len(bad)} running, {len(bad)} not running or missing")


def _network_summary(networks: list[str]) -> str:
    """`lan, edge, 3 wan`: which kinds of network a container is on, compactly."""
    kinds = [k for k in ("lan", "edge") if any(n.endswith(f"-{k}") for n in networks)]
    wan = sum("-wan-" in n for n in networks)
    return ", ".join([*kinds, *([f"{wan} wan"] if wan else [])])
