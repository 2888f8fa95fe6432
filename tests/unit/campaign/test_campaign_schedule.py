"""The competition schedule: reproducible, the cited counts and days, venues of the
topology, phases and units modelled and marked; each unit's ODF sequence."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from replicator import odf
from replicator.campaign.programme import OLYMPIC_DAYS, PARALYMPIC_DAYS
from replicator.campaign.schedule import generate, load_schedule, render, schedule_path
from replicator.campaign.sequence import busiest_day, final_result, messages, plan
from replicator.topology import load_edition

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def schedule():
    return load_schedule(ROOT, "paris2024")


def test_checked_in_file_is_what_the_generator_makes() -> None:
    generated = render(generate(load_edition(ROOT, "paris2024")))
    assert schedule_path(ROOT, "paris2024").read_text(encoding="utf-8") == generated, \
        "run `replicator campaign schedule --write` and commit stacks/schedule/paris2024.json"


def test_878_medal_events_329_olympic_549_paralympic(schedule) -> None:
    assert schedule.medal_events() == 878
    assert schedule.medal_events("olympic") == 329
    assert schedule.medal_events("paralympic") == 549
    assert len({e.code for e in schedule.events}) == 878


def test_olympic_disciplines_are_the_odf_codes_of_the_facts(schedule) -> None:
    from tests.unit.topology.test_topology_paris2024 import DISCIPLINES

    olympic = {e.discipline for e in schedule.events if e.games == "olympic"}
    assert olympic == DISCIPLINES


def test_units_are_on_games_days_at_venues_of_the_topology(schedule) -> None:
    topology = load_edition(ROOT, "paris2024")
    venues = {v.code: set(v.disciplines) for v in topology.venues}
    windows = {"olympic": OLYMPIC_DAYS, "paralympic": PARALYMPIC_DAYS}
    for event in schedule.events:
        first, last = windows[event.games]
        for units in event.phases.values():
            for unit in units:
                assert first <= unit.day <= last, unit
                assert unit.venue in venues, unit
                if event.games == "olympic":
                    assert event.discipline in venues[unit.venue], unit
                assert len(unit.code) == odf.RSC_LENGTH
                assert odf.parse_rsc(unit.code)["discipline"] == event.discipline


def test_every_event_ends_with_one_final_unit_after_its_other_phases(schedule) -> None:
    for event in schedule.events:
        phases = list(event.phases)
        assert phases[-1] == "FNL-"
        finals = [u for u in event.phases["FNL-"]]
        assert len(finals) == 1 and finals[0].final
        earlier = [u for p in phases[:-1] for u in event.phases[p]]
        assert all(not u.final and u.day <= finals[0].day for u in earlier)
    codes = Counter(u.code for u in schedule.units())
    assert max(codes.values()) == 1


def test_the_modelled_parts_are_marked(schedule) -> None:
    assert "phases, units, start times and durations" in schedule.modelled
    assert schedule.sources["medal events, Games days, Olympic ODF codes"].endswith(
        "games-facts.md")
    assert schedule.games["olympic"]["first_day"] == "2024-07-26"
    assert schedule.games["paralympic"]["last_day"] == "2024-09-08"


def test_a_final_units_sequence_runs_from_schedule_to_medals(schedule) -> None:
    unit = next(u for u in schedule.units() if u.final and u.discipline == "SWM")
    steps = plan(unit, "race")
    kinds = [(s.document_type, s.status) for s in steps]
    assert kinds[:2] == [("DT_SCHEDULE_UPDATE", None), ("DT_RESULT", "START_LIST")]
    assert ("DT_CURRENT", "LIVE") in kinds and ("DT_RESULT", "LIVE") in kinds
    order = [kinds.index(("DT_RESULT", s)) for s in ("UNCONFIRMED", "UNOFFICIAL", "OFFICIAL")]
    assert order == sorted(order)
    assert {"DT_PHASE_RESULT", "DT_MEDALLISTS", "DT_MEDALLISTS_DISCIPLINE", "DT_MEDALS",
            "DT_RANKING"} <= {k for k, _ in kinds}
    assert [s.offset for s in steps] == sorted(s.offset for s in steps)
    # ODF merges repeated DT_RESULT to at most one per 0.25 s: never closer here.
    live = [s.offset for s in steps if s.document_type == "DT_RESULT"]
    assert min(b - a for a, b in zip(live, live[1:], strict=False)) >= 0.25


def test_messages_are_valid_odf_with_versions_above_the_floor(schedule) -> None:
    unit = next(u for u in schedule.units() if not u.final and u.discipline == "DIV")
    out = messages(unit, "judged", version_floor=5000)
    versions: dict[str, list[int]] = {}
    for _, xml in out:
        header = odf.parse(xml, full=True)
        versions.setdefault(header.identity, []).append(int(header["Version"]))
    assert all(v[0] > 5000 and v == sorted(v) and len(set(v)) == len(v)
               for v in versions.values())
    version, status = final_result(unit, "judged", version_floor=5000)
    assert status == "OFFICIAL"
    assert version == max(versions[next(i for i in versions if unit.code in i
                                         and "DT_RESULT|" in i)])


def test_the_busiest_day_and_its_peak_minute(schedule) -> None:
    busiest = busiest_day(schedule)
    assert date(2024, 7, 26) <= busiest.day <= date(2024, 9, 8)
    assert 0 < busiest.peak_minute_messages < busiest.messages
    assert busiest.peak_rate == pytest.approx(busiest.peak_minute_messages / 60)
