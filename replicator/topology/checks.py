"""Whole-document checks of a topology: references that must resolve, names
that must be unique. Each problem carries the path of the value to fix, so the
loader can point at its line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from replicator.topology.errors import Problem
from replicator.inputs.paths import PathPart, render_path

if TYPE_CHECKING:
    from replicator.topology.model import Figure, Location, Service, Topology

_SOURCE_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
VENUE = "venue"


def check_topology(topology: Topology) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_sources(topology)
    problems += _check_figures(topology)
    problems += _check_sites(topology)
    problems += _check_locations(topology)
    problems += _check_suites(topology)
    problems += _check_links(topology)
    problems += _check_history(topology)
    return problems


def _problem(parts: list[PathPart], message: str, fix: str) -> Problem:
    return Problem(message=message, path=render_path(parts), fix=fix)


def _check_sources(topology: Topology) -> Iterator[Problem]:
    for key in topology.sources:
        if not _SOURCE_KEY.match(key):
            yield _problem(
                ["sources", key],
                f"source key {key!r} is not lowercase words joined by hyphens",
                "rename it like atos-2023-04-25 (and every figure citing it)",
            )


def _figures(topology: Topology) -> Iterator[tuple[list[PathPart], Figure]]:
    if topology.edition.competition_venues is not None:
        yield ["edition", "competition_venues"], topology.edition.competition_venues
    for i, entry in enumerate(topology.editions_history):
        yield ["editions_history", i, "physical_servers"], entry.physical_servers
    for s, suite in enumerate(topology.suites):
        for v, service in enumerate(suite.services):
            parts: list[PathPart] = ["suites", s, "services", v, "production", "physical_servers"]
            yield parts, service.production.physical_servers


def _check_figures(topology: Topology) -> Iterator[Problem]:
    known = sorted(topology.sources)
    for parts, figure in _figures(topology):
        if figure.source is not None and figure.source not in topology.sources:
            yield _problem(
                [*parts, "source"],
                f"figure cites unknown source {figure.source!r}",
                "add it under `sources:` or cite one of: " + (", ".join(known) or "(none yet)"),
            )


def _check_sites(topology: Topology) -> Iterator[Problem]:
    sites = sorted(topology.sites)
    if topology.wan.owner not in topology.sites:
        yield _problem(
            ["wan", "owner"],
            f"wan owner {topology.wan.owner!r} is not a site",
            "use one of: " + ", ".join(sites),
        )
    permanent = [loc.name for loc in topology.locations if loc.kind == "permanent-site"]
    for key, site in topology.sites.items():
        if not re.match(r"^[a-z][a-z0-9]*$", key):
            yield _problem(
                ["sites", key],
                f"site key {key!r} must be lowercase letters and digits (it names a stack)",
                "rename it, e.g. itl, ctoc, toc",
            )
        if site.location not in permanent:
            yield _problem(
                ["sites", key, "location"],
                f"site location {site.location!r} is not a permanent-site location",
                "use one of: " + (", ".join(permanent) or "(add a permanent-site location)"),
            )


def _check_locations(topology: Topology) -> Iterator[Problem]:
    names: dict[str, int] = {}
    codes: dict[str, int] = {}
    for i, loc in enumerate(topology.locations):
        if loc.name == VENUE:
            yield _problem(
                ["locations", i, "name"],
                f"{VENUE!r} is reserved: it means 'at each venue' in production.location",
                "rename the location",
            )
        if loc.name in names:
            yield _problem(
                ["locations", i, "name"],
                f"location name {loc.name!r} is already used by locations[{names[loc.name]}]",
                "give each location a unique name",
            )
        names.setdefault(loc.name, i)
        if loc.code is not None:
            if loc.code in codes:
                yield _problem(
                    ["locations", i, "code"],
                    f"venue code {loc.code!r} is already used by locations[{codes[loc.code]}]",
                    "give each venue a unique three-letter code",
                )
            codes.setdefault(loc.code, i)
    expected = topology.edition.competition_venues
    if expected is not None and len(codes) != expected.value:
        origin = f"source {expected.source}" if expected.source else "modelled"
        yield _problem(
            ["edition", "competition_venues", "value"],
            f"the edition has {expected.value} competition venues ({origin}) "
            f"but `locations` lists {len(codes)} venues",
            "list every competition venue under `locations` (kind: venue), or correct the figure",
        )


def _check_suites(topology: Topology) -> Iterator[Problem]:
    suite_names: dict[str, int] = {}
    service_names: dict[str, str] = {}
    sites = sorted(topology.sites)
    locations = {loc.name: loc for loc in topology.locations}
    for s, suite in enumerate(topology.suites):
        if suite.name in suite_names:
            yield _problem(
                ["suites", s, "name"],
                f"suite name {suite.name!r} is already used by suites[{suite_names[suite.name]}]",
                "give each suite a unique name",
            )
        suite_names.setdefault(suite.name, s)
        for v, service in enumerate(suite.services):
            here: list[PathPart] = ["suites", s, "services", v]
            if service.name in service_names:
                yield _problem(
                    [*here, "name"],
                    f"service name {service.name!r} is already used by "
                    f"{service_names[service.name]}",
                    "service names are unique across all suites: rename one",
                )
            service_names.setdefault(service.name, render_path(here))
            if service.site not in topology.sites:
                yield _problem(
                    [*here, "site"],
                    f"service site {service.site!r} is not one of the sites",
                    "use one of: " + ", ".join(sites),
                )
            yield from _check_production(
                here, service.per_venue, service.production.location, locations
            )
            yield from _check_tiers(here, service)


def _check_production(
    here: list[PathPart],
    per_venue: bool,
    location: str,
    locations: dict[str, Location],
) -> Iterator[Problem]:
    parts = [*here, "production", "location"]
    if per_venue and location != VENUE:
        yield _problem(
            parts,
            f"a per_venue service runs at each venue, but production.location is {location!r}",
            f"set production.location to {VENUE!r}, or drop per_venue",
        )
    elif not per_venue and location == VENUE:
        yield _problem(
            parts,
            f"production.location {VENUE!r} is only for per_venue services",
            "set per_venue: true, or name the location the service runs in",
        )
    elif not per_venue and location not in locations:
        yield _problem(
            parts,
            f"unknown production location {location!r}",
            "use one of the non-venue locations: "
            + ", ".join(n for n, loc in locations.items() if loc.kind != "venue"),
        )
    elif not per_venue and locations[location].kind == "venue":
        yield _problem(
            parts,
            f"{location!r} is one venue; a central service cannot run at a single venue",
            "use a permanent-site or cloud-dc location, or make the service per_venue",
        )


def _check_tiers(here: list[PathPart], service: Service) -> Iterator[Problem]:
    kinds: dict[str, int] = {}
    for t, tier in enumerate(service.tiers):
        if tier.kind in kinds:
            yield _problem(
                [*here, "tiers", t, "kind"],
                f"service {service.name!r} has two {tier.kind} tiers (tiers[{kinds[tier.kind]}])",
                "merge them: raise `instances` of the first",
            )
        kinds.setdefault(tier.kind, t)
        ports: dict[int, int] = {}
        for p, port in enumerate(tier.ports):
            if port.port in ports:
                yield _problem(
                    [*here, "tiers", t, "ports", p, "port"],
                    f"port {port.port} is already declared by ports[{ports[port.port]}] "
                    f"of this tier",
                    "declare each port once per tier",
                )
            ports.setdefault(port.port, p)


def _check_links(topology: Topology) -> Iterator[Problem]:
    services = {service.name: service for service in topology.services}
    seen: dict[tuple[str, str, int], int] = {}
    for i, link in enumerate(topology.links):
        ends_ok = True
        for key, service_name, tier_kind in (
            ("from", link.source_service, link.source_tier),
            ("to", link.target_service, link.target_tier),
        ):
            service = services.get(service_name)
            if service is None:
                ends_ok = False
                yield _problem(
                    ["links", i, key],
                    f"link end {service_name!r} is not a service",
                    "use <service>/<tier> with one of: " + ", ".join(services),
                )
            elif service.tier(tier_kind) is None:
                ends_ok = False
                yield _problem(
                    ["links", i, key],
                    f"service {service_name!r} has no {tier_kind!r} tier",
                    "use one of its tiers: " + ", ".join(t.kind for t in service.tiers),
                )
        if not ends_ok:
            continue
        if link.source == link.target:
            yield _problem(
                ["links", i, "to"],
                f"link from {link.source} to itself: a tier reaches its own port without a link",
                "remove the link, or point `to` at another service's tier",
            )
            continue
        target_tier = services[link.target_service].tier(link.target_tier)
        assert target_tier is not None
        port = target_tier.port(link.port)
        if port is None:
            yield _problem(
                ["links", i, "port"],
                f"{link.target} does not listen on port {link.port}",
                "use one of its ports: " + ", ".join(str(p.port) for p in target_tier.ports),
            )
        elif port.protocol != link.protocol:
            yield _problem(
                ["links", i, "protocol"],
                f"{link.target} port {link.port} speaks {port.protocol}, not {link.protocol}",
                f"set protocol: {port.protocol}",
            )
        key3 = (link.source, link.target, link.port)
        if key3 in seen:
            yield _problem(
                ["links", i],
                f"link {link.source} -> {link.target}:{link.port} is already declared "
                f"by links[{seen[key3]}]",
                "remove the duplicate (merge the purposes)",
            )
        seen.setdefault(key3, i)


def _check_history(topology: Topology) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, entry in enumerate(topology.editions_history):
        if entry.edition in seen:
            yield _problem(
                ["editions_history", i, "edition"],
                f"edition {entry.edition!r} is already listed at editions_history[{seen[entry.edition]}]",
                "list each past edition once",
            )
        seen.setdefault(entry.edition, i)
