"""A test campaign: cells (one per sport or discipline and venue, as the ITL's
own cells), each with steps of six kinds. Schema of ``campaigns/<edition>/*.yaml``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from replicator.topology.errors import invalid

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)]
Consumer = Literal["cis", "myinfo", "wrs", "rma"]
ITL_TARGET_HOURS = 250_000  # test hours of the Paris 2024 campaign (games-facts.md, ITL)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Step(_Model):
    name: str | None = None

    def title(self) -> str:
        return self.name or self.describe()

    def describe(self) -> str:
        raise NotImplementedError


class FunctionalStep(_Step):
    """An OMS or venue flow run by the test-orchestrator."""

    kind: Literal["functional"]
    flow: Literal["health", "accreditation", "volunteer-workforce", "schedule-download"]

    def describe(self) -> str:
        return f"functional: {self.flow}"


class ReplayStep(_Step):
    """Units' message sequences through the venue's OVR, checked at every consumer."""

    kind: Literal["replay"]
    day: date | None = None  # default: the first day the cell's sport competes at the venue
    unit: str | None = None  # one RSC; default: the day's units of the cell (up to `units`)
    units: Annotated[int, Field(ge=1, le=500)] | Literal["all"] = 1  # "all": the whole day
    seconds: float = Field(default=8.0, gt=0, le=600)  # each unit's life, compressed to this
    consumers: tuple[Consumer, ...] = ("cis", "myinfo", "wrs", "rma")

    def describe(self) -> str:
        day = self.day or "the first day"
        return f"replay: {self.unit or f'{self.units} unit(s) of {day}'}"


class PeakStep(_Step):
    """The busiest minute of a day at N x its Games volume (times --scale), sustained."""

    kind: Literal["peak"]
    day: date | Literal["busiest"] = "busiest"
    scale: float = Field(default=1.0, gt=0, le=1000)
    seconds: float = Field(default=15.0, gt=0, le=600)
    max_p99_ms: float = Field(default=2350.0, gt=0)  # 2.35 s to smartphones (games-facts.md)

    def describe(self) -> str:
        return f"peak: {self.day} x{self.scale:g} for {self.seconds:g} s"


class DrillStep(_Step):
    """A fault under load: time to recover and messages lost (must be 0)."""

    kind: Literal["drill"]
    fault: Literal["kill-container", "stop-container", "crash-process", "stop-site",
                   "cut-circuit"]
    target: str  # a container's service[/tier][#instance], or a site for stop-site
    seconds: float = Field(default=5.0, ge=0, le=300)  # how long the fault lasts
    rate: float = Field(default=50.0, gt=0, le=10_000)  # load during the drill, msg/s
    load_seconds: float = Field(default=15.0, gt=0, le=600)
    max_recovery_s: float = Field(default=60.0, gt=0)

    def describe(self) -> str:
        return f"drill: {self.fault} {self.target}"


class ProcedureStep(_Step):
    """A runbook step as an Ansible playbook, run on the replica and checked."""

    kind: Literal["procedure"]
    playbook: str  # path from the project root
    rate: float = Field(default=20.0, gt=0, le=10_000)  # load while it runs
    load_seconds: float = Field(default=20.0, gt=0, le=600)

    def describe(self) -> str:
        return f"procedure: {self.playbook}"


class InterfaceStep(_Step):
    """An external consumer slow, down or answering errors: retry, no loss, catch-up."""

    kind: Literal["interface"]
    consumer: Consumer
    mode: Literal["down", "slow", "erroring"]
    seconds: float = Field(default=5.0, gt=0, le=300)
    rate: float = Field(default=50.0, gt=0, le=10_000)
    load_seconds: float = Field(default=10.0, gt=0, le=600)

    def describe(self) -> str:
        return f"interface: {self.consumer} {self.mode}"


Step = Annotated[FunctionalStep | ReplayStep | PeakStep | DrillStep | ProcedureStep
                 | InterfaceStep, Field(discriminator="kind")]


class Cell(_Model):
    name: Name
    suite: Literal["oms", "results", "operations", "interfaces"]
    sport: Annotated[str, Field(pattern=r"^([A-Z0-9]{3}|ALL)$")]  # ODF discipline code
    venue: Annotated[str, Field(pattern=r"^([A-Z][A-Z0-9]{2}|ALL)$")]  # venue code
    testers: int = Field(default=1, ge=1, le=100)  # experts of the cell: test hours
    steps: tuple[Step, ...] = Field(min_length=1)


class Campaign(_Model):
    campaign: Name
    title: str
    edition: Name
    target_test_hours: float = Field(default=ITL_TARGET_HOURS, gt=0)
    cells: tuple[Cell, ...] = Field(min_length=1)

    @field_validator("cells")
    @classmethod
    def _unique(cls, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        seen: set[str] = set()
        for cell in cells:
            if cell.name in seen:
                raise invalid(f"two cells are named {cell.name!r}", "give each cell its own name")
            seen.add(cell.name)
        return cells

    def selected(self, names: list[str] | None) -> list[Cell]:
        return [c for c in self.cells if not names or c.name in names]
