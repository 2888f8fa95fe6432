"""The competition schedule of an edition: events, phases and units, as data.

`generate` builds it reproducibly (no randomness, no clock) from the programme
(`programme.py`, cited facts plus marked modelling) and the venues of the
topology; `write_schedule` stores it beside the topology
(``stacks/schedule/<edition>.json``) and `load_schedule` reads it back. A unit
test regenerates the file and compares, so the data never drifts from its
generator.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from replicator.campaign.programme import GAMES, Discipline
from replicator.errors import InputError
from replicator.topology import Topology

SCHEDULE_DIR = Path("stacks") / "schedule"

# Phases per kind of discipline (modelled): (ODF phase code, units).
PHASES: dict[str, tuple[tuple[str, int], ...]] = {
    "race": (("HEAT", 4), ("SFNL", 2), ("FNL-", 1)),
    "duel": (("QFNL", 4), ("SFNL", 2), ("BRNZ", 1), ("FNL-", 1)),
    "team": (("GPA-", 6), ("QFNL", 4), ("SFNL", 2), ("BRNZ", 1), ("FNL-", 1)),
    "judged": (("QUAL", 2), ("FNL-", 1)),
}
# Minutes a unit lasts (modelled): a heat, a bout, a match, a judged session.
MINUTES = {"race": 10, "duel": 45, "team": 100, "judged": 90}
DAY_START, DAY_END = 9 * 60, 23 * 60  # a venue's sessions, minutes after midnight (Paris)
GENDERS = ("M", "W", "M", "W", "M", "W", "X")
MODELLED = ("events per discipline", "Paralympic discipline codes and venues",
            "competition days per discipline", "phases, units, start times and durations",
            "event codes (E01, E02, ...)")


class Unit(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str  # the unit's RSC (34 characters)
    venue: str
    day: date
    start: str  # HH:MM, Paris time
    minutes: int
    final: bool = False

    @property
    def discipline(self) -> str:
        return self.code[:3]

    @property
    def starts_at(self) -> datetime:
        hours, minutes = (int(x) for x in self.start.split(":"))
        return datetime(self.day.year, self.day.month, self.day.day, hours, minutes)


class Event(BaseModel):
    code: str  # RSC prefix: discipline + gender + event
    games: str
    discipline: str
    gender: str
    kind: str
    phases: dict[str, list[Unit]]


class Schedule(BaseModel):
    edition: str
    generated_by: str
    sources: dict[str, str]
    modelled: list[str]
    games: dict[str, dict[str, Any]]
    events: list[Event]

    def units(self) -> list[Unit]:
        return [u for e in self.events for units in e.phases.values() for u in units]

    def medal_events(self, games: str | None = None) -> int:
        return sum(1 for e in self.events if games in (None, e.games))


def olympic_venues(topology: Topology) -> dict[str, list[str]]:
    """Discipline -> codes of the venues that list it, in topology order."""
    out: dict[str, list[str]] = defaultdict(list)
    for location in topology.venues:
        for discipline in location.disciplines:
            out[discipline].append(location.code or "")
    return out


def generate(topology: Topology) -> Schedule:
    by_discipline = olympic_venues(topology)
    known = {loc.code for loc in topology.venues}
    events: list[Event] = []
    slots: dict[tuple[str, date], int] = defaultdict(int)  # (venue, day) -> units placed
    for games, (disciplines, (first, last), total) in GAMES.items():
        if sum(d.events for d in disciplines) != total:
            raise ValueError(f"{games}: the programme does not add up to {total} events")
        for discipline in disciplines:
            venues = list(discipline.venues) or by_discipline.get(discipline.code, [])
            missing = [v for v in venues if v not in known] or ([] if venues else ["(none)"])
            if missing:
                raise InputError(
                    f"discipline {discipline.code} has no venue in the topology "
                    f"({', '.join(missing)})", file=topology_file(topology),
                    fix="list the discipline under a venue's `disciplines`, or fix "
                        "replicator/campaign/programme.py")
            events += _events(discipline, venues, first, last, slots)
    return Schedule(
        edition=topology.edition.code,
        generated_by="replicator campaign schedule --write (replicator/campaign/schedule.py)",
        sources={"medal events, Games days, Olympic ODF codes": "../shared/notes/games-facts.md",
                 "venues": f"stacks/topology/{topology.edition.code}.yaml"},
        modelled=list(MODELLED),
        games={name: {"first_day": first.isoformat(), "last_day": last.isoformat(),
                      "medal_events": total}
               for name, (_, (first, last), total) in GAMES.items()},
        events=events)


def topology_file(topology: Topology) -> Path | None:
    return getattr(topology, "_source_file", None)


def _events(discipline: Discipline, venues: list[str], first: date, last: date,
            slots: dict[tuple[str, date], int]) -> list[Event]:
    lo, hi = discipline.days
    span = max(0, min(hi, (last - first).days) - lo)
    out = []
    for n in range(discipline.events):
        gender = GENDERS[n % len(GENDERS)]
        code = f"{discipline.code}{gender}E{n + 1:02d}"
        final_day = first + timedelta(days=lo + (n * (span + 1)) // discipline.events)
        phases = PHASES[discipline.kind]
        out.append(Event(code=code, games=discipline.games, discipline=discipline.code,
                         gender=gender, kind=discipline.kind, phases={
                             phase: _units(discipline, code, phase, count, n,
                                           max(first + timedelta(days=lo),
                                               final_day - timedelta(days=len(phases) - 1 - i)),
                                           venues, slots)
                             for i, (phase, count) in enumerate(phases)}))
    return out


def _units(discipline: Discipline, event_code: str, phase: str, count: int, event_index: int,
           day: date, venues: list[str], slots: dict[tuple[str, date], int]) -> list[Unit]:
    minutes = MINUTES[discipline.kind]
    units = []
    for k in range(count):
        venue = venues[(event_index + k) % len(venues)]
        placed = slots[(venue, day)]
        slots[(venue, day)] += 1
        # Units follow each other from 09:00 with a 5-minute changeover; when a
        # day is full, another field of play starts again (offset by 5 minutes).
        per_field = max(1, (DAY_END - DAY_START) // (minutes + 5))
        field, index = divmod(placed, per_field)
        start = DAY_START + index * (minutes + 5) + (field % 12) * 5
        rsc = event_code.ljust(22, "-") + phase + f"{k + 1:06d}00"
        units.append(Unit(code=rsc, venue=venue, day=day,
                          start=f"{start // 60:02d}:{start % 60:02d}", minutes=minutes,
                          final=phase == "FNL-"))
    return units


def schedule_path(root: Path, edition: str) -> Path:
    return root / SCHEDULE_DIR / f"{edition}.json"


def render(schedule: Schedule) -> str:
    """The schedule file: JSON, a header then one flat list of rows, one per line
    (diffs stay readable): an event's row (an object) followed by one row per unit
    of it (a list). JSON, not YAML: 6,000 units load in a few milliseconds."""
    head = {"comment": "Generated: do not edit. `replicator campaign schedule --write` "
                       "rewrites it. Unit rows: [RSC, venue, day, start (Paris), minutes, final]",
            **schedule.model_dump(mode="json", exclude={"events"})}
    rows = []
    for event in schedule.events:
        rows.append(json.dumps(event.model_dump(exclude={"phases"})))
        rows += [json.dumps([u.code, u.venue, u.day.isoformat(), u.start, u.minutes, u.final])
                 for units in event.phases.values() for u in units]
    body = json.dumps(head, indent=1)[:-2]
    return body + ',\n "events": [\n  ' + ",\n  ".join(rows) + "\n ]\n}\n"


def parse(text: str) -> Schedule:
    data = json.loads(text)
    data.pop("comment", None)
    events: list[Event] = []
    for item in data.pop("events"):
        if isinstance(item, dict):
            events.append(Event.model_construct(**item, phases={}))
            continue
        code, venue, day, start, minutes, final = item
        # Trusted generated data: constructed without validation (6,000 units, fast).
        events[-1].phases.setdefault(code[22:26], []).append(Unit.model_construct(
            code=code, venue=venue, day=date.fromisoformat(day), start=start, minutes=minutes,
            final=final))
    return Schedule(**data, events=events)


def write_schedule(root: Path, schedule: Schedule) -> Path:
    from replicator.campaign.store import write_atomically

    path = schedule_path(root, schedule.edition)
    write_atomically(path, render(schedule).encode())
    return path


def load_schedule(root: Path, edition: str) -> Schedule:
    path = schedule_path(root, edition)
    if not path.is_file():
        raise InputError(f"no competition schedule for edition {edition}", file=path,
                         fix=f"run `replicator campaign schedule --edition {edition} --write`")
    return parse(path.read_text(encoding="utf-8"))
