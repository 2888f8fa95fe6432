"""ODF (Olympic Data Feed) messages: header parsing and validation, identity, RSC,
and a builder of realistic messages for a venue's disciplines.

Standard library only: used inside the containers and, through
``replicator/odf``, by the host-side CLI, tests and benchmarks.

A message is UTF-8 XML whose root element ``OdfBody`` carries the header
attributes (ODF Foundation Principles 2024), then ``<Competition>``. Its
identity is CompetitionCode + DocumentCode + DocumentSubcode + DocumentType +
DocumentSubtype + Language + Source; a newer Version replaces an older one,
except for ``*_UPDATE`` types, which are kept as they come.
"""

from __future__ import annotations

import random
import re
import zlib
from datetime import datetime, timedelta, timezone
from xml.parsers import expat

MANDATORY = ("CompetitionCode", "DocumentCode", "DocumentType", "Version", "FeedFlag",
             "Date", "Time", "LogicalDate", "Source")
HEADER_ORDER = ("CompetitionCode", "DocumentCode", "DocumentSubcode", "DocumentType",
                "DocumentSubtype", "Version", "ResultStatus", "Language", "FeedFlag", "Date",
                "Time", "LogicalDate", "Source")
IDENTITY = ("CompetitionCode", "DocumentCode", "DocumentSubcode", "DocumentType",
            "DocumentSubtype", "Language", "Source")
RESULT_STATUSES = ("START_LIST", "LIVE", "INTERMEDIATE", "UNCONFIRMED", "UNOFFICIAL",
                   "OFFICIAL", "PARTIAL", "PROTESTED", "PROVISIONAL")
DOCUMENT_TYPES = ("DT_PARTIC", "DT_PARTIC_TEAMS", "DT_SCHEDULE", "DT_SCHEDULE_UPDATE",
                  "DT_RESULT", "DT_CURRENT", "DT_PLAY_BY_PLAY", "DT_PHASE_RESULT",
                  "DT_POOL_STANDING", "DT_BRACKETS", "DT_RANKING", "DT_STATS", "DT_MEDALLISTS",
                  "DT_MEDALLISTS_DISCIPLINE", "DT_MEDALS", "DT_RECORD", "DT_KA", "DT_LOCAL_ON",
                  "DT_LOCAL_OFF", "DT_GLOBAL_GM", "DT_GLOBAL_GN")
# Types whose DocumentCode is a full unit/phase RSC of 34 characters.
RSC_TYPES = frozenset({"DT_RESULT", "DT_CURRENT", "DT_PLAY_BY_PLAY"})
RSC_LENGTH = 34
SENT_AT_HEADER = "X-ODF-Sent-At"  # epoch seconds when the venue produced the message

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3])[0-5]\d[0-5]\d\d{3}$")


class OdfError(ValueError):
    """The message is not a valid ODF message; str() says why (for a 400 answer)."""


class Header:
    """The validated header of one message."""

    __slots__ = ("attrs", "identity", "version")

    def __init__(self, attrs: dict[str, str]):
        self.attrs = attrs
        self.version = int(attrs["Version"])
        self.identity = "|".join(attrs.get(name, "") for name in IDENTITY)

    def __getitem__(self, name: str) -> str:
        return self.attrs.get(name, "")

    @property
    def key(self) -> str:
        """identity + Version: what consumers deduplicate on."""
        return f"{self.identity}|{self.version}"

    @property
    def document_code(self) -> str:
        return self.attrs["DocumentCode"]

    @property
    def document_type(self) -> str:
        return self.attrs["DocumentType"]

    @property
    def is_update(self) -> bool:
        return self.attrs["DocumentType"].endswith("_UPDATE")

    def __repr__(self) -> str:
        return f"Header({self.key!r})"


class _Root(Exception):
    pass


def parse(data: bytes | str, *, full: bool = True) -> Header:
    """Parse and validate a message's header.

    ``full=True`` checks that the whole document is well-formed XML (what an
    intake must do); ``full=False`` reads only the root start tag (for messages
    already validated upstream). Raises OdfError.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or not data.strip():
        raise OdfError("empty body: expected an ODF XML message")
    parser = expat.ParserCreate()
    root: list = []

    def start(name, attrs):
        root.append((name, attrs))
        if not full:
            raise _Root
        parser.StartElementHandler = None

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except _Root:
        pass
    except expat.ExpatError as exc:
        raise OdfError(f"malformed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}, "
                       f"column {exc.offset}") from None
    if not root:
        raise OdfError("malformed XML: no root element")
    name, attrs = root[0]
    if name != "OdfBody":
        raise OdfError(f"root element is <{name}>, expected <OdfBody>")
    return Header(validate(attrs))


def validate(attrs: dict[str, str]) -> dict[str, str]:
    """Check header attributes; raises OdfError naming every problem found first."""
    missing = [name for name in MANDATORY if not attrs.get(name, "").strip()] if not all(
        map(attrs.get, MANDATORY)) else [name for name in MANDATORY if not attrs[name].strip()]
    if missing:
        raise OdfError("missing mandatory header attribute" + ("s" if len(missing) > 1 else "")
                       + ": " + ", ".join(missing))
    problems = []
    version = attrs["Version"]
    if not version.isdigit() or int(version) < 1:
        problems.append(f"Version must be a positive integer, got {version!r}")
    if attrs["FeedFlag"] not in ("P", "T"):
        problems.append(f"FeedFlag must be P or T, got {attrs['FeedFlag']!r}")
    for name in ("Date", "LogicalDate"):
        if not _DATE.match(attrs[name]):
            problems.append(f"{name} must be YYYY-MM-DD, got {attrs[name]!r}")
    if not _TIME.match(attrs["Time"]):
        problems.append(f"Time must be hhmmssfff, got {attrs['Time']!r}")
    if not attrs["DocumentType"].startswith("DT_"):
        problems.append(f"DocumentType must start with DT_, got {attrs['DocumentType']!r}")
    if attrs["DocumentType"] in RSC_TYPES and len(attrs["DocumentCode"]) != RSC_LENGTH:
        problems.append(f"DocumentCode of a {attrs['DocumentType']} must be a "
                        f"{RSC_LENGTH}-character RSC, got {len(attrs['DocumentCode'])} characters")
    status = attrs.get("ResultStatus")
    if status and status not in RESULT_STATUSES:
        problems.append(f"ResultStatus {status!r} is not one of {', '.join(RESULT_STATUSES)}")
    if problems:
        raise OdfError("invalid header: " + "; ".join(problems))
    return attrs


def decode_body(body: bytes) -> bytes:
    """A message body as sent on the wire: gzip (ODF transport) or plain XML."""
    if body[:2] == b"\x1f\x8b":
        try:
            return zlib.decompress(body, 47)
        except zlib.error as exc:
            raise OdfError(f"invalid gzip body: {exc}") from None
    return body


def gzip(data: bytes) -> bytes:
    return zlib.compress(data, 1, wbits=31)


# --------------------------------------------------------------------------- RSC


def rsc(discipline: str, gender: str = "", event: str = "", phase: str = "", unit: str = "") -> str:
    """Results System Code: discipline 3 + gender 1 + event 18 + phase 4 + unit 8, dash-padded.

    >>> rsc("SWM", "W", "100MFR", "FNL", "000100")
    'SWMW100MFR------------FNL-000100--'
    """
    return (discipline[:3].ljust(3, "-") + gender[:1].ljust(1, "-") + event[:18].ljust(18, "-")
            + phase[:4].ljust(4, "-") + unit[:8].ljust(8, "-"))


def parse_rsc(code: str) -> dict[str, str]:
    if len(code) != RSC_LENGTH:
        raise OdfError(f"an RSC has {RSC_LENGTH} characters, got {len(code)}")
    return {"discipline": code[0:3].rstrip("-"), "gender": code[3:4].rstrip("-"),
            "event": code[4:22].rstrip("-"), "phase": code[22:26].rstrip("-"),
            "unit": code[26:34].rstrip("-")}


# --------------------------------------------------------------------------- builder

PARIS = timezone(timedelta(hours=2), "CEST")

# ODF discipline codes (games-facts.md) with a few events each: (gender, event, label, kind).
# kind: "race" (times, 8 lanes), "score" (two competitors), "points" (judged, 10).
DISCIPLINES: dict[str, tuple[str, list[tuple[str, str, str]], str]] = {
    "ARC": ("Archery", [("M", "INDIVIDUAL", "Men's Individual"),
                        ("W", "INDIVIDUAL", "Women's Individual")], "score"),
    "ATH": ("Athletics", [("M", "100M", "Men's 100m"), ("W", "400M", "Women's 400m"),
                          ("M", "MARATHON", "Men's Marathon")], "race"),
    "BDM": ("Badminton", [("M", "SINGLES", "Men's Singles"), ("W", "DOUBLES", "Women's Doubles")],
            "score"),
    "BKB": ("Basketball", [("M", "TEAM5", "Men"), ("W", "TEAM5", "Women")], "score"),
    "BK3": ("3x3 Basketball", [("M", "TEAM3", "Men"), ("W", "TEAM3", "Women")], "score"),
    "BKG": ("Breaking", [("M", "BBOYS", "B-Boys"), ("W", "BGIRLS", "B-Girls")], "score"),
    "BMX": ("Cycling BMX", [("M", "PARK", "Men's Park"), ("W", "RACE", "Women's Race")], "points"),
    "BOX": ("Boxing", [("M", "51KG", "Men's 51kg"), ("W", "57KG", "Women's 57kg")], "score"),
    "CLB": ("Sport Climbing", [("M", "BOULDLEAD", "Men's Boulder & Lead"),
                               ("W", "SPEED", "Women's Speed")], "points"),
    "CRD": ("Cycling Road", [("M", "ROADRACE", "Men's Road Race"),
                             ("W", "ITT", "Women's Individual Time Trial")], "race"),
    "CSL": ("Canoe Slalom", [("M", "K1", "Men's Kayak Single"), ("W", "C1", "Women's Canoe Single")],
            "race"),
    "CSP": ("Canoe Sprint", [("M", "K1500M", "Men's Kayak Single 500m"),
                             ("W", "C21000M", "Women's Canoe Double 1000m")], "race"),
    "CTR": ("Cycling Track", [("M", "SPRINT", "Men's Sprint"), ("W", "KEIRIN", "Women's Keirin")],
            "race"),
    "DIV": ("Diving", [("M", "3MSPRNGBRD", "Men's 3m Springboard"),
                       ("W", "10MPLATFORM", "Women's 10m Platform")], "points"),
    "EQU": ("Equestrian", [("X", "JUMPINDV", "Jumping Individual"),
                           ("X", "DRESSAGEIND", "Dressage Individual")], "points"),
    "FBL": ("Football", [("M", "TEAM11", "Men"), ("W", "TEAM11", "Women")], "score"),
    "FEN": ("Fencing", [("M", "EPEEIND", "Men's Epee Individual"),
                        ("W", "FOILIND", "Women's Foil Individual")], "score"),
    "GAR": ("Artistic Gymnastics", [("M", "INDAA", "Men's All-Around"),
                                    ("W", "BEAM", "Women's Balance Beam")], "points"),
    "GLF": ("Golf", [("M", "INDIVIDUAL", "Men's Individual Stroke Play"),
                     ("W", "INDIVIDUAL", "Women's Individual Stroke Play")], "points"),
    "GRY": ("Rhythmic Gymnastics", [("W", "INDAA", "Individual All-Around")], "points"),
    "GTR": ("Trampoline Gymnastics", [("M", "INDIVIDUAL", "Men"), ("W", "INDIVIDUAL", "Women")],
            "points"),
    "HBL": ("Handball", [("M", "TEAM7", "Men"), ("W", "TEAM7", "Women")], "score"),
    "HOC": ("Hockey", [("M", "TEAM11", "Men"), ("W", "TEAM11", "Women")], "score"),
    "JUD": ("Judo", [("M", "73KG", "Men -73 kg"), ("W", "57KG", "Women -57 kg")], "score"),
    "MPN": ("Modern Pentathlon", [("M", "INDIVIDUAL", "Men's Individual"),
                                  ("W", "INDIVIDUAL", "Women's Individual")], "points"),
    "MTB": ("Cycling Mountain Bike", [("M", "XCO", "Men's Cross-country"),
                                      ("W", "XCO", "Women's Cross-country")], "race"),
    "OWS": ("Marathon Swimming", [("M", "10KM", "Men's 10km"), ("W", "10KM", "Women's 10km")],
            "race"),
    "ROW": ("Rowing", [("M", "1X", "Men's Single Sculls"), ("W", "8+", "Women's Eight")], "race"),
    "RU7": ("Rugby Sevens", [("M", "TEAM7", "Men"), ("W", "TEAM7", "Women")], "score"),
    "SAL": ("Sailing", [("M", "IQFOIL", "Men's Windsurfing"), ("X", "NACRA17", "Mixed Multihull")],
            "points"),
    "SHO": ("Shooting", [("M", "10MAR", "10m Air Rifle Men"), ("W", "25MP", "25m Pistol Women")],
            "points"),
    "SKB": ("Skateboarding", [("M", "STREET", "Men's Street"), ("W", "PARK", "Women's Park")],
            "points"),
    "SRF": ("Surfing", [("M", "SHORTBOARD", "Men"), ("W", "SHORTBOARD", "Women")], "points"),
    "SWA": ("Artistic Swimming", [("W", "TEAM", "Team"), ("X", "DUET", "Duet")], "points"),
    "SWM": ("Swimming", [("M", "100MFR", "Men's 100m Freestyle"),
                         ("W", "200MIM", "Women's 200m Individual Medley"),
                         ("W", "100MFR", "Women's 100m Freestyle")], "race"),
    "TEN": ("Tennis", [("M", "SINGLES", "Men's Singles"), ("W", "SINGLES", "Women's Singles")],
            "score"),
    "TKW": ("Taekwondo", [("M", "58KG", "Men -58kg"), ("W", "49KG", "Women -49kg")], "score"),
    "TRI": ("Triathlon", [("M", "INDIVIDUAL", "Men's Individual"), ("X", "RELAY", "Mixed Relay")],
            "race"),
    "TTE": ("Table Tennis", [("M", "SINGLES", "Men's Singles"), ("X", "DOUBLES", "Mixed Doubles")],
            "score"),
    "VBV": ("Beach Volleyball", [("M", "TEAM2", "Men"), ("W", "TEAM2", "Women")], "score"),
    "VVO": ("Volleyball", [("M", "TEAM6", "Men"), ("W", "TEAM6", "Women")], "score"),
    "WLF": ("Weightlifting", [("M", "61KG", "Men's 61kg"), ("W", "59KG", "Women's 59kg")], "points"),
    "WPO": ("Water Polo", [("M", "TEAM13", "Men"), ("W", "TEAM13", "Women")], "score"),
    "WRE": ("Wrestling", [("M", "FS65KG", "Men's Freestyle 65kg"),
                          ("W", "FS57KG", "Women's Freestyle 57kg")], "score"),
}

# Paris 2024 venue codes (this project's own) and their disciplines, as in
# stacks/topology/paris2024.yaml (the source of truth: app.json's `disciplines`
# wins for an OVR). Used to make schedules and venue traffic consistent.
VENUES: dict[str, tuple[str, ...]] = {
    "PCA": ("BDM", "GRY"), "BER": ("BKB", "GAR", "GTR"), "CBK": ("BK3",), "CBG": ("BKG",),
    "CBX": ("BMX",), "CSK": ("SKB",), "HDV": ("ATH",), "INV": ("ARC", "ATH", "CRD"),
    "PA3": ("CRD", "OWS", "TRI"), "GPA": ("FEN", "TKW"), "TRO": ("ATH", "CRD"), "ETS": ("VBV",),
    "CDM": ("JUD", "WRE"), "RGC": ("TEN", "BOX"), "RGL": ("TEN",), "PDP": ("FBL",),
    "SP1": ("VVO",), "SP4": ("TTE",), "SP6": ("HBL", "WLF"), "AQC": ("DIV", "SWA", "WPO"),
    "STA": ("ATH", "RU7"), "LDA": ("SWM", "WPO"), "YDM": ("HOC",), "LBC": ("CLB",),
    "NPA": ("BOX", "MPN"), "VFW": ("ROW", "CSP"), "VWW": ("CSL",), "VER": ("EQU", "MPN"),
    "ELH": ("MTB",), "GNA": ("GLF",), "SQV": ("CTR",), "SQB": ("BMX",), "CLI": ("CRD",),
    "CHX": ("SHO",), "MMA": ("SAL",), "THP": ("SRF",), "PMS": ("BKB", "HBL"), "MRS": ("FBL",),
    "LYS": ("FBL",), "BDX": ("FBL",), "NIC": ("FBL",), "GGS": ("FBL",), "NTS": ("FBL",),
}

NOCS = ("FRA", "USA", "CHN", "GBR", "AUS", "JPN", "ITA", "GER", "NED", "KOR", "CAN", "BRA", "ESP",
        "HUN", "NZL", "KEN", "JAM", "SWE", "POL", "RSA", "SUI", "NOR", "BEL", "IRL", "MEX", "ARG")
GIVEN = ("Léon", "Ariarne", "Summer", "Pan", "Kaylee", "Mollie", "David", "Nicolo", "Mary",
         "Luka", "Sifan", "Faith", "Noah", "Julien", "Zhanle", "Katie", "Yufei", "Gretchen",
         "Antoine", "Clarisse", "Teddy", "Romane", "Kristof", "Beatriz", "Armand", "Sara")
FAMILY = ("MARCHAND", "TITMUS", "McINTOSH", "ZHANLE", "McKEOWN", "O'CALLAGHAN", "POPOVICI",
          "MARTINENGHI", "HASSAN", "KIPYEGON", "LYLES", "GRAUX", "PAN", "LEDECKY", "ZHANG",
          "WALSH", "DUPLANTIS", "AGBEGNENOU", "RINER", "DICKO", "MILAK", "ROBERTS", "SMITH",
          "MULLER", "ROSSI", "GARCIA")

PHASES = (("HEAT", 3), ("SFNL", 2), ("FNL-", 1))
_MEDALS = ("ME_GOLD", "ME_SILVER", "ME_BRONZE")


def _q(value) -> str:
    text = str(value)
    if "&" in text or "<" in text or '"' in text or ">" in text:
        text = (text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
                .replace(">", "&gt;"))
    return text


def now_attrs(when: datetime | None = None) -> dict[str, str]:
    """Date, Time (hhmmssfff) and LogicalDate (the Games day ends at 03:00) in Paris time."""
    when = when or datetime.now(PARIS)
    logical = (when - timedelta(hours=3)).date() if when.hour < 3 else when.date()
    return {"Date": f"{when.year:04d}-{when.month:02d}-{when.day:02d}",
            "Time": f"{when.hour:02d}{when.minute:02d}{when.second:02d}"
                    f"{when.microsecond // 1000:03d}",
            "LogicalDate": logical.isoformat()}


def build(document_type: str, document_code: str, version: int, *, source: str,
          competition_code: str = "OG2024", result_status: str | None = None,
          document_subcode: str | None = None, document_subtype: str | None = None,
          language: str | None = None, feed_flag: str = "P", competition: str = "",
          when: datetime | None = None, gen: str | None = None) -> bytes:
    """One ODF message: header attributes in ODF order, then ``<Competition>``."""
    attrs = {"CompetitionCode": competition_code, "DocumentCode": document_code,
             "DocumentSubcode": document_subcode, "DocumentType": document_type,
             "DocumentSubtype": document_subtype, "Version": str(version),
             "ResultStatus": result_status, "Language": language, "FeedFlag": feed_flag,
             **now_attrs(when), "Source": source}
    header = " ".join(f'{name}="{_q(attrs[name])}"' for name in HEADER_ORDER
                      if attrs.get(name) is not None)
    gen = gen or f"{competition_code}-ODF-2024"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<OdfBody {header}>\n'
            f'<Competition Gen="{_q(gen)}" Sport="{_q(gen)}" Codes="{_q(gen)}">'
            f"{competition}</Competition>\n</OdfBody>\n").encode()


def set_header(message: bytes, **changes: str) -> bytes:
    """Return `message` with root attributes changed or added (for replays)."""
    text = message.decode("utf-8")
    m = re.search(r"<OdfBody\b[^>]*>", text)
    if m is None:
        raise OdfError("no <OdfBody> start tag")
    tag = m.group(0)
    for name, value in changes.items():
        new = f'{name}="{_q(value)}"'
        tag, n = re.subn(rf'\b{name}="[^"]*"', new, tag)
        if not n:
            tag = tag[:-1].rstrip("/") + f" {new}" + (">" if not tag.endswith("/>") else "/>")
    return (text[:m.start()] + tag + text[m.end():]).encode("utf-8")


class Competitor:
    __slots__ = ("birth", "code", "family", "gender", "given", "noc", "xml")

    def __init__(self, rng: random.Random, gender: str):
        self.code = f"{rng.randrange(1_000_000, 9_999_999)}"
        self.given = rng.choice(GIVEN)
        self.family = rng.choice(FAMILY)
        self.noc = rng.choice(NOCS)
        self.gender = gender if gender in ("M", "W") else rng.choice("MW")
        self.birth = f"{rng.randrange(1990, 2007)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        self.xml = (f'<Competitor Code="{self.code}" Type="A" Organisation="{self.noc}">'
                    f'<Composition><Athlete Code="{self.code}" Order="1">'
                    f'<Description GivenName="{_q(self.given)}" FamilyName="{_q(self.family)}" '
                    f'Gender="{self.gender}" Organisation="{self.noc}" BirthDate="{self.birth}"/>'
                    f"</Athlete></Composition></Competitor>")


class Unit:
    """One competition unit (a heat, a match, a final) and its competitors."""

    def __init__(self, discipline: str, gender: str, event: str, label: str, kind: str,
                 phase: str, number: int, venue: str, rng: random.Random):
        self.discipline, self.gender, self.event, self.label = discipline, gender, event, label
        self.kind, self.phase, self.venue = kind, phase, venue
        self.code = rsc(discipline, gender, event, phase, f"{number:04d}00")
        self.final = phase.startswith("FNL")
        size = 2 if kind == "score" else (8 if kind == "race" else 10)
        self.competitors = [Competitor(rng, gender) for _ in range(size)]
        self.rng = rng
        self.start = datetime.now(PARIS).replace(second=0, microsecond=0)

    def marks(self, progress: float) -> list[tuple[Competitor, str]]:
        """(competitor, result) best first; `progress` 0..1 moves live results."""
        rng = self.rng
        rows = []
        for i, c in enumerate(self.competitors):
            base = 47.0 + i * 0.21 + rng.random() * 0.4
            if self.kind == "race":
                mark = f"{base * (0.2 + 0.8 * progress):.2f}"
            elif self.kind == "score":
                mark = str(int(rng.random() * 5 * progress) + (1 if i == 0 else 0))
            else:
                mark = f"{(90 - i * 2.5 + rng.random()) * progress:.3f}"
            rows.append((c, mark))
        return rows

    def results_xml(self, progress: float) -> str:
        rows = self.marks(progress)
        kind = "TIME" if self.kind == "race" else "POINTS"
        return "".join(
            f'<Result Rank="{rank}" RankEqual="N" Result="{mark}" SortOrder="{rank}" '
            f'StartOrder="{start}" ResultType="{kind}">{c.xml}</Result>'
            for rank, (start, (c, mark)) in enumerate(enumerate(rows, 1), 1)
        )

    def description_xml(self) -> str:
        name = DISCIPLINES.get(self.discipline, (self.discipline,))[0]
        return (f'<ExtendedInfos><SportDescription DisciplineName="{_q(name)}" '
                f'EventName="{_q(self.label)}" Gender="{self.gender}"/>'
                f'<VenueDescription Venue="{self.venue}"/>'
                f'<UnitDateTime StartDate="{self.start.isoformat()}"/></ExtendedInfos>')

    def schedule_xml(self, status: str) -> str:
        end = self.start + timedelta(minutes=30)
        return (f'<Unit Code="{self.code}" PhaseType="{3 if self.final else 1}" '
                f'ScheduleStatus="{status}" StartDate="{self.start.isoformat()}" '
                f'EndDate="{end.isoformat()}" Medal="{"1" if self.final else "0"}" '
                f'Venue="{self.venue}"><ItemName Language="ENG" '
                f'Value="{_q(self.label)} {self.phase.rstrip("-")}"/></Unit>')

    def medallists_xml(self) -> str:
        return "".join(f'<Medal Type="{medal}">{c.xml}</Medal>'
                       for medal, (c, _) in zip(_MEDALS, self.marks(1.0), strict=False))


# One unit's life: (DocumentType, ResultStatus, live progress).
LIFECYCLE = (
    ("DT_SCHEDULE_UPDATE", None, 0.0), ("DT_RESULT", "START_LIST", 0.0),
    ("DT_CURRENT", "LIVE", 0.25), ("DT_RESULT", "LIVE", 0.25),
    ("DT_CURRENT", "LIVE", 0.5), ("DT_RESULT", "LIVE", 0.5),
    ("DT_CURRENT", "LIVE", 0.75), ("DT_RESULT", "LIVE", 0.75),
    ("DT_RESULT", "UNCONFIRMED", 1.0), ("DT_PHASE_RESULT", "UNCONFIRMED", 1.0),
    ("DT_RESULT", "UNOFFICIAL", 1.0), ("DT_RESULT", "OFFICIAL", 1.0),
    ("DT_PHASE_RESULT", "OFFICIAL", 1.0),
)
FINAL_EXTRA = (("DT_MEDALLISTS", "OFFICIAL", 1.0), ("DT_MEDALS", None, 1.0),
               ("DT_RANKING", "OFFICIAL", 1.0))


class VenueFeed:
    """Endless, realistic ODF traffic of one venue: units of its disciplines go
    through their lifecycle (schedule update, start list, live, unconfirmed,
    unofficial, official, medals), interleaved. Versions grow per identity and
    can be saved and restored (``versions``) so a restart never reuses one."""

    def __init__(self, venue: str, disciplines: list[str], *, competition_code: str = "OG2024",
                 source: str | None = None, versions: dict[str, int] | None = None,
                 seed: int | None = None, language: str = "ENG", feed_flag: str = "P",
                 active_units: int = 4):
        self.venue = venue.upper()
        self.disciplines = [d for d in disciplines if d in DISCIPLINES] or ["ATH"]
        self.competition_code = competition_code
        self.source = source or f"OVR{self.venue}"
        self.versions: dict[str, int] = versions if versions is not None else {}
        self.produced = 0
        self.last_identity = self.last_document_code = ""
        self.language, self.feed_flag = language, feed_flag
        self.rng = random.Random(seed if seed is not None else zlib.crc32(self.venue.encode()))
        self._units = self._all_units()
        self._next_unit = 0
        self._active: list[list] = []  # [unit, step index]
        self.active_units = active_units

    def _all_units(self) -> list[Unit]:
        units = []
        for disc in self.disciplines:
            _, events, kind = DISCIPLINES[disc]
            for gender, event, label in events:
                for phase, count in PHASES:
                    for n in range(1, count + 1):
                        units.append(Unit(disc, gender, event, label, kind, phase, n, self.venue,
                                          self.rng))
        return units

    def next_version(self, identity_parts: tuple) -> int:
        identity = "|".join(identity_parts)
        version = self.versions.get(identity, 0) + 1
        self.versions[identity] = version
        self.produced += 1
        return version

    def message(self, document_type: str, document_code: str, status: str | None,
                competition: str, subtype: str | None = None) -> bytes:
        ident = (self.competition_code, document_code, "", document_type, subtype or "",
                 self.language, self.source)
        self.last_identity = "|".join(ident)
        self.last_document_code = document_code
        return build(document_type, document_code, self.next_version(ident),
                     source=self.source, competition_code=self.competition_code,
                     result_status=status, document_subtype=subtype, language=self.language,
                     feed_flag=self.feed_flag, competition=competition)

    def unit_message(self, unit: Unit, document_type: str, status: str | None,
                     progress: float) -> bytes:
        if document_type == "DT_SCHEDULE_UPDATE":
            return self.message(document_type, unit.code, None,
                                unit.schedule_xml("GETTING_READY" if progress else "SCHEDULED"))
        if document_type == "DT_MEDALLISTS":
            return self.message(document_type, rsc(unit.discipline, unit.gender, unit.event),
                                status, unit.description_xml() + unit.medallists_xml())
        if document_type == "DT_MEDALS":
            standings = "".join(
                f'<MedalLine Rank="{i}" Organisation="{c.noc}" Gold="{int(i == 1)}" '
                f'Silver="{int(i == 2)}" Bronze="{int(i == 3)}" Total="1"/>'
                for i, (c, _) in enumerate(unit.marks(1.0)[:3], 1))
            return self.message(document_type, rsc(unit.discipline), None,
                                f"<MedalStandings>{standings}</MedalStandings>")
        if document_type == "DT_RANKING":
            return self.message(document_type, rsc(unit.discipline, unit.gender, unit.event),
                                status, unit.description_xml() + unit.results_xml(1.0))
        if document_type == "DT_PHASE_RESULT":
            code = rsc(unit.discipline, unit.gender, unit.event, unit.phase)
            return self.message(document_type, code, status,
                                unit.description_xml() + unit.results_xml(progress))
        return self.message(document_type, unit.code, status,
                            unit.description_xml() + unit.results_xml(progress))

    def next(self, document_types: list[str] | None = None) -> bytes:
        """The venue's next message (only of `document_types`, when given)."""
        wanted = set(document_types) if document_types else None
        if wanted and wanted.isdisjoint(t for t, _, _ in LIFECYCLE + FINAL_EXTRA):
            return self._standalone(sorted(wanted))
        for _ in range(10_000):
            while len(self._active) < self.active_units:
                unit = self._units[self._next_unit % len(self._units)]
                self._next_unit += 1
                self._active.append([unit, 0])
            slot = self._active[self.rng.randrange(len(self._active))]
            unit, step = slot
            steps = LIFECYCLE + (FINAL_EXTRA if unit.final else ())
            document_type, status, progress = steps[step]
            slot[1] += 1
            if slot[1] >= len(steps):
                self._active.remove(slot)
            if wanted is None or document_type in wanted:
                return self.unit_message(unit, document_type, status, progress)
        raise OdfError(f"no message of types {sorted(wanted or ())} in a unit's lifecycle")

    def _standalone(self, types: list[str]) -> bytes:
        document_type = self.rng.choice(types)
        disc = self.rng.choice(self.disciplines)
        if document_type == "DT_KA":
            return self.message("DT_KA", rsc(disc), None, "")
        unit = self.rng.choice(self._units)
        return self.unit_message(unit, document_type, None, 1.0)


def result_message(document_code: str, version: int, *, status: str = "LIVE",
                   source: str = "OVRAQC", competition_code: str = "OG2024",
                   seed: int = 0, **attrs) -> bytes:
    """A single DT_RESULT for `document_code` (an RSC): handy in tests and tools."""
    parts = parse_rsc(document_code)
    disc = parts["discipline"]
    _, events, kind = DISCIPLINES.get(disc, ("", [("M", parts["event"], parts["event"])], "race"))
    unit = Unit(disc, parts["gender"] or "M", parts["event"], events[0][2], kind,
                parts["phase"] or "FNL-", 1, attrs.pop("venue", "AQC"), random.Random(seed))
    unit.code = document_code
    return build("DT_RESULT", document_code, version, source=source,
                 competition_code=competition_code, result_status=status,
                 language=attrs.pop("language", "ENG"),
                 competition=unit.description_xml() + unit.results_xml(
                     1.0 if status in ("OFFICIAL", "UNOFFICIAL", "UNCONFIRMED") else 0.5),
                 **attrs)
