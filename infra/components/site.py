"""`replicator:index:Site`: one replica site (ITL, CTOC or TOC) of one edition.

A site owns its LAN (internal: no route out), an edge network for the
containers that publish a port on 127.0.0.1, one image reference per tier
kind, and a `Service` per deployed service. The inter-site circuits are not
the site's: they come from the WAN owner's stack.

A site spanning several engines (`replicator:dockerHosts`, engines joined in a
swarm) places each container by name (`StackSettings.engine_of`). Its LAN is
then an attachable overlay made on the first engine (a swarm manager); the
images are referenced on every engine, and an edge network (a local bridge,
as ports are published by the engine that runs the container) exists on each
engine that runs a publishing container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from components.link import Link, LinkArgs
from components.service import Service, ServiceArgs, TierPlacement

from replicator import naming
from replicator.images.recipes import deployed_image_ref
from replicator.topology import StackSettings, Topology


@dataclass
class SiteArgs:
    topology: Topology
    settings: StackSettings
    # circuit name -> network name output, from the WAN owner (or this stack if it owns it)
    circuits: dict[str, pulumi.Input[str]]
    # engine -> its provider, when the site spans several engines (else the inherited one)
    providers: Mapping[str, pulumi.ProviderResource] = field(default_factory=dict)


class Site(pulumi.ComponentResource):
    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("replicator:index:Site", name, None, opts)
        topo, cfg = args.topology, args.settings
        edition, site, stack = cfg.edition, cfg.site, cfg.stack
        child = pulumi.ResourceOptions(parent=self)
        replace_first = pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        common = {"edition": edition, "stack": stack, "site": site}

        deployed = topo.deployed_services(site=site, venues=cfg.venues)
        links = [link for link in topo.resolved_links(cfg.venues, site=site)]
        published: dict[tuple[str, str], dict[int, int]] = {}
        for svc_name, tier_kind, port, host_port in cfg.published_targets(topo):
            published.setdefault((svc_name, tier_kind), {})[port] = host_port

        engines = cfg.engines
        spans = len(engines) > 1

        def on(engine: str, opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
            """`opts` on `engine`: the inherited provider for the first, else its own."""
            if engine == engines[0]:
                return opts
            return pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(provider=args.providers[engine]))

        def per_engine(name: str, engine: str) -> str:
            """Logical name of a per-engine resource; the first engine keeps the plain one."""
            return name if engine == engines[0] else f"{name}-{naming.engine_key(engine)}"

        self.lan = docker.Network(
            naming.lan_network(edition, site),
            name=naming.lan_network(edition, site),
            driver="overlay" if spans else "bridge",
            attachable=True if spans else None,  # None: unchanged inputs on one engine
            internal=True,
            ipam_configs=[docker.NetworkIpamConfigArgs(subnet=str(cfg.subnets.lan))],
            labels=_net_labels(naming.labels(**common, network="lan")),
            opts=replace_first,
        )
        # A published port is bound by the engine running the tier's first instance.
        publishers = {cfg.engine_of(naming.container_name(edition, site, svc, kind, 1))
                      for svc, kind in published}
        self.edges: dict[str, docker.Network] = {
            engine: docker.Network(
                per_engine(naming.edge_network(edition, site), engine),
                name=naming.edge_network(edition, site),
                driver="bridge",
                internal=False,
                ipam_configs=[docker.NetworkIpamConfigArgs(subnet=str(cfg.subnets.edge))],
                labels=_net_labels(naming.labels(**common, network="edge")),
                opts=on(engine, replace_first),
            )
            for engine in engines if engine in publishers
        }
        self.edge = next(iter(self.edges.values()), None)

        kinds = sorted({tier.kind for d in deployed for tier in d.tiers})
        refs = {kind: deployed_image_ref(kind, cfg.image_tag) for kind in kinds}
        # engine -> tier kind -> image
        self.images = {
            engine: {kind: docker.RemoteImage(per_engine(f"image-{kind}", engine), name=refs[kind],
                                              keep_locally=True, opts=on(engine, child))
                     for kind in kinds}
            for engine in engines
        }

        self.services: dict[str, Service] = {}
        for d in deployed:
            tiers = []
            for tier in d.tiers:
                circuits = sorted({
                    naming.circuit_name(edition, link.source.service.name, link.target.service.name)
                    for link in links if link.cross_site and (
                        (link.source == d and link.source_tier == tier.kind)
                        or (link.target == d and link.target_tier == tier.kind))
                })
                tiers.append(TierPlacement(
                    kind=tier.kind, instances=tier.instances,
                    ports=[p.port for p in tier.ports],
                    image_ids={e: images[tier.kind].image_id for e, images in self.images.items()},
                    image_name=refs[tier.kind],
                    circuits=[args.circuits[c] for c in circuits],
                    published=published.get((d.name, tier.kind), {}),
                ))
            self.services[d.name] = Service(d.name, ServiceArgs(
                edition=edition, stack=stack, site=site, suite=d.suite, service=d.service.name,
                deployed_name=d.name, version=d.service.version,
                venue=d.venue.code if d.venue else None,
                lan=self.lan.name, edges={e: n.name for e, n in self.edges.items()}, tiers=tiers,
                engine_of=cfg.engine_of, providers=args.providers if spans else {},
            ), opts=child)

        # Links are recorded as components so the state shows the declared graph;
        # a cross-site link names the circuit network that carries it.
        self.links = [
            Link(link.name, LinkArgs(
                source=link.source.name, source_tier=link.source_tier,
                target=link.target.name, target_tier=link.target_tier,
                port=link.port, protocol=link.protocol, purpose=link.purpose,
                cross_site=link.cross_site,
                network=(naming.circuit_name(edition, link.source.service.name,
                                             link.target.service.name)
                         if link.cross_site else naming.lan_network(edition, site)),
            ), opts=child)
            for link in links if link.source.site == site
        ]
        self.register_outputs({"lan": self.lan.name})


def _net_labels(labels: list[dict[str, str]]) -> list[docker.NetworkLabelArgs]:
    return [docker.NetworkLabelArgs(label=lab["label"], value=lab["value"]) for lab in labels]
