"""What a topology deploys: services placed on sites, and the links between them.

A per-venue service (OVR) becomes one `DeployedService` per selected venue
(``ovr-aqc``, ``ovr-sta``...); every other service is deployed once. A link
whose end is a per-venue service fans out to every venue copy, and a link
between two per-venue services stays inside each venue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from replicator import naming
from replicator.topology.errors import TopologyError

if TYPE_CHECKING:
    from replicator.topology.model import Link, Location, Service, Tier, Topology


@dataclass(frozen=True, eq=False)
class DeployedService:
    """A service as deployed on one replica site (for OVR: one venue's copy)."""

    name: str
    service: Service
    suite: str
    site: str
    venue: Location | None = None

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return self.service.tiers

    def container_names(self, edition: str) -> list[str]:
        """Container names of every instance of every tier, tier by tier."""
        return [
            naming.container_name(edition, self.site, self.name, tier.kind, i)
            for tier in self.tiers
            for i in range(1, tier.instances + 1)
        ]

    # Identity is (site, name): the Service inside holds tuples of models and
    # need not be compared field by field.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeployedService):
            return NotImplemented
        return (self.site, self.name) == (other.site, other.name)

    def __hash__(self) -> int:
        return hash((self.site, self.name))

    def __repr__(self) -> str:
        return f"DeployedService({self.name!r}, site={self.site!r})"


@dataclass(frozen=True, eq=False)
class ResolvedLink:
    """A link between two deployed services' tiers."""

    source: DeployedService
    source_tier: str
    target: DeployedService
    target_tier: str
    port: int
    protocol: str
    purpose: str

    @property
    def cross_site(self) -> bool:
        return self.source.site != self.target.site

    @property
    def name(self) -> str:
        return (
            f"{self.source.name}/{self.source_tier}->"
            f"{self.target.name}/{self.target_tier}:{self.port}"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResolvedLink):
            return NotImplemented
        return self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"ResolvedLink({self.name!r})"


def select_venues(topology: Topology, venues: Sequence[str] | None) -> list[Location]:
    all_venues = topology.venues
    if venues is None:
        return all_venues
    by_code = {venue.code: venue for venue in all_venues if venue.code}
    selected: list[Location] = []
    unknown: list[str] = []
    for code in venues:
        venue = by_code.get(code.upper())
        if venue is None:
            unknown.append(code)
        elif venue not in selected:
            selected.append(venue)
    if unknown:
        raise TopologyError(
            f"unknown venue code(s) {', '.join(unknown)} in edition {topology.edition.code}",
            file=topology.source_file,
            fix="use codes from: " + ", ".join(by_code),
        )
    return selected


def deployed_services(
    topology: Topology, site: str | None = None, venues: Sequence[str] | None = None
) -> list[DeployedService]:
    if site is not None and site not in topology.sites:
        raise TopologyError(
            f"no site {site!r} in edition {topology.edition.code}",
            file=topology.source_file,
            fix="use one of: " + ", ".join(topology.sites),
        )
    selected = select_venues(topology, venues)
    deployed: list[DeployedService] = []
    for service in topology.services:
        if site is not None and service.site != site:
            continue
        deployed += _copies(service, selected)
    return deployed


def _copies(service: Service, venues: list[Location]) -> list[DeployedService]:
    if not service.per_venue:
        return [DeployedService(service.name, service, service.suite, service.site)]
    return [
        DeployedService(
            f"{service.name}-{(venue.code or '').lower()}",
            service,
            service.suite,
            service.site,
            venue,
        )
        for venue in venues
    ]


def resolved_links(
    topology: Topology, venues: Sequence[str] | None = None, *, site: str | None = None
) -> list[ResolvedLink]:
    everywhere = deployed_services(topology, None, venues)
    copies: dict[str, list[DeployedService]] = {}
    for deployed in everywhere:
        copies.setdefault(deployed.service.name, []).append(deployed)
    if site is not None and site not in topology.sites:
        raise TopologyError(
            f"no site {site!r} in edition {topology.edition.code}",
            fix="use one of: " + ", ".join(topology.sites),
        )
    out: list[ResolvedLink] = []
    for link in topology.links:
        for source, target in _pairs(link, copies):
            if site is None or site in (source.site, target.site):
                out.append(
                    ResolvedLink(
                        source,
                        link.source_tier,
                        target,
                        link.target_tier,
                        link.port,
                        link.protocol,
                        link.purpose,
                    )
                )
    return out


def _pairs(
    link: Link, copies: dict[str, list[DeployedService]]
) -> list[tuple[DeployedService, DeployedService]]:
    sources = copies.get(link.source_service, [])
    targets = copies.get(link.target_service, [])
    if sources and targets and sources[0].venue is not None and targets[0].venue is not None:
        # Both ends at venues: each venue's copies talk to each other only.
        return [(s, t) for s in sources for t in targets if s.venue == t.venue]
    return [(s, t) for s in sources for t in targets]
