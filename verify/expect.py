"""What the replica must be: expected containers, services, links, networks, from the model.

The expectation is derived from the declared production topology
(``stacks/topology/<edition>.yaml``), each stack's settings (venues, published
ports, image tag) and the stacks' outputs (the Docker engine each stack runs
on). It re-derives the names and labels of docs/ARCHITECTURE.md
(``replicator/naming.py``) on its own, so that a change on either side
shows up as a difference instead of being silently shared.

Each class is small and has a `__repr__` naming the thing it expects, which is
what pytest shows in a test id and in a failure.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from replicator.images.recipes import deployed_image_ref

LABEL_PREFIX = "replicator."
HEALTH_PATH = "/health"
APP_CONFIG = "/etc/replicator/app.json"
SUPERVISOR_PROGRAMS = {"app": "replicator-app", "web": "nginx", "db": "postgresql"}
# The process each tier's program runs (docs/app-contract.md).
PROCESS_MARKERS = {"app": "-m replicator_app", "web": "nginx: master process",
                   "db": "bin/postgres"}
PROCESS_USERS = {"app": "replicator", "web": "root", "db": "postgres"}


# --------------------------------------------------------------------------- naming
# The contract of replicator/naming.py, written again on purpose (see module doc).

def container_name(edition: str, site: str, service: str, tier: str, instance: int) -> str:
    return f"{edition}-{site}-{service}-{tier}-{instance}"


def lan_network(edition: str, site: str) -> str:
    return f"{edition}-{site}-lan"


def edge_network(edition: str, site: str) -> str:
    return f"{edition}-{site}-edge"


def circuit_name(edition: str, service_a: str, service_b: str) -> str:
    a, b = sorted((service_a, service_b))
    return f"{edition}-wan-{a}--{b}"


def alias(service: str, tier: str) -> str:
    return f"{service}-{tier}"


def placement(container: str, engines: Sequence[str]) -> str:
    """The engine a container of a site spread over `engines` runs on: the one that ranks
    highest for its name (rendezvous hashing, docs/hosts.md)."""
    return max(engines, key=lambda e: hashlib.sha256(f"{e}\0{container}".encode()).digest())


def image_name(tier: str, tag: str) -> str:
    return deployed_image_ref(tier, tag)


# --------------------------------------------------------------------------- stacks


@dataclass(frozen=True)
class StackInfo:
    """One stack of the edition: its settings, and what its state recorded."""

    name: str
    site: str
    settings: Any  # replicator.topology.StackSettings
    outputs: dict[str, Any]
    engines: dict[str, dict[str, Any]]

    @property
    def deployed(self) -> bool:
        return bool(self.outputs)

    @property
    def docker_host(self) -> str:
        """Where the stack's containers are: its `dockerHost` output (else its settings)."""
        return str(self.outputs.get("dockerHost") or self.settings.docker_host)

    @property
    def docker_hosts(self) -> list[str]:
        """Every engine of the stack: its `dockerHosts` output (else its settings' engines)."""
        return [str(h) for h in self.outputs.get("dockerHosts") or self.settings.engines]

    def engine_of(self, container: str) -> str:
        """Where the stack's `container` must run."""
        engines = self.docker_hosts
        return placement(container, engines) if len(engines) > 1 else self.docker_host

    @property
    def venues(self) -> list[str] | None:
        return self.settings.venues

    def __repr__(self) -> str:
        return f"StackInfo({self.name!r}, host={self.docker_host!r}, deployed={self.deployed})"


@dataclass
class Replica:
    """The edition, its model, every stack of it, and which of them are verified."""

    root: Path
    workdir: Path
    edition: str
    topology: Any  # replicator.topology.Topology
    stacks: dict[str, StackInfo]  # every stack of the edition (cross-site links need them)
    selected: tuple[str, ...]

    @classmethod
    def load(cls, root: Path, workdir: Path, stacks: Sequence[str]) -> Replica:
        from replicator.engine import StackRunner
        from replicator.engine.properties import reveal
        from replicator.stacks import check_stack, edition_stacks

        if not stacks:
            raise ValueError("no stack to verify")
        first = check_stack(root, stacks[0])
        edition = first.settings.edition
        checked = edition_stacks(root, edition)
        runner = StackRunner(root, workdir)
        infos: dict[str, StackInfo] = {}
        for c in checked:
            state = runner.load_state(c.name)
            infos[c.name] = StackInfo(c.name, c.settings.site, c.settings,
                                      reveal(state.outputs or {}), dict(state.engines or {}))
        unknown = [s for s in stacks if s not in infos]
        if unknown:
            raise ValueError(f"stacks {unknown} are not stacks of edition {edition}")
        return cls(root, workdir, edition, first.topology, infos, tuple(stacks))

    @property
    def selected_sites(self) -> set[str]:
        return {self.stacks[s].site for s in self.selected}

    def stack_of_site(self, site: str) -> StackInfo | None:
        return next((s for s in self.stacks.values() if s.site == site), None)

    def docker_hosts(self) -> list[str]:
        return sorted({h for s in self.stacks.values() for h in s.docker_hosts})

    def __repr__(self) -> str:
        return f"Replica({self.edition!r}, stacks={list(self.selected)})"


# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class ExpectedContainer:
    """One container: a tier instance of a deployed service."""

    name: str
    edition: str
    stack: str
    site: str
    suite: str
    service: str  # deployed name (ovr-aqc)
    model_service: str  # model name (ovr)
    tier: str
    instance: int
    version: str
    venue: str | None
    image: str  # replicator/<tier>:<tag>
    docker_host: str
    ports: tuple[int, ...]
    networks: frozenset[str]
    published: tuple[tuple[int, int], ...] = ()  # (container port, 127.0.0.1 port)

    @property
    def alias(self) -> str:
        return alias(self.service, self.tier)

    @property
    def subject(self) -> str:
        """How reports name it: site/service/tier-instance."""
        return f"{self.site}/{self.service}/{self.tier}-{self.instance}"

    @property
    def labels(self) -> dict[str, str]:
        values = {"edition": self.edition, "stack": self.stack, "site": self.site,
                  "suite": self.suite, "service": self.service, "tier": self.tier,
                  "instance": self.instance, "version": self.version, "venue": self.venue,
                  "image": self.image, "model-service": self.model_service}
        return {LABEL_PREFIX + k: str(v) for k, v in values.items() if v is not None}

    @property
    def program(self) -> str:
        return SUPERVISOR_PROGRAMS[self.tier]

    def __repr__(self) -> str:
        return f"ExpectedContainer({self.name!r})"


@dataclass(frozen=True)
class ExpectedService:
    """A deployed service (one venue's OVR copy counts as one) and its containers."""

    name: str
    site: str
    stack: str
    suite: str
    model_service: str
    version: str
    venue: str | None
    containers: tuple[ExpectedContainer, ...]

    @property
    def subject(self) -> str:
        return f"{self.site}/{self.name}"

    def __repr__(self) -> str:
        return f"ExpectedService({self.subject!r}, {self.version})"


@dataclass(frozen=True)
class ExpectedLink:
    """A declared link: every source instance reaches the target tier's alias on the port."""

    name: str  # source/tier->target/tier:port (ResolvedLink.name)
    source: str
    source_tier: str
    source_site: str
    target: str
    target_tier: str
    target_site: str
    port: int
    protocol: str
    purpose: str
    network: str  # the network that carries it: a circuit or the site's LAN
    sources: tuple[ExpectedContainer, ...]
    targets: tuple[ExpectedContainer, ...]

    @property
    def cross_site(self) -> bool:
        return self.source_site != self.target_site

    @property
    def target_alias(self) -> str:
        return alias(self.target, self.target_tier)

    @property
    def subject(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"ExpectedLink({self.name!r} on {self.network})"


@dataclass(frozen=True)
class ExpectedNetwork:
    name: str
    kind: str  # lan | edge | wan
    stack: str  # the stack that owns it
    docker_host: str
    internal: bool
    subnet: str | None = None

    def __repr__(self) -> str:
        return f"ExpectedNetwork({self.name!r}, {self.kind})"


@dataclass(frozen=True)
class IsolationPair:
    """Two tiers on different sites that no declared link joins: they must not meet.

    Docker networks cannot enforce a direction, so a pair is undeclared only when
    no link joins the two tiers either way. Every instance of `source` probes the
    `target` alias and every address of every `target` container.
    """

    source: str  # deployed service
    source_tier: str
    source_site: str
    target: str
    target_tier: str
    target_site: str
    sources: tuple[ExpectedContainer, ...]
    targets: tuple[ExpectedContainer, ...]
    ports: tuple[int, ...]

    @property
    def name(self) -> str:
        return (f"{self.source_site}/{self.source}/{self.source_tier}-x-"
                f"{self.target_site}/{self.target}/{self.target_tier}")

    @property
    def target_alias(self) -> str:
        return alias(self.target, self.target_tier)

    def __repr__(self) -> str:
        return f"IsolationPair({self.name!r})"


@dataclass
class Expectation:
    """Everything the selected stacks must be, built once from model + settings + outputs."""

    replica: Replica
    containers: list[ExpectedContainer] = field(default_factory=list)
    services: list[ExpectedService] = field(default_factory=list)
    links: list[ExpectedLink] = field(default_factory=list)
    networks: list[ExpectedNetwork] = field(default_factory=list)
    # Every container of the edition (any stack): link and pair ends on other stacks.
    all_containers: dict[str, ExpectedContainer] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # model vs outputs

    @classmethod
    def build(cls, replica: Replica) -> Expectation:
        exp = cls(replica)
        exp._build()
        return exp

    # -- construction ---------------------------------------------------------
    def _build(self) -> None:
        rep = self.replica
        topo, edition = rep.topology, rep.edition
        by_service: dict[tuple[str, str], list[ExpectedContainer]] = {}
        services: dict[str, ExpectedService] = {}
        for info in rep.stacks.values():
            settings = info.settings
            published: dict[tuple[str, str], dict[int, int]] = {}
            for svc, tier, port, host_port in settings.published_targets(topo):
                published.setdefault((svc, tier), {})[port] = host_port
            links = topo.resolved_links(info.venues, site=info.site)
            for d in topo.deployed_services(site=info.site, venues=info.venues):
                containers = []
                for tier in d.tiers:
                    circuits = {
                        circuit_name(edition, link.source.service.name, link.target.service.name)
                        for link in links if link.cross_site and (
                            (link.source == d and link.source_tier == tier.kind)
                            or (link.target == d and link.target_tier == tier.kind))
                    }
                    pub = published.get((d.name, tier.kind), {})
                    for i in range(1, tier.instances + 1):
                        nets = {lan_network(edition, info.site), *circuits}
                        if pub and i == 1:
                            nets.add(edge_network(edition, info.site))
                        name = container_name(edition, info.site, d.name, tier.kind, i)
                        c = ExpectedContainer(
                            name=name,
                            edition=edition, stack=info.name, site=info.site, suite=d.suite,
                            service=d.name, model_service=d.service.name, tier=tier.kind,
                            instance=i, version=d.service.version,
                            venue=d.venue.code if d.venue else None,
                            image=image_name(tier.kind, settings.image_tag),
                            docker_host=info.engine_of(name),
                            ports=tuple(p.port for p in tier.ports),
                            networks=frozenset(nets),
                            published=tuple(sorted(pub.items())) if i == 1 else (),
                        )
                        containers.append(c)
                        self.all_containers[c.name] = c
                        by_service.setdefault((d.name, tier.kind), []).append(c)
                services[d.name] = ExpectedService(
                    name=d.name, site=info.site, stack=info.name, suite=d.suite,
                    model_service=d.service.name, version=d.service.version,
                    venue=d.venue.code if d.venue else None, containers=tuple(containers))
            self._check_outputs(info, [c for c in self.all_containers.values()
                                       if c.stack == info.name])
        sites = rep.selected_sites
        self.services = [s for s in services.values() if s.site in sites]
        self.containers = [c for s in self.services for c in s.containers]
        self._by_tier = by_service

        seen: set[str] = set()
        for info in rep.stacks.values():
            for link in topo.resolved_links(info.venues, site=info.site):
                if link.name in seen:
                    continue
                if link.source.site not in sites and link.target.site not in sites:
                    continue
                seen.add(link.name)
                network = (circuit_name(edition, link.source.service.name,
                                        link.target.service.name)
                           if link.cross_site else lan_network(edition, link.source.site))
                self.links.append(ExpectedLink(
                    name=link.name, source=link.source.name, source_tier=link.source_tier,
                    source_site=link.source.site, target=link.target.name,
                    target_tier=link.target_tier, target_site=link.target.site,
                    port=link.port, protocol=link.protocol, purpose=link.purpose,
                    network=network,
                    sources=tuple(by_service.get((link.source.name, link.source_tier), ())),
                    targets=tuple(by_service.get((link.target.name, link.target_tier), ())),
                ))
        self._build_networks()

    def _build_networks(self) -> None:
        rep, edition = self.replica, self.replica.edition
        owner_site = rep.topology.wan.owner
        owner = rep.stack_of_site(owner_site)
        for name in rep.selected:
            info = rep.stacks[name]
            self.networks.append(ExpectedNetwork(
                lan_network(edition, info.site), "lan", info.name, info.docker_host, True,
                str(info.settings.subnets.lan)))
            if info.settings.publish:
                self.networks.append(ExpectedNetwork(
                    edge_network(edition, info.site), "edge", info.name, info.docker_host,
                    False, str(info.settings.subnets.edge)))
        if owner is not None and owner.name in rep.selected:
            circuits = sorted({c for cont in self.all_containers.values() for c in cont.networks
                               if c.startswith(f"{edition}-wan-")})
            wan_out = owner.outputs.get("wanNetworks") or {}
            for c in circuits:
                subnet = (wan_out.get(c) or {}).get("subnet")
                self.networks.append(ExpectedNetwork(c, "wan", owner.name, owner.docker_host,
                                                     True, subnet))

    def _check_outputs(self, info: StackInfo, expected: list[ExpectedContainer]) -> None:
        """Model versus the stack's outputs: a stack not updated since the model changed."""
        if not info.deployed:
            self.problems.append(f"stack {info.name} has no outputs: it was never deployed "
                                 f"(run `replicator up {info.name}`)")
            return
        declared = set(info.outputs.get("containers") or {})
        model = {c.name for c in expected}
        if declared != model:
            missing, extra = sorted(model - declared), sorted(declared - model)
            self.problems.append(
                f"stack {info.name}: its outputs do not match the model "
                f"(not in outputs: {missing or '-'}; not in model: {extra or '-'}); "
                f"run `replicator up {info.name}`")

    # -- queries ---------------------------------------------------------------
    def tier_containers(self, service: str, tier: str) -> list[ExpectedContainer]:
        return list(self._by_tier.get((service, tier), ()))

    @cached_property
    def declared_pairs(self) -> set[frozenset[tuple[str, str]]]:
        """Unordered {(service, tier), (service, tier)} of every declared link of the edition."""
        out: set[frozenset[tuple[str, str]]] = set()
        for info in self.replica.stacks.values():
            for link in self.replica.topology.resolved_links(info.venues, site=info.site):
                out.add(frozenset({(link.source.name, link.source_tier),
                                   (link.target.name, link.target_tier)}))
        return out

    def isolation_pairs(self, sample: int | None = None, seed: int = 2024) -> list[IsolationPair]:
        """Undeclared cross-site tier pairs touching a selected site; all, or a seeded sample.

        Each unordered pair appears once, its source being the end that sorts first
        (site, service, tier), so the same model always gives the same pairs.
        """
        tiers = sorted(self._by_tier.items(), key=lambda kv: (kv[1][0].site, kv[0]))
        sites = self.replica.selected_sites
        pairs: list[IsolationPair] = []
        for i, ((svc_a, tier_a), cont_a) in enumerate(tiers):
            for (svc_b, tier_b), cont_b in tiers[i + 1:]:
                site_a, site_b = cont_a[0].site, cont_b[0].site
                if site_a == site_b or (site_a not in sites and site_b not in sites):
                    continue
                if frozenset({(svc_a, tier_a), (svc_b, tier_b)}) in self.declared_pairs:
                    continue
                pairs.append(IsolationPair(
                    source=svc_a, source_tier=tier_a, source_site=site_a,
                    target=svc_b, target_tier=tier_b, target_site=site_b,
                    sources=tuple(cont_a), targets=tuple(cont_b),
                    ports=tuple(sorted(set(cont_b[0].ports)))))
        if sample is not None and 0 < sample < len(pairs):
            rng = random.Random(seed)
            chosen = set(rng.sample(range(len(pairs)), sample))
            pairs = [p for k, p in enumerate(pairs) if k in chosen]
        return pairs

    def declared_counts(self) -> dict[str, int]:
        return {"services": len(self.services), "containers": len(self.containers),
                "links": len(self.links), "networks": len(self.networks)}

    def __repr__(self) -> str:
        return (f"Expectation({self.replica.edition!r}, services={len(self.services)}, "
                f"containers={len(self.containers)}, links={len(self.links)})")


def group_by(items: Iterable[Any], key: str) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for item in items:
        out.setdefault(getattr(item, key), []).append(item)
    return out
