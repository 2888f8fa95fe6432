"""`replicator campaign run|report|schedule`: test campaigns on a replica."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.progress import TaskID, TimeRemainingColumn

from replicator import api
from replicator.api.events import (
    CampaignStarted,
    CampaignStepFinished,
    CampaignStepStarted,
    Event,
)
from replicator.api.options import (
    CampaignOptions,
    CampaignReportOptions,
    CampaignScheduleOptions,
)
from replicator.cli import app
from replicator.errors import CancelledError, ExitCode

campaign_app = typer.Typer(help="Test campaigns: run cells of steps through the ITL's test "
                                "tooling, record them, report progress.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
console = Console()


class ConsoleProgress:
    """Campaign events as a rich progress bar (cells, steps, elapsed, ETA) and a line per step."""

    def __init__(self, console: Console):
        self.console = console
        self.bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("steps"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                console=console, transient=True)
        self.task: TaskID | None = None
        self.cells: tuple[str, ...] = ()

    def __call__(self, event: Event) -> None:
        if isinstance(event, CampaignStarted):
            self.cells = event.cells
            self.console.print(f"campaign run {event.run_id}: {len(event.cells)} cell(s), "
                               f"{event.steps} step(s)", highlight=False)
            self.bar.start()
            self.task = self.bar.add_task("starting", total=event.steps)
        elif isinstance(event, CampaignStepStarted) and self.task is not None:
            number = self.cells.index(event.cell) + 1
            self.bar.update(self.task, description=f"cell {number}/{len(self.cells)} "
                                                   f"{event.cell}: {event.title}")
        elif isinstance(event, CampaignStepFinished) and self.task is not None:
            self._step_done(event.record)

    def _step_done(self, record: Any) -> None:
        mark = "[green]pass[/]" if record.passed else "[red]FAIL[/]"
        seconds = record.ended_at - record.started_at
        self.console.print(f"{mark} {record.cell}: {record.step} ({seconds:.1f} s)",
                           highlight=False)
        if not record.passed:
            for line in record.evidence:
                if not line.startswith("ok:"):
                    self.console.print(f"     {line}", highlight=False, markup=False)
        assert self.task is not None  # CampaignStarted came first
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
    options = CampaignOptions(file=file, cells=tuple(cell or ()), scale=scale, edition=edition)
    progress = ConsoleProgress(console)
    started = time.monotonic()
    try:
        summary = api.campaign(options, on_event=progress)
    except KeyboardInterrupt:  # before the run's own handler is in place: nothing recorded
        raise CancelledError("interrupted before the campaign started; nothing was recorded"
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
    done = api.campaign_report(CampaignReportOptions(output=output, campaign=campaign,
                                                     target_hours=target_hours))
    data, paths = done.data, done.paths
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
    figures = api.campaign_schedule(CampaignScheduleOptions(edition=edition, write=write))
    if figures.written:
        console.print(f"[green]wrote[/] {figures.written}", highlight=False)
    console.print(f"{figures.medal_events} medal events ({figures.olympic_medal_events} "
                  f"Olympic, {figures.paralympic_medal_events} Paralympic), "
                  f"{figures.units} units", highlight=False)
    console.print(f"busiest day {figures.busiest_day}: {figures.busiest_day_messages} ODF "
                  f"messages, peak minute {figures.peak_minute} with "
                  f"{figures.peak_minute_messages} ({figures.peak_rate:.2f}/s)", highlight=False)
