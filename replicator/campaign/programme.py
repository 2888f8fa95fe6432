"""The Paris 2024 competition programme: the facts the schedule is generated from.

Cited (../shared/notes/games-facts.md, "ODS" and "ODF" sections): 878 medal
events, 329 Olympic and 549 Paralympic; the Olympic ODF discipline codes; the
Olympic days 26 Jul-11 Aug 2024 and the Paralympic days 28 Aug-8 Sep 2024.

Modelled (the schedule file says so): the split of those totals per discipline
(from the published Paris 2024 event programme, not in the notes), the
Paralympic discipline codes (the notes list none; these are the project's own
three-letter codes), the days each discipline competes, the venue of each
Paralympic discipline (a venue of the topology), and the phases and units of
each event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

OLYMPIC_EVENTS = 329  # games-facts.md: "878 events (329 Olympic + 549 Paralympic)"
PARALYMPIC_EVENTS = 549
OLYMPIC_DAYS = (date(2024, 7, 26), date(2024, 8, 11))  # games-facts.md / issue #13
PARALYMPIC_DAYS = (date(2024, 8, 28), date(2024, 9, 8))


@dataclass(frozen=True)
class Discipline:
    code: str
    name: str
    games: str  # olympic | paralympic
    events: int
    kind: str  # race | duel | team | judged: decides the phases (see schedule.PHASES)
    days: tuple[int, int]  # first and last competition day, 0 = the Games' first day
    venues: tuple[str, ...] = ()  # Paralympic only; Olympic venues come from the topology


# Olympic: ODF codes of games-facts.md; events per discipline (modelled split of 329).
OLYMPIC: tuple[Discipline, ...] = (
    Discipline("ARC", "Archery", "olympic", 5, "duel", (2, 8)),
    Discipline("ATH", "Athletics", "olympic", 48, "race", (6, 16)),
    Discipline("BDM", "Badminton", "olympic", 5, "duel", (1, 9)),
    Discipline("BKB", "Basketball", "olympic", 2, "team", (1, 16)),
    Discipline("BK3", "3x3 Basketball", "olympic", 2, "team", (4, 9)),
    Discipline("BKG", "Breaking", "olympic", 2, "duel", (14, 15)),
    Discipline("BMX", "Cycling BMX", "olympic", 4, "judged", (4, 7)),
    Discipline("BOX", "Boxing", "olympic", 13, "duel", (1, 15)),
    Discipline("CLB", "Sport Climbing", "olympic", 4, "judged", (9, 14)),
    Discipline("CRD", "Cycling Road", "olympic", 4, "race", (1, 10)),
    Discipline("CSL", "Canoe Slalom", "olympic", 6, "race", (1, 9)),
    Discipline("CSP", "Canoe Sprint", "olympic", 10, "race", (10, 15)),
    Discipline("CTR", "Cycling Track", "olympic", 12, "race", (9, 15)),
    Discipline("DIV", "Diving", "olympic", 8, "judged", (1, 15)),
    Discipline("EQU", "Equestrian", "olympic", 6, "judged", (1, 10)),
    Discipline("FBL", "Football", "olympic", 2, "team", (0, 16)),
    Discipline("FEN", "Fencing", "olympic", 12, "duel", (1, 8)),
    Discipline("GAR", "Artistic Gymnastics", "olympic", 14, "judged", (1, 9)),
    Discipline("GLF", "Golf", "olympic", 2, "judged", (5, 14)),
    Discipline("GRY", "Rhythmic Gymnastics", "olympic", 2, "judged", (12, 14)),
    Discipline("GTR", "Trampoline Gymnastics", "olympic", 2, "judged", (6, 6)),
    Discipline("HBL", "Handball", "olympic", 2, "team", (1, 15)),
    Discipline("HOC", "Hockey", "olympic", 2, "team", (1, 13)),
    Discipline("JUD", "Judo", "olympic", 15, "duel", (1, 8)),
    Discipline("MPN", "Modern Pentathlon", "olympic", 2, "judged", (12, 15)),
    Discipline("MTB", "Cycling Mountain Bike", "olympic", 2, "race", (2, 3)),
    Discipline("OWS", "Marathon Swimming", "olympic", 2, "race", (12, 13)),
    Discipline("ROW", "Rowing", "olympic", 14, "race", (1, 8)),
    Discipline("RU7", "Rugby Sevens", "olympic", 2, "team", (0, 8)),
    Discipline("SAL", "Sailing", "olympic", 10, "judged", (2, 13)),
    Discipline("SHO", "Shooting", "olympic", 15, "judged", (1, 10)),
    Discipline("SKB", "Skateboarding", "olympic", 4, "judged", (1, 12)),
    Discipline("SRF", "Surfing", "olympic", 2, "duel", (1, 9)),
    Discipline("SWA", "Artistic Swimming", "olympic", 2, "judged", (9, 15)),
    Discipline("SWM", "Swimming", "olympic", 35, "race", (1, 9)),
    Discipline("TEN", "Tennis", "olympic", 5, "duel", (1, 8)),
    Discipline("TKW", "Taekwondo", "olympic", 8, "duel", (11, 14)),
    Discipline("TRI", "Triathlon", "olympic", 3, "race", (4, 9)),
    Discipline("TTE", "Table Tennis", "olympic", 5, "duel", (1, 14)),
    Discipline("VBV", "Beach Volleyball", "olympic", 2, "team", (1, 15)),
    Discipline("VVO", "Volleyball", "olympic", 2, "team", (1, 16)),
    Discipline("WLF", "Weightlifting", "olympic", 10, "judged", (11, 15)),
    Discipline("WPO", "Water Polo", "olympic", 2, "team", (1, 15)),
    Discipline("WRE", "Wrestling", "olympic", 18, "duel", (9, 15)),
)

# Paralympic: the project's own codes (modelled), events per sport (modelled split
# of 549), each at a venue of the topology.
PARALYMPIC: tuple[Discipline, ...] = (
    Discipline("PAR", "Para Archery", "paralympic", 9, "duel", (1, 7), ("INV",)),
    Discipline("PAT", "Para Athletics", "paralympic", 164, "race", (2, 11), ("STA",)),
    Discipline("PBD", "Para Badminton", "paralympic", 16, "duel", (1, 5), ("PCA",)),
    Discipline("BOC", "Boccia", "paralympic", 11, "duel", (1, 7), ("NPA",)),
    Discipline("PCN", "Para Canoe", "paralympic", 10, "race", (8, 10), ("VFW",)),
    Discipline("PCT", "Para Cycling Track", "paralympic", 18, "race", (1, 4), ("SQV",)),
    Discipline("PCR", "Para Cycling Road", "paralympic", 33, "race", (6, 9), ("CLI",)),
    Discipline("PEQ", "Para Equestrian", "paralympic", 11, "judged", (5, 9), ("VER",)),
    Discipline("BF5", "Blind Football", "paralympic", 1, "team", (3, 10), ("ETS",)),
    Discipline("GBL", "Goalball", "paralympic", 2, "team", (1, 9), ("SP6",)),
    Discipline("PJU", "Para Judo", "paralympic", 16, "duel", (8, 10), ("CDM",)),
    Discipline("PWL", "Para Powerlifting", "paralympic", 20, "judged", (6, 11), ("PCA",)),
    Discipline("PRO", "Para Rowing", "paralympic", 5, "race", (2, 4), ("VFW",)),
    Discipline("PSH", "Para Shooting", "paralympic", 13, "judged", (2, 8), ("CHX",)),
    Discipline("PSV", "Sitting Volleyball", "paralympic", 2, "team", (1, 10), ("NPA",)),
    Discipline("PSW", "Para Swimming", "paralympic", 141, "race", (1, 10), ("LDA",)),
    Discipline("PTT", "Para Table Tennis", "paralympic", 31, "duel", (1, 10), ("SP4",)),
    Discipline("PTK", "Para Taekwondo", "paralympic", 10, "duel", (1, 3), ("GPA",)),
    Discipline("PTR", "Para Triathlon", "paralympic", 11, "race", (4, 5), ("PA3",)),
    Discipline("PWB", "Wheelchair Basketball", "paralympic", 2, "team", (1, 11), ("BER",)),
    Discipline("PWF", "Wheelchair Fencing", "paralympic", 16, "duel", (5, 10), ("GPA",)),
    Discipline("PWR", "Wheelchair Rugby", "paralympic", 1, "team", (1, 5), ("CDM",)),
    Discipline("PWT", "Wheelchair Tennis", "paralympic", 6, "duel", (2, 10), ("RGC",)),
)

GAMES = {"olympic": (OLYMPIC, OLYMPIC_DAYS, OLYMPIC_EVENTS),
         "paralympic": (PARALYMPIC, PARALYMPIC_DAYS, PARALYMPIC_EVENTS)}
