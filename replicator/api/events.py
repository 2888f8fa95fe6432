"""The events the API reports while it works, to one `on_event(event)` callback.

Like Pulumi's Automation API `on_event` and ansible-runner's `event_handler`: the API
never prints; the CLI (or a test, or another program) decides what to show. Every
event is a frozen dataclass; dispatch on its type. With the embedded engine the stacks
of an edition run concurrently, so `on_event` may be called from several threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # only for the annotations: the engine loads when a verb runs
    from replicator.campaign.store import StepRecord
    from replicator.configure import ConfigureResult
    from replicator.configure.results import PlaybookResult
    from replicator.engine.events import Diagnostic, Step
    from replicator.engine.runner import RunResult


@dataclass(frozen=True)
class Event:
    """The base of every event."""


EventHandler = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default `on_event`: drop every event."""


# --------------------------------------------------------------------------- deploy
@dataclass(frozen=True)
class StackStarted(Event):
    stack: str
    verb: str  # preview | up | destroy | refresh
    concurrent: bool  # several stacks run at once (their lines interleave)


@dataclass(frozen=True)
class ResourceEvent(Event):
    """A step of one stack's deployment: planned, started or finished."""

    stack: str
    phase: Literal["planned", "started", "finished"]
    step: Step


@dataclass(frozen=True)
class DiagnosticEvent(Event):
    stack: str
    diagnostic: Diagnostic


@dataclass(frozen=True)
class StackFinished(Event):
    result: RunResult


# --------------------------------------------------------------------------- configure
@dataclass(frozen=True)
class ConfigureStarted(Event):
    label: str
    hosts: tuple[str, ...]  # the containers this run configures
    total_hosts: int  # the containers of the inventory (more than `hosts` with a limit)
    inventory_path: Path
    limited: bool


@dataclass(frozen=True)
class PassStarted(Event):
    number: int
    name: str  # configure | check | idempotence
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class AnsibleEvent(Event):
    """One ansible-runner event of a pass (its `event_handler` payload)."""

    number: int
    data: Mapping[str, Any]


@dataclass(frozen=True)
class PassFinished(Event):
    number: int
    result: PlaybookResult


@dataclass(frozen=True)
class ConfigureFinished(Event):
    result: ConfigureResult
    seconds: float


# --------------------------------------------------------------------------- verify, report
@dataclass(frozen=True)
class VerifyStarted(Event):
    stacks: tuple[str, ...]
    level: str


@dataclass(frozen=True)
class ReportStarted(Event):
    scope: str  # the stack or edition measured


# --------------------------------------------------------------------------- replicate
@dataclass(frozen=True)
class PipelineStarted(Event):
    edition: str
    steps: tuple[str, ...]
    stacks: tuple[str, ...]


@dataclass(frozen=True)
class PipelineStepStarted(Event):
    number: int
    total: int
    name: str
    title: str


@dataclass(frozen=True)
class PipelineStepFinished(Event):
    name: str
    seconds: float
    result: Any  # what the step produced: list[RunResult], ConfigureResult, ...


@dataclass(frozen=True)
class PipelineFinished(Event):
    edition: str
    seconds: float
    timings: tuple[tuple[str, float], ...]


# --------------------------------------------------------------------------- hosts
@dataclass(frozen=True)
class HostsMessage(Event):
    """What `hosts up` / `hosts down` did (a host started or stopped, images loaded)."""

    text: str
    warning: bool = False  # e.g. overlay circuits without encryption, and why


# --------------------------------------------------------------------------- campaign
@dataclass(frozen=True)
class CampaignStarted(Event):
    run_id: int
    cells: tuple[str, ...]
    steps: int


@dataclass(frozen=True)
class CampaignStepStarted(Event):
    cell: str
    title: str


@dataclass(frozen=True)
class CampaignStepFinished(Event):
    record: StepRecord  # recorded before this event: an interrupted run keeps it
