"""The report's calculations: pure functions from inputs to figures.

Nothing here reads files or talks to Docker: the topology, the measurement
and the parameters come in, and every computed figure goes out as a
`Computed` carrying its value, its unit and the formula with the numbers it
came from, so that the report can show how each one was obtained.

Power model (Cloud Carbon Footprint's method, per server)::

    average W  = idle W + utilisation x (max W - idle W)
    kWh / year = servers x average W x hours / year x PUE / 1000
    operational kgCO2e / year = kWh / year x grid gCO2e/kWh / 1000
    embodied kgCO2e / year    = servers x embodied kgCO2e per server / lifetime years
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from replicator.errors import InputError
from replicator.report.measure import ReplicaMeasurement
from replicator.report.params import ReportParams, ResolvedParams
from replicator.topology import Topology

# --------------------------------------------------------------------------- numbers


def fmt(value: float | None, digits: int = 2) -> str:
    """A number for people: thousands separators, at most `digits` decimals, no trailing 0s."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) < 1:
        digits = max(digits, 4)
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


@dataclass(frozen=True)
class Computed:
    """A computed figure and how it was computed."""

    value: float
    unit: str
    formula: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "formula": self.formula}


# --------------------------------------------------------------------------- formulas


def average_power_w(idle_w: float, max_w: float, utilisation: float) -> float:
    """Average electrical power of one server: idle + utilisation x (max - idle)."""
    return idle_w + utilisation * (max_w - idle_w)


def annual_energy_kwh(servers: float, watts: float, hours: float, pue: float) -> float:
    """Energy a year, facility included: servers x W x hours x PUE / 1000."""
    return servers * watts * hours * pue / 1000.0


def operational_kgco2e(kwh: float, grid_g_per_kwh: float) -> float:
    """Emissions of the electricity: kWh x gCO2e/kWh / 1000."""
    return kwh * grid_g_per_kwh / 1000.0


def embodied_kgco2e_per_year(servers: float, kg_per_server: float, lifetime_years: float) -> float:
    """Manufacturing emissions spread over the servers' lifetime."""
    return servers * kg_per_server / lifetime_years


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# --------------------------------------------------------------------------- servers by edition


@dataclass(frozen=True)
class EditionServers:
    key: str
    name: str
    year: int | None
    servers: float
    kind: str  # public | modelled | measured
    source: str | None = None  # a key of the report's sources
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"edition": self.key, "name": self.name, "year": self.year,
                "physical_servers": self.servers, "kind": self.kind, "source": self.source,
                "note": self.note}


def servers_by_edition(topology: Topology, replica_hosts: int) -> list[EditionServers]:
    """Past editions (public, cited), this edition's production (modelled), the replica."""
    rows = []
    for past in sorted(topology.editions_history, key=lambda e: e.year):
        figure = past.physical_servers
        rows.append(EditionServers(
            past.edition, past.name, past.year, figure.value,
            "modelled" if figure.is_modelled else "public", figure.source,
            " ".join(x for x in (figure.basis or "", past.note or "") if x)))
    total = topology.production_physical_servers
    edition = topology.edition
    rows.append(EditionServers(edition.code, f"{_short_name(edition)} production", edition.year,
                               total.value, "modelled", None, total.basis or ""))
    rows.append(EditionServers(f"{edition.code}-replica", f"{_short_name(edition)} replica",
                               None, replica_hosts, "measured", None,
                               "distinct Docker engines recorded in the stacks' state"))
    return rows


def _short_name(edition: Any) -> str:
    return f"{edition.host_city} {edition.year}"


# --------------------------------------------------------------------------- production servers


@dataclass(frozen=True)
class ServerGroup:
    """Production servers in one place (or set of venues) of one country."""

    label: str
    country: str
    servers: float
    services: tuple[str, ...] = ()
    places: int = 1


def production_groups(topology: Topology, sites: Iterable[str] | None = None,
                      venues: Iterable[str] | None = None) -> list[ServerGroup]:
    """The modelled production servers of the services of `sites` (None: all), by place.

    A per-venue service counts once per venue of `venues` (None: every venue of
    the edition), at each venue's country; the others at their
    `production.location`. So a replica of some venues compares with the
    production servers of those venues only.
    """
    wanted = set(sites) if sites is not None else None
    chosen = set(venues) if venues is not None else None
    edition_venues = [v for v in topology.venues if chosen is None or v.code in chosen]
    servers: defaultdict[tuple[str, str], float] = defaultdict(float)  # modelled: fractions
    services: dict[tuple[str, str], list[str]] = defaultdict(list)
    places: dict[tuple[str, str], set[str]] = defaultdict(set)
    for service in topology.services:
        if wanted is not None and service.site not in wanted:
            continue
        count = service.production.physical_servers.value
        if service.per_venue:
            for venue in edition_venues:
                key = ("competition venues", venue.country)
                servers[key] += count
                places[key].add(venue.name)
                if service.name not in services[key]:
                    services[key].append(service.name)
        else:
            location = topology.location(service.production.location)
            assert location is not None  # checked when the topology loads
            key = (location.name, location.country)
            servers[key] += count
            places[key].add(location.name)
            services[key].append(service.name)
    groups = []
    for (label, country), n in servers.items():
        k = (label, country)
        shown = label if label != "competition venues" else (
            f"competition venues in {country} ({len(places[k])} "
            f"venue{'s' if len(places[k]) != 1 else ''})")
        groups.append(ServerGroup(shown, country, n, tuple(services[k]), len(places[k])))
    groups.sort(key=lambda g: (-g.servers, g.label))
    return groups


# --------------------------------------------------------------------------- footprint


@dataclass(frozen=True)
class FootprintRow:
    label: str
    country: str
    servers: float
    utilisation: Computed
    watts: Computed
    energy_kwh: Computed
    grid_g_per_kwh: float
    operational_kg: Computed
    embodied_kg: Computed

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "country": self.country, "servers": self.servers,
                "utilisation": self.utilisation.to_json(), "average_w": self.watts.to_json(),
                "energy_kwh": self.energy_kwh.to_json(), "grid_g_per_kwh": self.grid_g_per_kwh,
                "operational_kgco2e": self.operational_kg.to_json(),
                "embodied_kgco2e": self.embodied_kg.to_json()}


@dataclass(frozen=True)
class Footprint:
    side: str  # production | replica
    rows: tuple[FootprintRow, ...]
    servers: Computed
    energy_kwh: Computed
    operational_kg: Computed
    embodied_kg: Computed
    total_kg: Computed
    pue: float
    hours: float

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "pue": self.pue, "hours_per_year": self.hours,
                "rows": [r.to_json() for r in self.rows], "servers": self.servers.to_json(),
                "energy_kwh": self.energy_kwh.to_json(),
                "operational_kgco2e": self.operational_kg.to_json(),
                "embodied_kgco2e": self.embodied_kg.to_json(),
                "total_kgco2e": self.total_kg.to_json()}


@dataclass(frozen=True)
class Load:
    """Servers in one country running at one utilisation."""

    label: str
    country: str
    servers: float
    utilisation: Computed


def grid_for(params: ReportParams, country: str, where: str) -> float:
    try:
        return params.grid_intensity[country]
    except KeyError:
        raise InputError(
            f"no grid carbon intensity for country {country} ({where})",
            fix=f"add it: --set grid_intensity.{country}=<gCO2e/kWh>, or "
                f"`grid_intensity: {{{country}: <gCO2e/kWh>}}` in the --params file",
        ) from None


def footprint(side: str, loads: Sequence[Load], params: ReportParams, *, pue: float,
              hours: float) -> Footprint:
    """Energy and emissions a year of `loads`, with the formula of each figure."""
    server = params.server
    prefix = f"{side}."
    rows = []
    for load in loads:
        u = load.utilisation.value
        watts = average_power_w(server.idle_w, server.max_w, u)
        kwh = annual_energy_kwh(load.servers, watts, hours, pue)
        grid = grid_for(params, load.country, f"{side}: {load.label}")
        op = operational_kgco2e(kwh, grid)
        emb = embodied_kgco2e_per_year(load.servers, server.embodied_kgco2e,
                                       server.lifetime_years)
        rows.append(FootprintRow(
            label=load.label, country=load.country, servers=load.servers,
            utilisation=load.utilisation,
            watts=Computed(watts, "W", (
                f"server.idle_w + utilisation x (server.max_w - server.idle_w) = "
                f"{fmt(server.idle_w)} + {fmt(u, 4)} x ({fmt(server.max_w)} - "
                f"{fmt(server.idle_w)}) = {fmt(watts)} W")),
            energy_kwh=Computed(kwh, "kWh/year", (
                f"servers x W x {prefix}hours_per_year x {prefix}pue / 1000 = "
                f"{fmt(load.servers)} x {fmt(watts)} x {fmt(hours)} x {fmt(pue)} / 1000 = "
                f"{fmt(kwh)} kWh")),
            grid_g_per_kwh=grid,
            operational_kg=Computed(op, "kgCO2e/year", (
                f"kWh x grid_intensity.{load.country} / 1000 = {fmt(kwh)} x {fmt(grid)} / 1000 "
                f"= {fmt(op)} kgCO2e")),
            embodied_kg=Computed(emb, "kgCO2e/year", (
                f"servers x server.embodied_kgco2e / server.lifetime_years = "
                f"{fmt(load.servers)} x {fmt(server.embodied_kgco2e)} / "
                f"{fmt(server.lifetime_years)} = {fmt(emb)} kgCO2e")),
        ))
    op = sum(r.operational_kg.value for r in rows)
    emb = sum(r.embodied_kg.value for r in rows)

    def total(values: list[float], unit: str, what: str) -> Computed:
        shown = " + ".join(fmt(v) for v in values) or "0"
        return Computed(sum(values), unit, f"sum of the {what} of each row = {shown}")

    return Footprint(
        side=side, rows=tuple(rows),
        servers=total([r.servers for r in rows], "servers", "servers"),
        energy_kwh=total([r.energy_kwh.value for r in rows], "kWh/year", "energy"),
        operational_kg=total([r.operational_kg.value for r in rows], "kgCO2e/year",
                             "operational emissions"),
        embodied_kg=total([r.embodied_kg.value for r in rows], "kgCO2e/year",
                          "embodied emissions"),
        total_kg=Computed(op + emb, "kgCO2e/year",
                          f"operational + embodied = {fmt(op)} + {fmt(emb)} = {fmt(op + emb)}"),
        pue=pue, hours=hours,
    )


def production_loads(groups: Sequence[ServerGroup], params: ReportParams) -> list[Load]:
    u = params.production.utilisation
    utilisation = Computed(u, "fraction", f"production.utilisation = {fmt(u, 4)}")
    return [Load(g.label, g.country, g.servers, utilisation) for g in groups]


@dataclass(frozen=True)
class HostUsage:
    """What the containers on one replica host use, measured."""

    engine_id: str
    name: str
    cpus: int
    memory_bytes: int
    containers: int
    sampled: int
    cpu_percent: float  # sum over the containers; 100 = one CPU
    memory_used_bytes: int
    utilisation: Computed

    def to_json(self) -> dict[str, Any]:
        return {"engine_id": self.engine_id, "name": self.name, "cpus": self.cpus,
                "memory_bytes": self.memory_bytes, "containers": self.containers,
                "sampled": self.sampled, "cpu_percent": self.cpu_percent,
                "memory_used_bytes": self.memory_used_bytes,
                "utilisation": self.utilisation.to_json()}


def host_usage(measurement: ReplicaMeasurement, params: ReportParams) -> list[HostUsage]:
    """Per host: containers, summed CPU % and memory, and the utilisation the model uses."""
    override = params.replica.utilisation
    usages = []
    for host in measurement.hosts:
        mine = [c for c in measurement.containers if c.engine_id == host.engine_id]
        sampled = [c for c in mine if c.cpu_percent is not None]
        cpu = sum(c.cpu_percent or 0.0 for c in sampled)
        memory = sum(c.memory_bytes or 0 for c in mine)
        cpus = host.cpus or 1
        if override is not None:
            utilisation = Computed(override, "fraction",
                                   f"replica.utilisation = {fmt(override, 4)} (set by user; "
                                   f"measured {fmt(cpu / (100 * cpus), 4)})")
        else:
            measured = min(1.0, cpu / (100.0 * cpus))
            utilisation = Computed(measured, "fraction", (
                f"sum of the CPU % of its {len(sampled)} sampled containers / (100 x CPUs) = "
                f"{fmt(cpu, 3)} / (100 x {cpus}) = {fmt(measured, 4)}"))
        usages.append(HostUsage(host.engine_id, host.name, host.cpus, host.memory_bytes,
                                len(mine), len(sampled), cpu, memory, utilisation))
    return usages


def replica_loads(usages: Sequence[HostUsage], country: str) -> list[Load]:
    return [Load(f"replica host {u.name or u.engine_id[:14]}", country, 1, u.utilisation)
            for u in usages]


def replica_country(topology: Topology, params: ReportParams) -> tuple[str, str]:
    """The replica hosts' country and why: the parameter, else the ITL site's location."""
    if params.replica.country:
        return params.replica.country, "replica.country"
    site = topology.sites.get("itl") or next(iter(topology.sites.values()))
    location = topology.location(site.location)
    if location is None:
        raise InputError(
            f"the topology's site {site.name} has no location {site.location!r} to place the "
            "replica in",
            fix="set the replica's country: --set replica.country=ES")
    return location.country, f"{site.name} site location {location.name}"


# --------------------------------------------------------------------------- ratios


def _ratio_row(key: str, label: str, num: float, num_label: str, den: float, den_label: str,
               unit: str = "x") -> dict[str, Any]:
    value = ratio(num, den)
    change = None if not num else (den - num) / num * 100.0
    return {"key": key, "label": label, "value": value, "unit": unit,
            "change_percent": change if unit == "x" else None,
            "formula": f"{num_label} / {den_label} = {fmt(num)} / {fmt(den)} = {fmt(value)}"}


def consolidation_ratios(editions: Sequence[EditionServers], production_servers: float,
                         replica_hosts: int, containers: int,
                         production_kg: float, replica_kg: float) -> list[dict[str, Any]]:
    rows = [
        _ratio_row("production-per-replica-host",
                   "Production servers per replica host", production_servers,
                   "production servers (modelled)", replica_hosts, "replica hosts (measured)",
                   unit="servers/host"),
        _ratio_row("containers-per-replica-host", "Replica containers per replica host",
                   containers, "running containers", replica_hosts, "replica hosts",
                   unit="containers/host"),
    ]
    physical = [e for e in editions if e.kind != "measured"]
    for before, after in itertools.pairwise(physical):
        rows.append(_ratio_row(f"{before.key}-to-{after.key}", f"{before.name} to {after.name}",
                               before.servers, f"{before.name} servers", after.servers,
                               f"{after.name} servers"))
    if len(physical) > 2:
        first, last = physical[0], physical[-1]
        rows.append(_ratio_row(f"{first.key}-to-{last.key}", f"{first.name} to {last.name}",
                               first.servers, f"{first.name} servers", last.servers,
                               f"{last.name} servers"))
    rows.append(_ratio_row("co2e-production-per-replica",
                           "Production CO2e per replica CO2e (a year)", production_kg,
                           "production kgCO2e/year", replica_kg, "replica kgCO2e/year"))
    return rows


# --------------------------------------------------------------------------- the report


@dataclass
class ReportInput:
    topology: Topology
    measurement: ReplicaMeasurement
    params: ResolvedParams
    stacks: list[str]
    sites: list[str]
    whole_edition: bool
    generated_at: str = ""
    warnings: list[str] = field(default_factory=list)
    venues: list[str] | None = None  # the replicated venues (None: every venue)


def venue_coverage(topology: Topology, venues: Sequence[str] | None) -> dict[str, Any]:
    """Replicated venues of the edition's venues (the topology's, e.g. 43 for Paris 2024)."""
    codes = [v.code for v in topology.venues if v.code]
    replicated = codes if venues is None else [c for c in codes if c in set(venues)]
    return {"replicated": len(replicated), "edition": len(codes), "codes": replicated,
            "percent": 100.0 * len(replicated) / len(codes) if codes else 100.0,
            "formula": f"replicated venues / venues of the edition = {len(replicated)} / "
                       f"{len(codes)}"}


def _production_side(data: ReportInput, values: ReportParams) -> tuple[
        list[ServerGroup], Footprint, Footprint]:
    """Groups and footprint of the replicated scope, and the whole edition's footprint."""
    sites = None if data.whole_edition else data.sites
    groups = production_groups(data.topology, sites, data.venues)
    scoped = footprint("production", production_loads(groups, values), values,
                       pue=values.production.pue, hours=values.production.hours_per_year)
    everything = production_groups(data.topology)
    whole = footprint("production", production_loads(everything, values), values,
                      pue=values.production.pue, hours=values.production.hours_per_year)
    return groups, scoped, whole


def _sources(topology: Topology, params: ResolvedParams,
             editions: Sequence[EditionServers]) -> list[dict[str, Any]]:
    cited = {e.source for e in editions if e.source}
    rows = []
    for key, source in topology.sources.items():
        if key in cited:
            rows.append({"key": key, "title": source.title, "publisher": source.publisher,
                         "date": source.date.isoformat() if source.date else None,
                         "url": source.url, "note": "cited by the topology's editions_history"})
    rows.extend(s.to_json() for s in params.used_sources())
    return rows


def _derived_inputs(editions: Sequence[EditionServers], groups: Sequence[ServerGroup],
                    measurement: ReplicaMeasurement,
                    usages: Sequence[HostUsage]) -> list[dict[str, Any]]:
    """The inputs that are not parameters: cited and modelled counts, measurements."""
    rows: list[dict[str, Any]] = []
    for e in editions:
        if e.kind == "measured":
            continue
        rows.append({"key": f"editions.{e.key}.physical_servers", "value": e.servers,
                     "unit": "servers", "description": f"Physical servers, {e.name}",
                     "origin": e.kind, "source": e.source,
                     "note": e.note if e.kind == "modelled" else (e.note or "")})
    for g in groups:
        rows.append({"key": f"production.servers[{g.label}]", "value": g.servers,
                     "unit": "servers", "description": f"Production servers at {g.label} "
                     f"({g.country})", "origin": "modelled", "source": None,
                     "note": "sum of the modelled production.physical_servers of "
                             + ", ".join(g.services) + " (topology)"})
    for host, usage in zip(measurement.hosts, usages, strict=True):
        name = host.name or host.engine_id[:14]
        rows.append({"key": f"replica.host[{name}].cpus", "value": host.cpus, "unit": "CPUs",
                     "description": f"CPUs of the Docker engine {host.engine_id}",
                     "origin": "measured", "source": None,
                     "note": "recorded in the stacks' state when deployed"})
        rows.append({"key": f"replica.host[{name}].cpu_percent", "value": usage.cpu_percent,
                     "unit": "% of one CPU", "description": "CPU used by the containers on it",
                     "origin": "measured", "source": None,
                     "note": f"Docker stats of {usage.sampled} containers at "
                             f"{measurement.measured_at}"})
        rows.append({"key": f"replica.host[{name}].memory_used", "value": usage.memory_used_bytes,
                     "unit": "bytes", "description": "Memory used by the containers on it, "
                     "less page cache", "origin": "measured", "source": None,
                     "note": f"Docker stats at {measurement.measured_at}"})
    rows.append({"key": "replica.physical_hosts", "value": len(measurement.hosts),
                 "unit": "hosts", "description": "Distinct Docker engines in the stacks' state",
                 "origin": "measured", "source": None, "note": ", ".join(measurement.stacks)})
    rows.append({"key": "replica.containers", "value": len(measurement.containers),
                 "unit": "containers", "description": "Containers running with the "
                 "edition's label", "origin": "measured", "source": None,
                 "note": f"Docker engine, {measurement.measured_at}"})
    return rows


def _resolved(rows: list[dict[str, Any]], country: str, country_from: str,
              usages: Sequence[HostUsage]) -> list[dict[str, Any]]:
    """Parameter rows, with what an unset (derived or measured) parameter resolved to."""
    for row in rows:
        if row["key"] == "replica.country" and row["value"] is None:
            row["value"] = country
            row["note"] = f"{row['note']} (from the {country_from})"
        elif row["key"] == "replica.utilisation" and row["value"] is None:
            measured = ", ".join(f"{u.name or u.engine_id[:14]}: {fmt(u.utilisation.value, 4)}"
                                 for u in usages)
            row["note"] = f"{row['note']}; here {measured or 'no host'}"
    return rows


def _scope_text(data: ReportInput, coverage: dict[str, Any]) -> str:
    venues = (f"per-venue services once per replicated venue ({coverage['replicated']} of "
              f"{coverage['edition']} venues)")
    if data.whole_edition:
        return f"every service of the edition, {venues}"
    return f"the services of site(s) {', '.join(data.sites)}, {venues}"


def build_report(data: ReportInput) -> dict[str, Any]:
    """Every figure of the report, JSON-ready, each with its formula or its origin."""
    topology, measurement, params = data.topology, data.measurement, data.params
    values = params.values
    usages = host_usage(measurement, values)
    hosts = len(measurement.hosts)
    containers = len(measurement.containers)
    editions = servers_by_edition(topology, hosts)

    groups, production, whole = _production_side(data, values)
    coverage = venue_coverage(topology, data.venues)
    country, country_from = replica_country(topology, values)
    replica = footprint("replica", replica_loads(usages, country), values,
                        pue=values.replica.pue, hours=values.replica.hours_per_year)
    production_servers = production.servers.value
    ratios = consolidation_ratios(editions, production_servers, hosts, containers,
                                  production.total_kg.value, replica.total_kg.value)

    per_stack = Counter(c.stack for c in measurement.containers)
    per_host_stack: dict[str, dict[str, int]] = {}
    for c in measurement.containers:
        per_host_stack.setdefault(c.engine_id, Counter())[c.stack or "(no stack label)"] += 1
    cpu_total = sum(u.cpu_percent for u in usages)
    mem_total = sum(u.memory_used_bytes for u in usages)
    mem_capacity = sum(h.memory_bytes for h in measurement.hosts)
    cpus_total = sum(h.cpus for h in measurement.hosts)
    edition = topology.edition
    scope = ("edition" if data.whole_edition else "stack")
    return {
        "report": {
            "title": f"Sustainability server-count report: {edition.name}",
            "edition": edition.code, "edition_name": edition.name, "scope": scope,
            "stacks": data.stacks, "sites": data.sites,
            "generated_at": data.generated_at, "measured_at": measurement.measured_at,
            "measurement_seconds": round(measurement.seconds, 3),
            "stats_workers": measurement.workers,
            "production_scope": _scope_text(data, coverage),
        },
        "venues": coverage,
        "servers_by_edition": [e.to_json() for e in editions],
        "production": {
            "physical_servers": production.servers.to_json(),
            "edition_total": topology.production_physical_servers.value,
            "edition_total_basis": topology.production_physical_servers.basis,
            # Beside the replicated scope: the whole edition, every venue included.
            "whole_edition": {"physical_servers": whole.servers.to_json(),
                              "total_kgco2e": whole.total_kg.to_json(),
                              "energy_kwh": whole.energy_kwh.to_json()},
            "groups": [{"label": g.label, "country": g.country, "servers": g.servers,
                        "places": g.places, "services": list(g.services)} for g in groups],
        },
        "replica": {
            "physical_hosts": hosts,
            "hosts": [dict(h.to_json(), usage=u.to_json())
                      for h, u in zip(measurement.hosts, usages)],
            "containers": {
                "running": containers,
                "sampled": len(measurement.sampled),
                "by_stack": dict(sorted(per_stack.items())),
                "by_host": {k: dict(sorted(v.items())) for k, v in per_host_stack.items()},
                "items": [c.to_json() for c in measurement.containers],
            },
            "cpu": Computed(cpu_total, "% of one CPU", (
                f"sum of the CPU % of the {len(measurement.sampled)} sampled containers "
                f"(docker stats: CPU time delta / system CPU time delta x online CPUs x 100) = "
                f"{fmt(cpu_total, 3)} %, on {cpus_total} CPUs")).to_json(),
            "cpu_utilisation": Computed(
                ratio(cpu_total, 100.0 * cpus_total) or 0.0, "fraction",
                f"{fmt(cpu_total, 3)} / (100 x {cpus_total} CPUs)").to_json(),
            "memory": Computed(mem_total, "bytes", (
                f"sum over the containers of (memory usage - page cache) = {fmt(mem_total)} "
                f"bytes = {fmt(mem_total / 2**20, 1)} MiB")).to_json(),
            "memory_share": Computed(
                ratio(mem_total, mem_capacity) or 0.0, "fraction",
                f"{fmt(mem_total)} / {fmt(mem_capacity)} bytes of the hosts' memory").to_json(),
            "country": country, "country_from": country_from,
        },
        "ratios": ratios,
        "footprint": {"production": production.to_json(), "replica": replica.to_json()},
        "inputs": [*_derived_inputs(editions, groups, measurement, usages),
                   *_resolved(params.rows(), country, country_from, usages)],
        "sources": _sources(topology, params, editions),
        "warnings": [*measurement.warnings, *data.warnings],
    }
