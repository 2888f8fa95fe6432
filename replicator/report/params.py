"""The inputs of the sustainability report: defaults, their sources, and overrides.

Every number the report computes comes from one of three places: the topology
(server counts, cited or modelled there), the live replica (measured), or a
parameter defined here. Each parameter has a default taken from a public
source (the project's games-facts notes, "Sustainability inputs") or is
labelled an assumption, and can be overridden from a YAML or TOML file
(``--params FILE``) or on the command line (``--set key=value``).

Keys are dotted: ``server.idle_w``, ``production.pue``,
``grid_intensity.FR``. A file holds the same keys nested::

    grid_intensity: {FR: 51, ES: 137}
    server: {idle_w: 118, max_w: 365}
    production: {utilisation: 0.4}

An unknown key or an invalid value is an `InputError` that names the key,
where it was set (the file and line, or ``--set``) and the fix.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from replicator.errors import InputError

# --------------------------------------------------------------------------- sources

GAMES_FACTS = "the project's games-facts notes, section \"Sustainability inputs\""


@dataclass(frozen=True)
class ParamSource:
    """A public source of a default value."""

    key: str
    title: str
    publisher: str
    url: str | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "publisher": self.publisher,
                "date": None, "url": self.url, "note": self.note}


PARAM_SOURCES: dict[str, ParamSource] = {s.key: s for s in (
    ParamSource(
        "ccf-methodology",
        "Cloud Carbon Footprint methodology: average W = min + utilisation x (max - min); "
        "kWh = W x hours x PUE; CO2e = kWh x grid factor (+ embodied); PUE 1.1 to 1.2; "
        "grid emission factors (France: EEA)",
        "Cloud Carbon Footprint (Thoughtworks)",
        url="https://www.cloudcarbonfootprint.org/docs/methodology",
        note=f"as recorded in {GAMES_FACTS}",
    ),
    ParamSource(
        "grid-es-2023",
        "Carbon intensity of the Spanish electricity grid, 2023: about 137 gCO2e/kWh "
        "(279 on a 2019 life-cycle basis, Boavizta)",
        "games-facts notes (Sustainability inputs)",
        note=f"as recorded in {GAMES_FACTS}",
    ),
    ParamSource(
        "boavizta-server",
        "Embodied emissions of one server: about 3,660 kgCO2e (Boavizta factors)",
        "Boavizta",
        note=f"as recorded in {GAMES_FACTS}",
    ),
    ParamSource(
        "lbnl-server-power",
        "Server power: about 118 W idle single-socket, 365 W dual-socket "
        "(United States Data Center Energy Usage Report; indicative)",
        "Lawrence Berkeley National Laboratory (LBNL)",
        note=f"as recorded in {GAMES_FACTS}",
    ),
)}

# --------------------------------------------------------------------------- specs

Origin = Literal["source", "assumption", "measured", "modelled"]


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its default, unit, meaning and where the default comes from."""

    key: str
    default: float | str | None
    unit: str
    description: str
    origin: Origin
    source: str | None = None  # a key of PARAM_SOURCES when origin == "source"
    note: str = ""
    # What a default of None means (the value is measured or derived at run time).
    when_unset: str = ""


SPECS: tuple[ParamSpec, ...] = (
    ParamSpec("grid_intensity.FR", 51, "gCO2e/kWh",
              "Carbon intensity of the French electricity grid", "source", "ccf-methodology",
              note="EEA factor used by Cloud Carbon Footprint"),
    ParamSpec("grid_intensity.ES", 137, "gCO2e/kWh",
              "Carbon intensity of the Spanish electricity grid", "source", "grid-es-2023",
              note="2023 value; 279 on a 2019 life-cycle basis (Boavizta)"),
    ParamSpec("grid_intensity.PF", 51, "gCO2e/kWh",
              "Carbon intensity of the French Polynesia grid (Teahupo'o venue)", "assumption",
              note="no public figure in games-facts.md: taken equal to France. French "
                   "Polynesia's grid relies largely on oil, so this likely understates it; "
                   "override with --set grid_intensity.PF=<g/kWh>"),
    ParamSpec("server.idle_w", 118, "W",
              "Power of one server at 0% utilisation", "source", "lbnl-server-power",
              note="LBNL's single-socket idle figure, indicative"),
    ParamSpec("server.max_w", 365, "W",
              "Power of one server at 100% utilisation", "source", "lbnl-server-power",
              note="LBNL's dual-socket figure, used as the maximum; indicative"),
    ParamSpec("server.embodied_kgco2e", 3660, "kgCO2e/server",
              "Embodied (manufacturing) emissions of one server", "source", "boavizta-server"),
    ParamSpec("server.lifetime_years", 4, "years",
              "Years over which a server's embodied emissions are spread", "assumption",
              note="typical server refresh cycle"),
    ParamSpec("production.pue", 1.2, "ratio",
              "Power usage effectiveness of the production data centres", "source",
              "ccf-methodology", note="upper end of the 1.1-1.2 range, for production cloud"),
    ParamSpec("production.utilisation", 0.5, "fraction (0-1)",
              "Average CPU utilisation of a production server over the year", "assumption",
              note="no public figure; mid-point of the power curve"),
    ParamSpec("production.hours_per_year", 8760, "h/year",
              "Hours a production server is powered in a year", "assumption",
              note="365 x 24: powered all year"),
    ParamSpec("replica.pue", 1.2, "ratio",
              "Power usage effectiveness of the room hosting the replica", "source",
              "ccf-methodology", note="upper end of the 1.1-1.2 range"),
    ParamSpec("replica.utilisation", None, "fraction (0-1)",
              "Average CPU utilisation of a replica host", "measured",
              when_unset="measured: the CPU % of the replica's containers summed over each "
                         "host, divided by 100 x its CPUs (Docker stats API)"),
    ParamSpec("replica.hours_per_year", 8760, "h/year",
              "Hours a replica host is powered in a year", "assumption",
              note="365 x 24: the replica runs all year"),
    ParamSpec("replica.country", None, "ISO 3166 code",
              "Country whose grid powers the replica hosts", "assumption",
              when_unset="the country of the ITL site's location in the topology "
                         "(Madrid: ES): the replica runs at the Integration Testing Lab"),
)
SPEC_BY_KEY: dict[str, ParamSpec] = {s.key: s for s in SPECS}

_COUNTRY = re.compile(r"^[A-Z]{2}$")
GRID_PREFIX = "grid_intensity."


def spec_for(key: str) -> ParamSpec | None:
    """The spec of `key`; any two-letter country under grid_intensity is allowed."""
    spec = SPEC_BY_KEY.get(key)
    if spec is None and key.startswith(GRID_PREFIX) and _COUNTRY.match(key[len(GRID_PREFIX):]):
        country = key[len(GRID_PREFIX):]
        spec = ParamSpec(key, None, "gCO2e/kWh", f"Carbon intensity of the {country} grid",
                         "assumption")
    return spec


# --------------------------------------------------------------------------- model


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Pue = Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)]
Hours = Annotated[float, Field(gt=0, le=8784, allow_inf_nan=False)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class ServerParams(_Model):
    idle_w: NonNegative
    max_w: Positive
    embodied_kgco2e: NonNegative
    lifetime_years: Positive

    @model_validator(mode="after")
    def _max_above_idle(self) -> ServerParams:
        if self.max_w < self.idle_w:
            raise ValueError(f"server.max_w ({self.max_w:g} W) is below server.idle_w "
                             f"({self.idle_w:g} W)")
        return self


class ProductionParams(_Model):
    pue: Pue
    utilisation: Fraction
    hours_per_year: Hours


class ReplicaParams(_Model):
    pue: Pue
    utilisation: Fraction | None = None
    hours_per_year: Hours
    country: Country | None = None


class ReportParams(_Model):
    """The validated parameters (nested like the file form)."""

    grid_intensity: dict[Country, NonNegative]
    server: ServerParams
    production: ProductionParams
    replica: ReplicaParams

    def get(self, key: str) -> Any:
        node: Any = self
        for part in key.split("."):
            node = node[part] if isinstance(node, Mapping) else getattr(node, part)
        return node


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Setting:
    """Where a value came from: the default, a file (and line) or --set."""

    kind: Literal["default", "file", "set"]
    file: Path | None = None
    line: int | None = None

    def describe(self) -> str:
        if self.kind == "file":
            return f"{self.file}" + (f":{self.line}" if self.line else "")
        return "--set" if self.kind == "set" else "default"


@dataclass
class ResolvedParams:
    """The parameters and, for each key, where its value was set."""

    values: ReportParams
    settings: dict[str, Setting] = field(default_factory=dict)

    def keys(self) -> list[str]:
        grid = sorted(GRID_PREFIX + c for c in self.values.grid_intensity)
        others = [s.key for s in SPECS if not s.key.startswith(GRID_PREFIX)]
        return grid + others

    def setting(self, key: str) -> Setting:
        return self.settings.get(key, Setting("default"))

    def rows(self) -> list[dict[str, Any]]:
        """One row per parameter for the report's table of inputs."""
        rows = []
        for key in self.keys():
            spec = spec_for(key)
            assert spec is not None
            setting = self.setting(key)
            value = self.values.get(key)
            if setting.kind != "default":
                origin = "set by user"
                provenance = f"set in {setting.describe()}"
                if spec.origin == "source" and value == spec.default:
                    provenance += " (equal to the sourced default)"
            elif value is None:
                origin, provenance = spec.origin, spec.when_unset
            else:
                origin = spec.origin
                provenance = spec.note
            rows.append({
                "key": key, "value": value, "unit": spec.unit, "description": spec.description,
                "origin": origin,
                "source": spec.source if setting.kind == "default" else None,
                "note": provenance,
            })
        return rows

    def used_sources(self) -> list[ParamSource]:
        # The method itself is Cloud Carbon Footprint's, whatever the values.
        keys = {r["source"] for r in self.rows() if r["source"]} | {"ccf-methodology"}
        return [s for k, s in PARAM_SOURCES.items() if k in keys]


def known_keys() -> list[str]:
    return [s.key for s in SPECS]


def _fix_for_unknown(key: str) -> str:
    close = difflib.get_close_matches(key, known_keys(), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"{hint}known parameters: {', '.join(known_keys())} "
            f"(and grid_intensity.<COUNTRY> for any two-letter country code)")


def defaults_tree() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for spec in SPECS:
        _put(tree, spec.key, spec.default)
    return tree


def _put(tree: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _flatten(document: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any, Any]]:
    """(dotted key, value, the mapping holding it) for every leaf of `document`."""
    for raw_key, value in document.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, Mapping):
            if not value:
                yield key, value, document
            yield from _flatten(value, key + ".")
        else:
            yield key, value, document


def _line_of(mapping: Any, key: str) -> int | None:
    lc = getattr(mapping, "lc", None)
    if lc is None:
        return None
    try:
        return int(lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return None


def read_params_file(path: Path) -> list[tuple[str, Any, Setting]]:
    """The (key, value, where) overrides in a YAML or TOML parameters file."""
    fix_format = ("write the parameters as a YAML (.yaml/.yml) or TOML (.toml) mapping, "
                  "e.g. `server: {idle_w: 118}`; see docs/report.md")
    if not path.is_file():
        raise InputError("the parameters file does not exist", file=path,
                         fix="check the path given to --params")
    from replicator.inputs import parse_yaml, read_text

    text = read_text(path, what="parameters file")  # size, encoding, control characters
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            document: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"invalid TOML: {exc}", file=path, fix=fix_format) from None
    elif suffix in (".yaml", ".yml"):
        document = parse_yaml(text, path)  # depth, aliases, keys, with lines
        if document is None:
            document = {}
    else:
        raise InputError(f"unknown parameters file type {suffix or '(none)'!r}", file=path,
                         fix=fix_format)
    if not isinstance(document, Mapping):
        raise InputError("a parameters file is a mapping of parameter names to values",
                         file=path, line=1, fix=fix_format)
    overrides = []
    for key, value, holder in _flatten(document):
        setting = Setting("file", path, _line_of(holder, key.rsplit(".", 1)[-1]))
        if spec_for(key) is None:
            raise InputError(f"unknown parameter {key!r}", file=path, path=key,
                             line=setting.line, fix=_fix_for_unknown(key))
        overrides.append((key, _plain(value), setting))
    return overrides


def _plain(value: Any) -> Any:
    """Scalar subclasses (from a YAML loader) as plain Python values."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


MAX_SET_VALUE = 200  # characters: one number or word


def parse_set(item: str) -> tuple[str, Any, Setting]:
    """One ``--set key=value``; the value is read as a YAML scalar (1.2, null, ES)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"--set {item!r} is not key=value",
                         fix="write it like --set production.pue=1.1")
    if spec_for(key) is None:
        raise InputError(f"unknown parameter {key!r} (in --set {item})",
                         fix=_fix_for_unknown(key))
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if len(raw) > MAX_SET_VALUE:
        raise InputError(f"--set {key}: the value is {len(raw)} characters long",
                         fix=f"give one number or word, e.g. --set {key}=1.2")
    try:
        value = YAML(typ="safe").load(raw) if raw.strip() else None
    except (YAMLError, RecursionError):  # not YAML (or absurdly nested): take it as text
        value = raw
    if isinstance(value, (Mapping, list)):
        raise InputError(f"--set {key}: {raw!r} is not a single value",
                         fix=f"give one number or word, e.g. --set {key}=1.2")
    return key, value, Setting("set")


def resolve_params(params_file: Path | None = None, sets: Iterable[str] = ()) -> ResolvedParams:
    """The defaults, then the file's values, then each --set, validated."""
    tree = defaults_tree()
    settings: dict[str, Setting] = {}
    overrides = read_params_file(Path(params_file)) if params_file is not None else []
    overrides += [parse_set(item) for item in sets]
    for key, value, setting in overrides:
        _put(tree, key, value)
        settings[key] = setting
    try:
        values = ReportParams.model_validate(tree)
    except ValidationError as exc:
        raise _invalid(exc, tree, settings) from None
    return ResolvedParams(values, settings)


def _invalid(exc: ValidationError, tree: dict[str, Any], settings: dict[str, Setting]) -> InputError:
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    key = ".".join(loc)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "value_error" and key == "server":
        # The cross-field check (max below idle): name both keys.
        involved = ["server.max_w", "server.idle_w"]
        key = next((k for k in involved if k in settings), involved[0])
        setting = settings.get(key, Setting("default"))
        where = " (set in --set)" if setting.kind == "set" else ""
        return InputError(f"invalid parameters: {message}{where}", file=setting.file,
                          line=setting.line, path=key,
                          fix="make server.max_w at least server.idle_w")
    spec = spec_for(key)
    setting = settings.get(key, Setting("default"))
    where = " (in --set)" if setting.kind == "set" else ""
    value = first.get("input")
    if first["type"] == "missing" or spec is None:
        return InputError(f"invalid parameters at {key!r}: {message}", file=setting.file,
                          fix=_fix_for_unknown(key))
    return InputError(
        f"invalid value {value!r} for parameter {key!r}{where}: {message}",
        file=setting.file, line=setting.line, path=key if setting.kind == "file" else None,
        fix=f"set {key} to {_expected(key)}, in {spec.unit} ({spec.description})",
    )


def _expected(key: str) -> str:
    if key.startswith(GRID_PREFIX):
        return "a number >= 0"
    return {
        "idle_w": "a number >= 0", "max_w": "a number > 0",
        "embodied_kgco2e": "a number >= 0", "lifetime_years": "a number > 0",
        "pue": "a number from 1 to 5", "utilisation": "a number from 0 to 1",
        "hours_per_year": "a number of hours above 0 and at most 8784",
        "country": "a two-letter country code such as ES (or null: the ITL's country)",
    }.get(key.rsplit(".", 1)[-1], "a valid value")
