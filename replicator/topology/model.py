"""The production Games topology, as pydantic models.

One `Topology` per edition (``stacks/topology/<edition>.yaml``): the sites of
the replica (one Pulumi stack each), the places production runs in (permanent
sites, cloud data centres, competition venues), the application suites and
their services, and the links between service tiers.

Every model forbids unknown keys and is frozen. Lists are tuples so that the
small models (Port, Tier, Service...) are hashable. Checks that need the whole
document (names that must exist or be unique) run in `checks.py`, from the
`Topology` validator, and report the path of the offending value.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from replicator.topology.checks import check_topology
from replicator.topology.deployment import (
    DeployedService,
    ResolvedLink,
    deployed_services,
    resolved_links,
    select_venues,
)
from replicator.topology.errors import TopologyError, invalid


def _integral(value: float) -> float:
    # YAML `4` should stay 4 (not 4.0) when shown or summed into a report.
    return int(value) if float(value).is_integer() else value


Number = Annotated[float, Strict(), Field(ge=0), AfterValidator(_integral)]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(min_length=1)]
TierKind = Literal["web", "app", "db"]
Protocol = Literal["http", "https", "postgres", "tcp"]
LocationKind = Literal["permanent-site", "cloud-dc", "venue"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Model):
    """A number with its provenance: a cited public figure or a labelled estimate."""

    value: Number
    source: str | None = None
    modelled: StrictBool | None = None
    basis: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Figure:
        both_forms = "keep `source:` for a public figure, or `modelled: true` + `basis:`"
        if self.source is not None and self.modelled is not None:
            raise invalid(
                "a figure is either cited (source) or modelled (modelled + basis), not both",
                both_forms,
            )
        if self.source is None and self.modelled is None:
            raise invalid(
                "a figure has neither `source:` nor `modelled:`",
                "add `source: <key in sources>` for a public figure, or `modelled: true` "
                "with `basis: <how it was estimated>` for an estimate",
            )
        if self.modelled is False:
            raise invalid("`modelled: false` says nothing", "cite a source instead")
        if self.modelled and not (self.basis or "").strip():
            raise invalid(
                "a modelled figure has no `basis:`", "add `basis:` saying how it was estimated"
            )
        if self.source is not None and self.basis is not None:
            raise invalid(
                "`basis:` is only for modelled figures",
                "remove `basis:` (the source says where the figure comes from)",
            )
        return self

    @property
    def is_modelled(self) -> bool:
        return bool(self.modelled)

    def __str__(self) -> str:
        origin = f"modelled: {self.basis}" if self.modelled else f"source: {self.source}"
        return f"{self.value} ({origin})"


class Source(_Model):
    """An entry of the citation registry."""

    title: Text
    publisher: Text
    date: datetime.date | None = None  # None when the publication date is not known
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise invalid(f"url {value!r} is not a web address", "start it with https://")
        return value


class Edition(_Model):
    code: Name
    name: Text
    competition_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}\d{4}$")]
    host_city: Text
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    year: Annotated[int, Strict(), Field(ge=1896, le=2100)]
    # The public count of competition venues; when given, `locations` must list
    # exactly that many venues.
    competition_venues: Figure | None = None


class EditionHistory(_Model):
    edition: Name
    name: Text
    year: Annotated[int, Strict(), Field(ge=1896, le=2100)]
    physical_servers: Figure
    note: str | None = None


_RFC1918 = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def private_network(value: object) -> ipaddress.IPv4Network:
    """A private IPv4 network from its text form (pydantic validator helper)."""
    example = "write a private network address with its prefix, e.g. 10.240.0.0/16"
    try:
        network = ipaddress.IPv4Network(str(value), strict=True)
    except ValueError as exc:
        raise invalid(f"{value!r} is not an IPv4 network ({exc})", example) from None
    # is_private alone would accept loopback and link-local ranges.
    if not any(network.subnet_of(block) for block in _RFC1918):
        raise invalid(f"{network} is not a private (RFC 1918) network", example)
    return network


class Wan(_Model):
    """The inter-site network, created by the `owner` site's stack."""

    owner: str
    supernet: ipaddress.IPv4Network

    @field_validator("supernet", mode="before")
    @classmethod
    def _supernet(cls, value: object) -> ipaddress.IPv4Network:
        return private_network(value)


class Site(_Model):
    """A replica site; one Pulumi stack per edition and site."""

    title: Text
    location: str
    _name: str = PrivateAttr(default="")

    @property
    def name(self) -> str:
        """The site's key in `sites` (itl, ctoc, toc)."""
        return self._name


class Location(_Model):
    """A production hosting place: permanent site, cloud data centre or venue."""

    name: Name
    kind: LocationKind
    city: Text
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    title: str | None = None
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{2}$")] | None = Field(
        default=None, validate_default=True
    )
    disciplines: tuple[Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{3}$")], ...] = Field(
        default=(), validate_default=True
    )

    @field_validator("code")
    @classmethod
    def _venue_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "venue" and value is None:
            raise invalid("a venue needs a code", "add `code:` (three letters, e.g. AQC)")
        if kind is not None and kind != "venue" and value is not None:
            raise invalid(f"only venues have a code; this location is a {kind}", "remove `code:`")
        return value

    @field_validator("disciplines")
    @classmethod
    def _venue_disciplines(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        kind = info.data.get("kind")
        if kind == "venue" and not value:
            raise invalid(
                "a venue needs disciplines",
                "add `disciplines:` with ODF discipline codes, e.g. [SWM]",
            )
        if kind is not None and kind != "venue" and value:
            raise invalid(
                f"only venues have disciplines; this location is a {kind}", "remove `disciplines:`"
            )
        if len(set(value)) != len(value):
            raise invalid("a discipline is listed twice", "list each discipline once")
        return value

    @property
    def display_name(self) -> str:
        return self.title or self.name


class Port(_Model):
    port: Annotated[int, Strict(), Field(ge=1, le=65535)]
    protocol: Protocol


class Tier(_Model):
    """One tier of a service: `instances` identical containers."""

    kind: TierKind
    instances: Annotated[int, Strict(), Field(ge=1, le=8)] = 1
    ports: Annotated[tuple[Port, ...], Field(min_length=1)]

    def port(self, number: int) -> Port | None:
        return next((p for p in self.ports if p.port == number), None)


class Production(_Model):
    """Where the service runs at Games time, and on how many physical servers."""

    location: str
    physical_servers: Figure


class Service(_Model):
    name: Name
    title: Text
    site: str
    version: Text
    per_venue: StrictBool = False
    tiers: Annotated[tuple[Tier, ...], Field(min_length=1)]
    production: Production
    _suite: str = PrivateAttr(default="")

    @property
    def suite(self) -> str:
        """The name of the suite the service belongs to."""
        return self._suite

    def tier(self, kind: str) -> Tier | None:
        return next((t for t in self.tiers if t.kind == kind), None)


class Suite(_Model):
    name: Name
    title: Text
    services: Annotated[tuple[Service, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _own_services(self) -> Suite:
        for service in self.services:
            service._suite = self.name
        return self


class Link(_Model):
    """A connection from one service tier to a port of another: ``service/tier``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    port: Annotated[int, Strict(), Field(ge=1, le=65535)]
    protocol: Protocol
    purpose: Text

    @field_validator("source", "target")
    @classmethod
    def _end(cls, value: str) -> str:
        service, sep, tier = value.partition("/")
        if not sep or not service or not tier or "/" in tier:
            raise invalid(f"link end {value!r} is not <service>/<tier>", "write it like cis/app")
        return value

    @property
    def source_service(self) -> str:
        return self.source.partition("/")[0]

    @property
    def source_tier(self) -> str:
        return self.source.partition("/")[2]

    @property
    def target_service(self) -> str:
        return self.target.partition("/")[0]

    @property
    def target_tier(self) -> str:
        return self.target.partition("/")[2]


class Topology(_Model):
    edition: Edition
    sources: dict[str, Source] = Field(default_factory=dict)
    wan: Wan
    sites: Annotated[dict[str, Site], Field(min_length=1)]
    locations: tuple[Location, ...]
    suites: Annotated[tuple[Suite, ...], Field(min_length=1)]
    links: tuple[Link, ...] = ()
    editions_history: tuple[EditionHistory, ...] = ()
    _source_file: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_references(self) -> Topology:
        for key, site in self.sites.items():
            site._name = key
        problems = check_topology(self)
        if problems:
            # Not a ValueError: pydantic would flatten it into one error at the
            # document root. The loader adds the file and the lines.
            raise TopologyError.from_problems(problems)
        return self

    @property
    def source_file(self) -> Path | None:
        """The file this topology was loaded from, if any."""
        return self._source_file

    @property
    def services(self) -> list[Service]:
        return [service for suite in self.suites for service in suite.services]

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise TopologyError(
            f"no service named {name!r} in edition {self.edition.code}",
            file=self._source_file,
            fix="use one of: " + ", ".join(s.name for s in self.services),
        )

    @property
    def venues(self) -> list[Location]:
        return [loc for loc in self.locations if loc.kind == "venue"]

    def location(self, name: str) -> Location | None:
        return next((loc for loc in self.locations if loc.name == name), None)

    def select_venues(self, venues: Sequence[str] | None = None) -> list[Location]:
        """The venues with these codes (any case), in the given order; None means all."""
        return select_venues(self, venues)

    def deployed_services(
        self, site: str | None = None, venues: Sequence[str] | None = None
    ) -> list[DeployedService]:
        return deployed_services(self, site, venues)

    def resolved_links(
        self, venues: Sequence[str] | None = None, *, site: str | None = None
    ) -> list[ResolvedLink]:
        """Links between deployed services; with `site`, those with an end on it."""
        return resolved_links(self, venues, site=site)

    @property
    def production_physical_servers(self) -> Figure:
        """Modelled total of physical servers at Games time for this edition.

        No public count exists for Paris 2024, so this is the sum of each
        service's (mostly modelled) figure, per-venue services once per venue.
        """
        venue_count = len(self.venues)
        total: float = 0
        for service in self.services:
            copies = venue_count if service.per_venue else 1
            total += service.production.physical_servers.value * copies
        per_venue = [s.name for s in self.services if s.per_venue]
        basis = f"sum of the physical_servers of the {len(self.services)} modelled services" + (
            f", {', '.join(per_venue)} once per venue ({venue_count} venues)" if per_venue else ""
        )
        return Figure(value=total, modelled=True, basis=basis)
