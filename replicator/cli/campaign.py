"""`replicator campaign run|report|schedule`: test campaigns on a replica."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.progress import TaskID, TimeRemainingColumn

from replicator.cli import app
from replicator.errors import ExitCode
from replicator.paths import find_project_root

campaign_app = typer.Typer(help="Test campaigns: run cells of steps through the ITL's test "
                                "tooling, record them, report progress.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
console = Console()


class ConsoleProgress:
    """Cells, steps, elapsed time and ETA as a rich progress bar; a line per step."""

    def __init__(self, console: Console):
        self.console = console
        self.bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("steps"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                console=console, transient=True)
        self.task: TaskID | None = None
        self.cells: list[str] = []

    def started(self, run_id, cells, steps) -> None:
        self.cells = [c.name for c in cells]
        self.console.print(f"campaign run {run_id}: {len(cells)} cell(s), {steps} step(s)",
                           highlight=False)
        self.bar.start()
        self.task = self.bar.add_task("starting", total=steps)

    def step_started(self, cell, title) -> None:
        number = self.cells.index(cell.name) + 1
        assert self.task is not None  # started() came first
        self.bar.update(self.task, description=f"cell {number}/{len(self.cells)} {cell.name}: "
                                               f"{title}")

    def step_done(self, record) -> None:
        mark = "[green]pass[/]" if record.passed else "[red]FAIL[/]"
        seconds = record.ended_at - record.started_at
        self.console.print(f"{mark} {record.cell}: {record.step} ({seconds:.1f} s)",
                           highlight=False)
        if not record.passed:
            for line in record.evidence:
                if not line.startswith("ok:"):
                    self.console.print(f"     {line}", highlight=False, markup=False)
        assert self.task is not None  # started() came first
        self.bar.advance(self.task)

    def stop(self) -> None:
        self.bar.stop()


@campaign_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="Campaign file, e.g. campaigns/paris2024/smoke.yaml.")],
    cell: Annotated[list[str] | None, typer.Option(
        "--cell", "-c", help="Run only this cell (repeatable).", show_default=False)] = None,
    scale: Annotated[float, typer.Option(
        "--scale", min=0.01, max=1000, help="Multiply every peak's Games volume by N.")] = 1.0,
    edition: Annotated[str | None, typer.Option(
        "--edition", "-e", help="Run against another deployed edition than the file's "
                                "(its venues must include the cells').", show_default=False)
                       ] = None,
) -> None:
    """Run a campaign's cells on the replica; every step is recorded (exit 1 if one fails)."""
    from replicator.campaign import Cancelled, run_file

    root = find_project_root()
    progress = ConsoleProgress(console)
    started = time.monotonic()
    try:
        summary = run_file(root, file, cells=cell, scale=scale, edition=edition,
                           progress=progress)
    except KeyboardInterrupt:  # before the run's own handler is in place: nothing recorded
        raise Cancelled("interrupted before the campaign started; nothing was recorded"
                        ) from None
    finally:
        progress.stop()
    passed = sum(s.passed for s in summary.steps)
    colour = "green" if summary.passed else "red"
    console.print(f"[{colour}]run {summary.run_id} {summary.status}[/]: {passed}/"
                  f"{len(summary.steps)} steps passed in {time.monotonic() - started:.1f} s",
                  highlight=False)
    if not summary.passed:
        raise typer.Exit(int(ExitCode.FAILED))


@campaign_app.command("report")
def report(
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Directory for campaign.html, .md, .json, campaign-junit.xml "
                               "and charts/ (default: reports/campaigns/).",
        show_default=False)] = None,
    campaign: Annotated[str | None, typer.Option(
        "--campaign", help="Only this campaign's runs (default: every recorded run).",
        show_default=False)] = None,
    target_hours: Annotated[float | None, typer.Option(
        "--target-hours", min=0.001, help="Test-hours target (default 250,000, the ITL's for "
                                          "Paris 2024).", show_default=False)] = None,
) -> None:
    """Write the campaign progress report for stakeholders from the recorded runs."""
    from replicator.campaign import write_report

    root = find_project_root()
    data, paths = write_report(root, output or root / "reports" / "campaigns",
                               campaign=campaign, target_hours=target_hours)
    console.print(f"{len(data['runs'])} run(s), {len(data['cells'])} cell(s), "
                  f"{data['test_hours']['total']:.3f} test hours, "
                  f"{len(data['open_failures'])} open failure(s)", highlight=False)
    for kind, path in paths.items():
        console.print(f"[green]wrote[/] {kind}: {path}", highlight=False)


@campaign_app.command("schedule")
def schedule(
    edition: Annotated[str, typer.Option("--edition", "-e", help="Edition.")] = "paris2024",
    write: Annotated[bool, typer.Option(
        "--write", help="Regenerate stacks/schedule/<edition>.json from the programme and "
                        "the topology.")] = False,
) -> None:
    """Show the competition schedule's figures (events, units, busiest day); --write regenerates it."""
    from replicator.campaign.schedule import generate, load_schedule, write_schedule
    from replicator.campaign.sequence import busiest_day
    from replicator.topology import load_edition

    root = find_project_root()
    if write:
        path = write_schedule(root, generate(load_edition(root, edition)))
        console.print(f"[green]wrote[/] {path}", highlight=False)
    data = load_schedule(root, edition)
    busiest = busiest_day(data)
    console.print(f"{data.medal_events()} medal events ({data.medal_events('olympic')} "
                  f"Olympic, {data.medal_events('paralympic')} Paralympic), "
                  f"{len(data.units())} units", highlight=False)
    console.print(f"busiest day {busiest.day}: {busiest.messages} ODF messages, peak minute "
                  f"{busiest.peak_minute} with {busiest.peak_minute_messages} "
                  f"({busiest.peak_rate:.2f}/s)", highlight=False)
