"""`replicator preview|up|down|refresh|outputs|status`: the stacks' lifecycle."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from replicator.cli import app
from replicator.cli.options import BackendUrlOpt, CwdOpt, EditionOpt, StackArg
from replicator.cli.targets import Targets, resolve
from replicator.errors import ExitCode, InputError, ReplicatorError
from replicator.paths import find_project_root
from replicator.stacks import resolve_targets

if TYPE_CHECKING:  # the engine (pulumi, grpc, docker) loads only once the input is checked
    from replicator.engine import Mode, RunResult
    from replicator.engine.display import ConsoleSink
    from replicator.engine.events import RecordingSink

console = Console()
err = Console(stderr=True)

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Skip the confirmation prompt.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON result on stdout.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="auto | embedded | pulumi.")]
ParallelOpt = Annotated[int, typer.Option("--parallel", "-p", min=1, max=64,
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


def _run_each(targets: Targets, verb: Mode, *, as_json: bool, show_same: bool,
              refresh: bool = False) -> list[RunResult]:
    """Run `verb` on the targets: concurrently with the embedded engine, else one by one."""
    from replicator.engine import Mode, StackRunner
    from replicator.engine.display import ConsoleSink
    from replicator.engine.events import RecordingSink
    from replicator.engine.multistack import run_stacks

    backend = targets.runner
    out = err if as_json else console
    names = targets.names
    concurrent = isinstance(backend, StackRunner) and len(names) > 1
    sinks: dict[str, ConsoleSink | RecordingSink] = {}

    def make_sink(stack: str) -> ConsoleSink | RecordingSink:
        if as_json:
            sink: ConsoleSink | RecordingSink = RecordingSink()
        else:
            sink = ConsoleSink(out, stack=stack, verb=verb.value, show_same=show_same,
                               prefix=f"{stack}: " if concurrent else "", live=not concurrent)
            sink.__enter__()
        sinks[stack] = sink
        return sink

    results: list[RunResult] = []
    if concurrent:
        assert isinstance(backend, StackRunner)
        results = run_stacks(backend, names, verb, make_sink, refresh_first=refresh)
    else:
        # One by one: dependents are destroyed before the stack they reference.
        for name in reversed(names) if verb == Mode.DESTROY else names:
            result = backend.run(name, verb, make_sink(name), refresh_first=refresh)
            results.append(result)
            if not result.succeeded:
                break
    for result in results:
        sink = sinks.get(result.stack)
        if isinstance(sink, ConsoleSink):
            sink.__exit__(None, None, None)
            if verb == Mode.PREVIEW:
                sink.print_plan()
            sink.print_summary(result.steps, preview=verb == Mode.PREVIEW, seconds=result.seconds)
    for result in results:
        if not result.succeeded:
            out.print(f"[bold red]error:[/] {escape(f'{result.stack}: {result.error}')}", highlight=False)
    if any(not r.succeeded for r in results) and verb != Mode.PREVIEW:
        out.print("[dim]The state holds every step that finished: fix the cause and run "
                  "the same command again to finish the job.[/]")
    if as_json:
        print(json.dumps([r.to_json() for r in results], indent=2))
    return results


def _modes() -> type[Mode]:
    from replicator.engine import Mode

    return Mode


def _exit_for(results: list[RunResult]) -> None:
    if not results or not all(r.succeeded for r in results):
        raise typer.Exit(int(ExitCode.FAILED))


@app.command()
def preview(stack: StackArg = None, edition: EditionOpt = None, json_: JsonOpt = False,
            engine: EngineOpt = "auto", parallel: ParallelOpt = 8,
            show_same: ShowSameOpt = False, cwd: CwdOpt = None,
            backend_url: BackendUrlOpt = None) -> None:
    """Show what `up` would do, resource by resource, changing nothing."""
    targets = resolve(stack, edition, cwd=cwd, engine=engine, backend_url=backend_url,
                      parallel=parallel)
    _exit_for(_run_each(targets, _modes().PREVIEW, as_json=json_, show_same=show_same))


@app.command()
def up(stack: StackArg = None, edition: EditionOpt = None, yes: YesOpt = False,
       json_: JsonOpt = False, refresh: Annotated[bool, typer.Option(
           "--refresh", help="Refresh the state from Docker before updating.")] = False,
       engine: EngineOpt = "auto", parallel: ParallelOpt = 8, show_same: ShowSameOpt = False,
       cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Create or update the stack's Docker objects to match the program."""
    targets = resolve(stack, edition, cwd=cwd, engine=engine, backend_url=backend_url,
                      parallel=parallel)
    if not yes and _interactive():
        previews = _run_each(targets, _modes().PREVIEW, as_json=False, show_same=show_same)
        _exit_for(previews)
        if sum(p.changes for p in previews) == 0 and not refresh:
            console.print("[green]No changes to apply.[/]")
            return
        _confirm("Do you want to perform this update?", yes)
    _exit_for(_run_each(targets, _modes().UP, as_json=json_, show_same=show_same, refresh=refresh))


@app.command(name="down")
def down(stack: StackArg = None, edition: EditionOpt = None, yes: YesOpt = False,
         json_: JsonOpt = False, engine: EngineOpt = "auto", parallel: ParallelOpt = 8,
         cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Delete every Docker object of the stack (`pulumi destroy`)."""
    targets = resolve(stack, edition, cwd=cwd, engine=engine, backend_url=backend_url,
                      parallel=parallel)  # _run_each reverses
    _confirm(f"Delete every resource of {', '.join(targets.names)}?", yes)
    _exit_for(_run_each(targets, _modes().DESTROY, as_json=json_, show_same=False))


app.command(name="destroy", hidden=True)(down)


@app.command()
def refresh(stack: StackArg = None, edition: EditionOpt = None, yes: YesOpt = False,
            json_: JsonOpt = False, engine: EngineOpt = "auto", cwd: CwdOpt = None,
            backend_url: BackendUrlOpt = None) -> None:
    """Read the real Docker objects back into the state (finds removed or stopped containers)."""
    targets = resolve(stack, edition, cwd=cwd, engine=engine, backend_url=backend_url)
    _exit_for(_run_each(targets, _modes().REFRESH, as_json=json_, show_same=False))


@app.command()
def outputs(stack: StackArg = None, json_: JsonOpt = False,
            show_secrets: Annotated[bool, typer.Option("--show-secrets")] = False,
            cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Print the stack's outputs (secrets masked unless --show-secrets)."""
    if cwd is None and stack is None:
        raise InputError("name the stack", fix="replicator outputs STACK")
    targets = resolve(stack, None, cwd=cwd, engine="embedded", backend_url=backend_url)
    stack = targets.names[0]
    state = targets.runner.load_state(stack)
    from replicator.engine.properties import mask, reveal

    values = reveal(state.outputs) if show_secrets else mask(state.outputs)
    if not state.outputs:
        how = f"replicator up --cwd {cwd} {stack}" if cwd else f"replicator up {stack}"
        raise ReplicatorError(f"stack {stack} has no outputs: it has not been deployed",
                              fix=f"run `{how}`")
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
    from replicator.status import collect_status

    root = find_project_root()
    targets = resolve_targets(root, stack, edition)
    rows, down = collect_status(root, targets)
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
    if down:
        raise typer.Exit(int(ExitCode.ENGINE_UNAVAILABLE))
    if any(r.state != "running" for r in rows):
        raise typer.Exit(int(ExitCode.FAILED))


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
