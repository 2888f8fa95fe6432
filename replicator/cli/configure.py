"""`replicator configure` and `replicator replicate`: Ansible over the deployed containers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from replicator.cli import app
from replicator.cli.options import EditionOpt, StackArg
from replicator.errors import ExitCode, InputError
from replicator.paths import find_project_root
from replicator.stacks import CheckedStack, resolve_targets


def _console(stderr: bool = False) -> Console:
    # Not a terminal (CI logs, pipes): rich would assume 80 columns and squeeze the table.
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=120)


console = _console()
err = _console(stderr=True)



def run_configure(root: Path, targets: list[CheckedStack], *, check: bool = False,
                  limit: str | None = None, idempotence: bool = False, as_json: bool = False,
                  forks: int | None = None, verbosity: int = 0,
                  console: Console | None = None):
    """Prepare, run (with progress), print the per-host tables; exit 1 on any failure."""
    from replicator.configure import configure, prepare
    from replicator.configure.display import PassProgress, host_table, summary_line

    out = console or (err if as_json else globals()["console"])
    started = time.monotonic()
    prepared = prepare(root, targets)
    hosts = prepared.inventory.hosts
    if limit:
        from replicator.configure.inventory import limit_hosts

        hosts = limit_hosts(prepared.inventory_path, limit)
        if not hosts:
            raise InputError(f"--limit {limit!r} matches no container of {prepared.label}",
                             fix="use a container name or a group: svc_<service>, "
                                 "site_<site>, app, web, db, venue_<code>...")
    if not as_json:
        path = prepared.inventory_path
        shown = path.relative_to(root) if path.is_relative_to(root) else path
        what = f"{len(hosts)} of {len(prepared.inventory.hosts)}" if limit else str(len(hosts))
        out.print(f"[bold]configure[/] {escape(prepared.label)}: {what} containers, "
                  f"inventory {escape(str(shown))}", highlight=False)
    progress: dict[int, PassProgress] = {}

    def on_pass(number: int, name: str):
        if as_json:
            return None
        title = {"configure": "configure", "check": "dry run (--check)",
                 "idempotence": "idempotence pass"}[name]
        bar = PassProgress(out, hosts, f"pass {number}: {title}")
        bar.__enter__()
        progress[number] = bar
        return bar.on_event

    def after_pass(number: int, result) -> None:
        bar = progress.pop(number, None)
        if bar is not None:
            bar.__exit__(None, None, None)
        if as_json:
            return
        title = {1: "Pass 1", 2: "Pass 2 (idempotence)"}.get(number, f"Pass {number}")
        out.print(host_table(result, f"{title}: {summary_line(result)}"))
        slowest = bar.slowest() if bar is not None else None
        if slowest:
            out.print(f"slowest host: {escape(slowest[0])} ({slowest[1]:.1f} s)", highlight=False)

    result = configure(prepared, check=check, limit=limit, idempotence=idempotence,
                       forks=forks, verbosity=verbosity, on_pass=on_pass, after_pass=after_pass)
    seconds = time.monotonic() - started
    if as_json:
        doc = result.to_json()
        doc["seconds"] = round(seconds, 2)
        print(json.dumps(doc, indent=2))
    else:
        _print_outcome(out, result, seconds)
    if not result.succeeded:
        raise typer.Exit(int(ExitCode.FAILED))
    return result


def _print_outcome(out: Console, result, seconds: float) -> None:
    last = result.passes[-1] if result.passes else None
    if last is not None and not last.succeeded:
        for f in [*last.failures, *last.unreachable]:
            what = "unreachable" if f in last.unreachable else "failed"
            out.print(f"[bold red]error:[/] {escape(f.host)}: task [{escape(f.label)}] {what}: "
                      f"{escape(f.message or 'no message')}", highlight=False)
        if not last.failures and not last.unreachable:
            tail = ""
            if last.artifact_dir and (last.artifact_dir / "stdout").exists():
                lines = (last.artifact_dir / "stdout").read_text(errors="replace").splitlines()
                tail = "\n".join(lines[-15:])
            out.print(f"[bold red]error:[/] ansible-playbook ended with status {last.status} "
                      f"(rc {last.rc})\n{escape(tail)}", highlight=False)
        if last.artifact_dir:
            out.print(f"[dim]artifacts: {escape(str(last.artifact_dir))}[/]", highlight=False)
        return
    if result.idempotence is not None:
        lines = result.idempotence.lines()
        if result.idempotence.passed:
            out.print(f"[green]{escape(lines[0])}[/] (second pass: changed=0 on every host)",
                      highlight=False)
        else:
            out.print(f"[bold red]error:[/] {escape(lines[0])}", highlight=False)
            for line in lines[1:]:
                out.print(f"  {escape(line)}", highlight=False)
            return
    changed = last.changed_total if last else 0
    if last is not None and last.check:
        out.print(f"[green]dry run[/] of {escape(result.prepared.label)} in {seconds:.1f} s: "
                  f"{changed} task results would change", highlight=False)
        return
    out.print(f"[green]configured[/] {escape(result.prepared.label)} in {seconds:.1f} s "
              f"(changed {changed} task results)", highlight=False)


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
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="More Ansible output in the artifacts.")] = 0,
) -> None:
    """Configure the deployed containers with the Ansible roles (inventory from the stack outputs)."""
    root = find_project_root()
    targets = resolve_targets(root, stack, edition)
    run_configure(root, targets, check=check, limit=limit, idempotence=idempotence,
                  as_json=json_, forks=forks, verbosity=verbose)


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
    from replicator.configure.replicate import STEPS, ReplicateContext

    root = find_project_root()
    targets = resolve_targets(root, None, edition)
    skipped = set(skip or [])
    unknown = skipped - {s.name for s in STEPS}
    if unknown:
        raise typer.BadParameter(f"no step {', '.join(sorted(unknown))}; steps: "
                                 f"{', '.join(s.name for s in STEPS)}", param_hint="--skip")
    steps = [s for s in STEPS if s.name not in skipped]
    console.print(f"[bold]replicate {edition}[/]: " + " -> ".join(s.name for s in steps)
                  + f" ({', '.join(t.name for t in targets)})", highlight=False)
    _confirm(f"Run {', '.join(s.name for s in steps)} for edition {edition}?", yes)
    ctx = ReplicateContext(root=root, edition=edition, targets=targets, console=console, yes=yes,
                           options={"forks": forks})
    started = time.monotonic()
    timings: list[tuple[str, float]] = []
    for number, step in enumerate(steps, start=1):
        console.rule(f"[bold]{number}/{len(steps)} {step.name}[/]"
                     + (f": {step.title}" if step.title else ""))
        t0 = time.monotonic()
        step.run(ctx)
        timings.append((step.name, time.monotonic() - t0))
    console.rule()
    detail = ", ".join(f"{name} {sec:.0f} s" for name, sec in timings)
    console.print(f"[green]replicated[/] {edition} in {time.monotonic() - started:.0f} s ({detail})",
                  highlight=False)
