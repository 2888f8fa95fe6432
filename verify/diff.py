"""Conformance: the services, links and networks observed in Docker against the declared ones.

Everything is compared by the project's labels and names, so an object made by
hand shows up as well as one the stacks made:

- missing: declared, not found (a container removed, a link whose container
  left its network, a network deleted);
- unexpected: found, not declared (an extra container carrying the project's
  labels, a network of the edition nobody declares, a container attached to a
  network that joins two sites no link joins);
- changed: found but different (not running, other image, other labels, other
  networks or aliases, a network no longer internal).

`Conformance.coverage` is the share of declared services and links that were
compared (100% unless the model or the outputs could not be read), and
`Conformance.conformance` the share found exactly as declared.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from verify.expect import (
    LABEL_PREFIX,
    Expectation,
    ExpectedContainer,
    ExpectedLink,
    ExpectedNetwork,
    ExpectedService,
)
from verify.observe import Observation, ObservedContainer

OK, MISSING, UNEXPECTED, CHANGED = "ok", "missing", "unexpected", "changed"


@dataclass
class DiffItem:
    kind: str  # service | container | link | network | path
    name: str
    status: str  # ok | missing | unexpected | changed
    site: str | None = None
    details: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        return f"DiffItem({self.kind} {self.name!r}: {self.status})"


def container_diff(exp: ExpectedContainer, obs: ObservedContainer | None,
                   observation: Observation) -> DiffItem:
    item = DiffItem("container", exp.name, OK, exp.site)
    if obs is None:
        item.status = MISSING
        item.details.append(f"{exp.name} does not exist on {exp.docker_host}")
        return item
    d = item.details
    if not obs.running:
        d.append(f"state {obs.status}, expected running")
    if obs.docker_host != exp.docker_host:
        d.append(f"runs on {obs.docker_host}, expected {exp.docker_host}")
    wanted = observation.image_id(exp.docker_host, exp.image)
    if wanted is None:
        d.append(f"image {exp.image} is missing on {exp.docker_host}")
    elif obs.image_id != wanted:
        d.append(f"image {obs.image_id[:19]}, expected {exp.image} ({wanted[:19]})")
    inherited = observation.image_labels.get(obs.image_id, {})
    for key, value in sorted(exp.labels.items()):
        if obs.labels.get(key) != value:
            d.append(f"label {key}={obs.labels.get(key)!r}, expected {value!r}")
    for key in sorted(set(obs.labels) - set(exp.labels)):
        if inherited.get(key) != obs.labels[key]:
            d.append(f"unexpected label {key}={obs.labels[key]!r}")
    have, want = set(obs.networks), set(exp.networks)
    for net in sorted(want - have):
        d.append(f"not attached to network {net}")
    for net in sorted(have - want):
        d.append(f"attached to undeclared network {net}")
    for net in sorted(have & want):
        if exp.alias not in obs.networks[net].aliases:
            d.append(f"alias {exp.alias} missing on {net}")
    if d:
        item.status = CHANGED
    return item


def service_diff(service: ExpectedService, observation: Observation
                 ) -> tuple[DiffItem, list[DiffItem]]:
    parts = [container_diff(c, observation.containers.get(c.name), observation)
             for c in service.containers]
    item = DiffItem("service", service.name, OK, service.site)
    if parts and all(p.status == MISSING for p in parts):
        item.status = MISSING
    elif any(p.status != OK for p in parts):
        item.status = CHANGED
    item.details = [f"{p.name}: {x}" for p in parts for x in p.details]
    return item, parts


def link_diff(link: ExpectedLink, observation: Observation) -> DiffItem:
    item = DiffItem("link", link.name, OK, link.source_site)
    for role, containers in (("source", link.sources), ("target", link.targets)):
        for c in containers:
            obs = observation.containers.get(c.name)
            if obs is None:
                item.details.append(f"{role} {c.name} does not exist")
            elif link.network not in obs.networks:
                item.details.append(f"{role} {c.name} is not attached to {link.network}")
            elif role == "target" and link.target_alias not in obs.networks[link.network].aliases:
                item.details.append(f"target {c.name} has no alias {link.target_alias} "
                                    f"on {link.network}")
    if link.network not in observation.networks:
        item.details.append(f"network {link.network} does not exist")
    if item.details:
        item.status = MISSING
    return item


def network_diff(net: ExpectedNetwork, observation: Observation) -> DiffItem:
    item = DiffItem("network", net.name, OK)
    obs = observation.networks.get(net.name)
    if obs is None:
        item.status = MISSING
        item.details.append(f"network {net.name} does not exist on {net.docker_host}")
        return item
    if obs.internal != net.internal:
        item.details.append(f"internal={obs.internal}, expected {net.internal}")
    if net.subnet and net.subnet not in obs.subnets:
        item.details.append(f"subnet {', '.join(obs.subnets) or 'none'}, expected {net.subnet}")
    if obs.foreign:
        item.details.append("containers outside the project attached: "
                            + ", ".join(obs.foreign))
    if item.details:
        item.status = CHANGED
    return item


def _site_of(name: str, labels: dict[str, str], expectation: Expectation) -> str | None:
    site = labels.get(LABEL_PREFIX + "site")
    if site:
        return site
    for s in expectation.replica.topology.sites:
        if name.startswith(f"{expectation.replica.edition}-{s}-"):
            return s
    return None


def unexpected_containers(expectation: Expectation, observation: Observation) -> list[DiffItem]:
    sites = expectation.replica.selected_sites
    out = []
    for name, obs in sorted(observation.containers.items()):
        if name in expectation.all_containers:
            continue
        site = _site_of(name, obs.labels, expectation)
        if site is not None and site not in sites:
            continue
        labels = ", ".join(f"{k}={v}" for k, v in sorted(obs.labels.items()))
        out.append(DiffItem("container", name, UNEXPECTED, site,
                            [f"{name} ({obs.status}) carries the project's labels or name "
                             f"but is not declared" + (f": {labels}" if labels else "")]))
    return out


def unexpected_networks(expectation: Expectation, observation: Observation) -> list[DiffItem]:
    declared = {n.name for n in expectation.networks}
    rep = expectation.replica
    owners = {s.site for s in rep.stacks.values() if s.name in rep.selected}
    wan_selected = rep.topology.wan.owner in owners
    # Every network any stack of the edition declares (for one-stack runs).
    known = declared | {n for c in expectation.all_containers.values() for n in c.networks}
    out = []
    for name, obs in sorted(observation.networks.items()):
        if name in known:
            continue
        site = _site_of(name, obs.labels, expectation)
        if site is not None and site not in owners:
            continue
        if site is None and not wan_selected and name.startswith(f"{rep.edition}-wan-"):
            continue
        out.append(DiffItem("network", name, UNEXPECTED, site,
                            [(f"network {name} is not declared "
                             f"(members: {', '.join(obs.containers) or 'none'})")]))
    return out


def unexpected_paths(expectation: Expectation, observation: Observation) -> list[DiffItem]:
    """Containers of two sites sharing a network although no link joins their tiers."""
    declared = expectation.declared_pairs
    sites = expectation.replica.selected_sites
    found: dict[str, DiffItem] = {}
    for net in observation.networks.values():
        members = []
        for name in net.containers:
            exp = expectation.all_containers.get(name)
            obs = observation.containers.get(name)
            if obs is None:
                continue
            site = exp.site if exp else _site_of(name, obs.labels, expectation)
            service = exp.service if exp else obs.labels.get(LABEL_PREFIX + "service", name)
            tier = exp.tier if exp else obs.labels.get(LABEL_PREFIX + "tier", "?")
            members.append((name, site, service, tier))
        for i, (a, site_a, svc_a, tier_a) in enumerate(members):
            for b, site_b, svc_b, tier_b in members[i + 1:]:
                if site_a == site_b or (site_a not in sites and site_b not in sites):
                    continue
                if frozenset({(svc_a, tier_a), (svc_b, tier_b)}) in declared:
                    continue
                key = " <-> ".join(sorted((f"{site_a}/{svc_a}/{tier_a}",
                                           f"{site_b}/{svc_b}/{tier_b}")))
                item = found.setdefault(key, DiffItem("path", key, UNEXPECTED, site_a))
                item.details.append(f"{a} and {b} share network {net.name}")
    return [found[k] for k in sorted(found)]


@dataclass
class Conformance:
    services: list[DiffItem]
    containers: list[DiffItem]
    links: list[DiffItem]
    networks: list[DiffItem]
    unexpected: list[DiffItem]

    @property
    def declared(self) -> int:
        return len(self.services) + len(self.links)

    @property
    def conforming(self) -> int:
        return sum(1 for i in self.services + self.links if i.status == OK)

    @property
    def conformance(self) -> float:
        return 100.0 * self.conforming / self.declared if self.declared else 100.0

    def differences(self) -> list[DiffItem]:
        return [i for i in self.services + self.containers + self.links + self.networks
                + self.unexpected if i.status != OK]

    def counts(self) -> dict[str, int]:
        out = {MISSING: 0, UNEXPECTED: 0, CHANGED: 0}
        for i in self.differences():
            if i.kind != "service":  # a service's state repeats its containers'
                out[i.status] += 1
        return out


def compare(expectation: Expectation, observation: Observation) -> Conformance:
    services, containers = [], []
    for s in expectation.services:
        item, parts = service_diff(s, observation)
        services.append(item)
        containers += parts
    return Conformance(
        services=services, containers=containers,
        links=[link_diff(link, observation) for link in expectation.links],
        networks=[network_diff(n, observation) for n in expectation.networks],
        unexpected=(unexpected_containers(expectation, observation)
                    + unexpected_networks(expectation, observation)
                    + unexpected_paths(expectation, observation)))
