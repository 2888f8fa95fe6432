"""`replicator verify`: prove the running replica matches the declared production topology."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.markup import escape

from replicator import api
from replicator.api import VerifyOptions
from replicator.api.events import Event, VerifyStarted
from replicator.cli import app
from replicator.cli.options import EditionOpt, StackArg
from replicator.errors import ExitCode

console = Console()
err = Console(stderr=True)

MAX_FAILURES_SHOWN = 40


@app.command()
def verify(
    stack: StackArg = None,
    edition: EditionOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Report directory (default reports/<edition>/verify/).")] = None,
    level: Annotated[str, typer.Option(
        "--level", help="structure (Docker objects, links, isolation, servers) or full "
                        "(also processes, ports, files, health, end to end).")] = "full",
    workers: Annotated[int | None, typer.Option(
        "--workers", "-n", min=1, max=8,
        help="pytest-xdist processes (default 1: the checks run in parallel threads).")] = None,
    isolation_sample: Annotated[int | None, typer.Option(
        "--isolation-sample", min=1, help="Probe a seeded sample of N undeclared pairs "
                                          "(default: all of them).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the isolation sample.")] = 2024,
    json_: Annotated[bool, typer.Option("--json", help="Print the JSON result on stdout.")] = False,
) -> None:
    """Check the replica against the topology with testinfra; exit 6 if anything differs."""
    if level not in ("structure", "full"):
        raise typer.BadParameter("use structure or full", param_hint="--level")
    options = VerifyOptions(stack=stack, edition=edition, output=output,
                            level="full" if level == "full" else "structure",
                            workers=workers, isolation_sample=isolation_sample, seed=seed)
    out = err if json_ else console

    def on_event(event: Event) -> None:
        if isinstance(event, VerifyStarted):
            out.print(f"Verifying {', '.join(event.stacks)} ({event.level})...", highlight=False)

    result = api.verify(options, on_event)
    if json_:
        print(json.dumps(result.to_json(), indent=2, default=str))
    print_summary(result, out)
    if not result.passed:
        raise typer.Exit(int(ExitCode.VERIFY_FAILED))


def print_summary(result, out: Console) -> None:
    concepts = [c for c in result.per_concept()]
    table = Table("Site", "Suite", *concepts, "Result", box=None, pad_edge=False)
    for g in result.groups():
        cells = []
        for concept in concepts:
            n = g.counts.get(concept)
            if not n:
                cells.append("-")
                continue
            bad = n.get("failed", 0) + n.get("error", 0)
            cells.append(f"[green]{n.get('passed', 0)}[/]" + (f" [red]{bad} failed[/]" if bad
                                                               else ""))
        table.add_row(escape(g.site), escape(g.suite), *cells, "[red]FAIL[/]" if g.failed else "[green]pass[/]")
    out.print(table)

    failures = result.failures
    if failures:
        out.print(f"\n[bold red]{len(failures)} failed check(s):[/]")
        for c in failures[:MAX_FAILURES_SHOWN]:
            out.print(f"  [red]✗[/] {escape(f'{c.concept}::{c.name}: {c.message}')}", highlight=False,
                      soft_wrap=True)
        if len(failures) > MAX_FAILURES_SHOWN:
            out.print(f"  ... and {len(failures) - MAX_FAILURES_SHOWN} more in the report")
    if result.error:
        out.print(f"[bold red]error:[/] {escape(str(result.error))}", highlight=False)

    figures = []
    cov = result.coverage
    figures.append(f"coverage {cov.get('percent', 0):.0f}% ({cov['services']['covered']}/"
                   f"{cov['services']['declared']} services, {cov['links']['covered']}/"
                   f"{cov['links']['declared']} links)")
    summary = result.conformance.get("summary") or {}
    if summary:
        figures.append(f"conformance {summary.get('conformance_percent', 0):.1f}% "
                       f"({summary.get('missing', 0)} missing, {summary.get('unexpected', 0)} "
                       f"unexpected, {summary.get('changed', 0)} changed)")
    iso = result.isolation
    if iso:
        figures.append(f"isolation: {iso.get('probed')} of {iso.get('total')} undeclared "
                       "cross-site pairs probed"
                       + (f" (seeded sample, seed {iso.get('seed')})" if iso.get("sampled")
                          else ""))
    servers = result.servers
    if servers:
        figures.append(f"physical servers: replica {servers.get('replica')} vs production "
                       f"{servers.get('production')}"
                       + (" (modelled)" if servers.get("production_modelled") else ""))
    latency = result.latency
    if latency:
        figures.append(f"ODF venue -> WRS, RMA, CIS: {latency.get('end_to_end_ms', 'n/a')} ms "
                       f"(Paris 2024: {latency.get('reference_ms', 350):.0f} ms) "
                       + ", ".join(f"{k} {v} ms" for k, v in (latency.get('latency_ms') or {})
                                   .items()))
    for line in figures:
        out.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    for kind, path in result.reports.items():
        out.print(f"  [dim]{kind}: {escape(str(path))}[/]", highlight=False, soft_wrap=True)
    colour = "green" if result.passed else "red"
    out.print(f"[bold {colour}]{escape(result.summary_line())}[/]", highlight=False, soft_wrap=True)
