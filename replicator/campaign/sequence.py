"""Each unit's ODF message sequence, with Games-realistic spacing, and the volumes
of a day derived from it (the busiest day, its peak minute).

A unit's life (games-facts.md, "typical end of a phase"): schedule update 30 min
before the start, start list 15 min before, live results while it runs (a
cadence per kind of sport; ODF merges repeated DT_RESULT to at most one per
0.25 s), then unconfirmed, unofficial and official results with the phase
result, and for a final the medallists, the discipline's medallists, the medal
standings and the ranking. Offsets are modelled; they are seconds from the
unit's start.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from replicator import odf
from replicator.campaign.schedule import Schedule, Unit

# Seconds between two live updates (DT_CURRENT, DT_RESULT LIVE) of a unit (modelled).
LIVE_EVERY = {"race": 5, "duel": 15, "team": 20, "judged": 30}
ODF_KIND = {"race": "race", "duel": "score", "team": "score", "judged": "points"}


@dataclass(frozen=True)
class Planned:
    """One message of a unit's sequence: when (seconds from the unit's start) and what."""

    offset: float
    document_type: str
    status: str | None
    progress: float


def plan(unit: Unit, kind: str) -> list[Planned]:
    end = unit.minutes * 60
    steps = [Planned(-1800, "DT_SCHEDULE_UPDATE", None, 0.0),
             Planned(-900, "DT_RESULT", "START_LIST", 0.0),
             Planned(0, "DT_SCHEDULE_UPDATE", None, 0.01)]
    every = LIVE_EVERY[kind]
    for t in range(every, end, every):
        progress = round(t / end, 3)
        steps.append(Planned(t, "DT_CURRENT", "LIVE", progress))
        if t % (every * 4) == 0:
            steps.append(Planned(t + 0.25, "DT_RESULT", "LIVE", progress))
    steps += [Planned(end + 60, "DT_RESULT", "UNCONFIRMED", 1.0),
              Planned(end + 60, "DT_PHASE_RESULT", "UNCONFIRMED", 1.0),
              Planned(end + 180, "DT_RESULT", "UNOFFICIAL", 1.0),
              Planned(end + 600, "DT_RESULT", "OFFICIAL", 1.0),
              Planned(end + 600, "DT_PHASE_RESULT", "OFFICIAL", 1.0)]
    if unit.final:
        steps += [Planned(end + 660, "DT_MEDALLISTS", "OFFICIAL", 1.0),
                  Planned(end + 660, "DT_MEDALLISTS_DISCIPLINE", "OFFICIAL", 1.0),
                  Planned(end + 660, "DT_MEDALS", None, 1.0),
                  Planned(end + 720, "DT_RANKING", "OFFICIAL", 1.0)]
    return steps


class _VersionFloor(dict):
    """Versions per identity that start above `floor` (a replay never reuses one)."""

    def __init__(self, floor: int):
        super().__init__()
        self.floor = floor

    def get(self, key, default=None):  # noqa: ANN001 - dict's own signature
        return super().get(key, self.floor)


def messages(unit: Unit, kind: str, *, version_floor: int,
             competition_code: str = "OG2024") -> list[tuple[float, bytes]]:
    """(offset, XML) of every message of `unit`, Versions above `version_floor`."""
    feed = odf.VenueFeed(unit.venue, [unit.discipline], competition_code=competition_code,
                         versions=_VersionFloor(version_floor))
    parts = odf.parse_rsc(unit.code)
    rng = random.Random(zlib.crc32(unit.code.encode()))
    model = odf.Unit(unit.discipline, parts["gender"], parts["event"], parts["event"],
                     ODF_KIND[kind], parts["phase"] or "FNL-", 1, unit.venue, rng)
    model.code = unit.code
    out = []
    for step in plan(unit, kind):
        document_type = ("DT_MEDALLISTS" if step.document_type == "DT_MEDALLISTS_DISCIPLINE"
                         else step.document_type)
        xml = feed.unit_message(model, document_type, step.status, step.progress)
        if step.document_type == "DT_MEDALLISTS_DISCIPLINE":
            xml = odf.set_header(xml, DocumentType="DT_MEDALLISTS_DISCIPLINE",
                                 DocumentCode=odf.rsc(unit.discipline))
        out.append((step.offset, xml))
    return out


def final_result(unit: Unit, kind: str, *, version_floor: int) -> tuple[int, str]:
    """The Version and status consumers must end with for the unit's DT_RESULT."""
    results = [m for m in messages(unit, kind, version_floor=version_floor)
               if odf.parse(m[1], full=False).document_type == "DT_RESULT"]
    header = odf.parse(results[-1][1], full=False)
    return int(header["Version"]), header["ResultStatus"]


@dataclass(frozen=True)
class DayVolume:
    day: date
    messages: int
    peak_minute: str  # HH:MM
    peak_minute_messages: int

    @property
    def peak_rate(self) -> float:
        """Messages per second in the peak minute."""
        return self.peak_minute_messages / 60


def day_volumes(schedule: Schedule) -> list[DayVolume]:
    """Messages per Games day (a day ends at 03:00, as ODF's LogicalDate) and its peak minute."""
    kinds = {e.code: e.kind for e in schedule.events}
    # A unit's messages per minute from its start, for each shape of unit (a few).
    shapes: dict[tuple[str, int, bool], Counter[int]] = {}
    total: Counter[int] = Counter()  # minutes since 03:00 of day one -> messages
    for unit in schedule.units():
        shape = (kinds[unit.code[:22].rstrip("-")], unit.minutes, unit.final)
        if shape not in shapes:
            shapes[shape] = Counter(int(p.offset // 60) for p in plan(unit, shape[0]))
        hours, minutes = (int(x) for x in unit.start.split(":"))
        # Minutes from a 03:00 start, so that the logical day is a division.
        start = unit.day.toordinal() * 1440 + hours * 60 + minutes - 180
        for offset, count in shapes[shape].items():
            total[start + offset] += count
    per_minute: dict[int, Counter[int]] = {}  # ordinal of the logical day -> minute -> count
    for absolute, count in total.items():
        day, minute = divmod(absolute, 1440)
        per_minute.setdefault(day, Counter())[minute] = count
    out = []
    for day, counts in sorted(per_minute.items()):
        minute, peak = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
        clock = (minute + 180) % 1440
        out.append(DayVolume(date.fromordinal(day), sum(counts.values()),
                             f"{clock // 60:02d}:{clock % 60:02d}", peak))
    return out


def busiest_day(schedule: Schedule) -> DayVolume:
    return max(day_volumes(schedule), key=lambda d: (d.peak_minute_messages, d.messages))
