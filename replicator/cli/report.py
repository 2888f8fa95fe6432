"""`replicator report`: the sustainability server-count report of a running replica."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.markup import escape
from rich.text import Text

from replicator import api
from replicator.api import ReportOptions
from replicator.cli import app
from replicator.cli.options import EditionOpt

if TYPE_CHECKING:
    from replicator.report import ReportResult

console = Console()
err = Console(stderr=True)


@app.command()
def report(
    stack: Annotated[str | None, typer.Argument(
        help="One stack, e.g. paris2024-itl (its containers, and the production services of "
             "its site).", show_default=False)] = None,
    edition: EditionOpt = None,
    params: Annotated[Path | None, typer.Option(
        "--params", help="YAML or TOML file of parameters overriding the defaults.",
        show_default=False)] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Override one parameter: key=value (repeatable), e.g. "
                      "--set production.pue=1.1.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Directory to write report.html, report.md, report.json and "
                               "charts/ (default: reports/<edition or stack>/ in the project)",
        show_default=False)] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64, help="Containers sampled in parallel (Docker stats).")] = 64,
    json_: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
) -> None:
    """Servers by edition, the replica's hosts, containers, CPU and memory, and energy and CO2e."""
    options = ReportOptions(stack=stack, edition=edition, params_file=params,
                            sets=tuple(set_ or ()), output=output, workers=workers)
    out = err if json_ else console
    with out.status("measuring the replica and writing the report...", spinner="dots"):
        result = api.report(options)
    if json_:
        print(json.dumps(result.data, indent=2))
    else:
        print_summary(result.data, console)
    print_files(result, out, err)


def print_files(result: ReportResult, out: Console, warnings: Console) -> None:
    """The report's warnings, then the files it wrote."""
    for w in result.data["warnings"]:
        warnings.print(f"[yellow]warning:[/] {escape(str(w))}", highlight=False)
    for kind, path in result.files.items():
        out.print(f"[green]wrote[/] {kind}: {escape(str(path))}", highlight=False)


def print_summary(data: dict, console: Console) -> None:
    """The report's tables: servers by edition, the replica, ratios, energy and CO2e."""
    from replicator.report.model import fmt

    editions = Table("Edition", "Physical servers", "Origin", title="Servers by edition",
                     title_justify="left")
    for e in data["servers_by_edition"]:
        editions.add_row(Text(e["name"]), fmt(e["physical_servers"]),
                         Text(e["kind"] + (f" ({e['source']})" if e["source"] else "")))
    console.print(editions)
    venues, production = data["venues"], data["production"]
    console.print(
        f"Venue coverage: {venues['replicated']}/{venues['edition']} venues "
        f"({fmt(venues['percent'], 0)} %); production servers of the replicated scope "
        f"{fmt(production['physical_servers']['value'])}, whole edition "
        f"{fmt(production['whole_edition']['physical_servers']['value'])}", highlight=False)
    replica = data["replica"]
    console.print(
        f"Replica: {replica['physical_hosts']} physical host(s), "
        f"{replica['containers']['running']} running containers, "
        f"CPU {fmt(replica['cpu']['value'], 2)} % of one CPU, "
        f"memory {fmt(replica['memory']['value'] / 2**20, 1)} MiB", highlight=False)
    ratios = Table("Ratio", "Value", title="Consolidation", title_justify="left")
    for r in data["ratios"]:
        ratios.add_row(Text(r["label"]), Text(f"{fmt(r['value'], 2)} {r['unit']}"))
    console.print(ratios)
    fp = Table("Per year", "Production", "Replica", title="Energy and CO2e", title_justify="left")
    prod, repl = data["footprint"]["production"], data["footprint"]["replica"]
    for key, label, unit in (("energy_kwh", "Energy", "kWh"),
                             ("operational_kgco2e", "Operational CO2e", "kg"),
                             ("embodied_kgco2e", "Embodied CO2e", "kg"),
                             ("total_kgco2e", "Total CO2e", "kg")):
        fp.add_row(label, f"{fmt(prod[key]['value'], 1)} {unit}",
                   f"{fmt(repl[key]['value'], 1)} {unit}")
    console.print(fp)
