"""The entry points around the deploy path: status, simulated hosts, test campaigns.

As `replicator.api.service`: one options object each, `on_event` for what happens
while they work, a typed result; `replicator.errors` exceptions when they cannot
run; they never print or exit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replicator.api.events import (
    CampaignStarted,
    CampaignStepFinished,
    CampaignStepStarted,
    EventHandler,
    HostsMessage,
    ignore,
)
from replicator.api.options import (
    CampaignOptions,
    CampaignReportOptions,
    CampaignScheduleOptions,
    HostsDownOptions,
    HostsUpOptions,
    OutputsOptions,
    StatusOptions,
)
from replicator.api.service import project_root
from replicator.api.targets import resolve
from replicator.errors import ExitCode, InputError, ReplicatorError
from replicator.stacks import resolve_targets

if TYPE_CHECKING:
    from replicator.campaign.model import Cell
    from replicator.campaign.run import RunSummary
    from replicator.campaign.store import StepRecord
    from replicator.hosts.lifecycle import HostRow
    from replicator.hosts.model import HostsRecord
    from replicator.status import ContainerStatus, EngineProblem


# --------------------------------------------------------------------------- status
@dataclass(frozen=True)
class StatusResult:
    rows: list[ContainerStatus]
    engines_down: list[EngineProblem]

    @property
    def exit_code(self) -> int:
        """3 when an engine does not answer, 1 when a container is not running, else 0."""
        if self.engines_down:
            return int(ExitCode.ENGINE_UNAVAILABLE)
        if any(r.state != "running" for r in self.rows):
            return int(ExitCode.FAILED)
        return 0


def status(options: StatusOptions) -> StatusResult:
    """Declared containers against what each engine reports (read only)."""
    from replicator.status import collect_status

    root = project_root(options.root)
    rows, down = collect_status(root, resolve_targets(root, options.stack, options.edition))
    return StatusResult(rows, down)


def outputs(options: OutputsOptions) -> dict[str, Any]:
    """A deployed stack's outputs, secrets masked unless `show_secrets`."""
    from replicator.engine.properties import mask, reveal

    if options.cwd is None and options.stack is None:
        raise InputError("name the stack", path="STACK", fix="replicator outputs STACK")
    targets = resolve(options.stack, None, cwd=options.cwd, engine="embedded",
                      backend_url=options.backend_url)
    stack = targets.names[0]
    state = targets.runner.load_state(stack)
    if not state.outputs:
        how = (f"replicator up --cwd {options.cwd} {stack}" if options.cwd
               else f"replicator up {stack}")
        raise ReplicatorError(f"stack {stack} has no outputs: it has not been deployed",
                              fix=f"run `{how}`")
    return dict(reveal(state.outputs) if options.show_secrets else mask(state.outputs))


# --------------------------------------------------------------------------- hosts
def _reporter(on_event: EventHandler) -> Callable[[str, bool], None]:
    """The hosts lifecycle's (text, warning) reports, as HostsMessage events."""
    return lambda text, warning: on_event(HostsMessage(text, warning))


def hosts_up(options: HostsUpOptions, on_event: EventHandler = ignore) -> HostsRecord:
    """Start the edition's simulated hosts, form the swarm, point the stacks at them."""
    from replicator.hosts.lifecycle import hosts_up as up
    from replicator.inputs import check_edition_name
    from replicator.topology.loader import list_editions

    root = project_root(options.root)
    check_edition_name(options.edition)
    if options.edition not in list_editions(root):
        raise InputError(f"no edition {options.edition!r} (no stacks/topology/"
                         f"{options.edition}.yaml)", path="--edition",
                         fix="use one of: " + (", ".join(list_editions(root)) or "none"))
    return up(root, options.edition, per_site=options.per_site, report=_reporter(on_event))


def hosts_down(options: HostsDownOptions, on_event: EventHandler = ignore) -> list[str]:
    """Undo `hosts_up` (one edition, or all); returns what was removed."""
    from replicator.hosts.lifecycle import hosts_down as down

    return down(project_root(options.root), options.edition, report=_reporter(on_event))


def hosts_list(root: Path | None = None) -> list[HostRow]:
    """Every simulated host, its engine, role, state and the stacks that use it."""
    from replicator.hosts.lifecycle import hosts_list as listed

    return listed(project_root(root))


# --------------------------------------------------------------------------- campaigns
class _Progress:
    """The campaign runner's progress sink (`replicator.campaign.Progress`), as API events."""

    def __init__(self, on_event: EventHandler) -> None:
        self.on_event = on_event

    def started(self, run_id: int, cells: list[Cell], steps: int) -> None:
        self.on_event(CampaignStarted(run_id, tuple(c.name for c in cells), steps))

    def step_started(self, cell: Cell, title: str) -> None:
        self.on_event(CampaignStepStarted(cell.name, title))

    def step_done(self, record: StepRecord) -> None:
        self.on_event(CampaignStepFinished(record))


def campaign(options: CampaignOptions, on_event: EventHandler = ignore) -> RunSummary:
    """Run a campaign's cells on the replica; every step is recorded as it ends.

    `summary.passed` says whether every step passed. Ctrl-C or SIGTERM ends the run
    as `interrupted` and raises `Cancelled` (exit 5).
    """
    from replicator.campaign import run_file

    return run_file(project_root(options.root), options.file, cells=list(options.cells) or None,
                    scale=options.scale, edition=options.edition,
                    progress=_Progress(on_event))


@dataclass(frozen=True)
class CampaignReport:
    data: dict[str, Any]  # what campaign.json holds
    paths: dict[str, Path]  # kind (html, markdown, json, junit) -> file written


def campaign_report(options: CampaignReportOptions) -> CampaignReport:
    """The stakeholders' progress report from the recorded runs."""
    from replicator.campaign import write_report

    root = project_root(options.root)
    data, paths = write_report(root, options.output or root / "reports" / "campaigns",
                               campaign=options.campaign, target_hours=options.target_hours)
    return CampaignReport(data, paths)


@dataclass(frozen=True)
class ScheduleFigures:
    written: Path | None  # the schedule file, when it was regenerated
    medal_events: int
    olympic_medal_events: int
    paralympic_medal_events: int
    units: int
    busiest_day: date
    busiest_day_messages: int
    peak_minute: str
    peak_minute_messages: int
    peak_rate: float  # ODF messages/s in the peak minute


def campaign_schedule(options: CampaignScheduleOptions) -> ScheduleFigures:
    """The competition schedule's figures (regenerated from the programme with `write`)."""
    from replicator.campaign.schedule import generate, load_schedule, write_schedule
    from replicator.campaign.sequence import busiest_day
    from replicator.topology import load_edition

    root = project_root(options.root)
    written = (write_schedule(root, generate(load_edition(root, options.edition)))
               if options.write else None)
    data = load_schedule(root, options.edition)
    busiest = busiest_day(data)
    return ScheduleFigures(written, data.medal_events(), data.medal_events("olympic"),
                           data.medal_events("paralympic"), len(data.units()), busiest.day,
                           busiest.messages, busiest.peak_minute, busiest.peak_minute_messages,
                           busiest.peak_rate)
