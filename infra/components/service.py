"""`replicator:index:Service`: one deployed service: a container per tier instance.

Each container joins its site's LAN, the inter-site circuits of the declared
cross-site links its tier serves (and nothing else), and the site's edge
network only when it publishes a port on 127.0.0.1. A db tier gets a volume.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from replicator import naming

# The container defaults of the project: an init as PID 1 (no systemd in the
# images), a short DNS timeout (an unknown name on an internal network hangs
# ~20 s otherwise), never privileged.
DNS_OPTIONS = ["timeout:1", "attempts:1"]
DATA_PATHS = {"db": "/var/lib/postgresql"}


@dataclass
class TierPlacement:
    """Where one tier of a deployed service goes."""

    kind: str
    instances: int
    ports: list[int]
    image_ids: dict[str, pulumi.Input[str]]  # engine -> the tier image's id there
    image_name: str
    circuits: list[pulumi.Input[str]]  # names of inter-site networks to join
    # container port -> 127.0.0.1 host port; a host port can be bound once, so it
    # reaches the tier's first instance.
    published: dict[int, int]


@dataclass
class ServiceArgs:
    edition: str
    stack: str
    site: str
    suite: str
    service: str  # the model's service name (ovr)
    deployed_name: str  # the deployed copy (ovr-aqc)
    version: str
    venue: str | None
    lan: pulumi.Input[str]
    edges: dict[str, pulumi.Input[str]]  # engine -> edge network name, where one exists
    tiers: list[TierPlacement]
    engine_of: Callable[[str], str]  # container name -> the engine it runs on
    # engine -> provider, when the site spans several engines (else the inherited one)
    providers: Mapping[str, pulumi.ProviderResource] = field(default_factory=dict)


class Service(pulumi.ComponentResource):
    containers: dict[str, docker.Container]

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("replicator:index:Service", name, None, opts)
        self.containers = {}
        child = pulumi.ResourceOptions(parent=self)
        for tier in args.tiers:
            for instance in range(1, tier.instances + 1):
                cname = naming.container_name(args.edition, args.site, args.deployed_name,
                                              tier.kind, instance)
                self.containers[cname] = self._container(cname, args, tier, instance, child)
        self.register_outputs({
            "containers": {n: c.id for n, c in self.containers.items()},
        })

    def _container(self, cname: str, args: ServiceArgs, tier: TierPlacement, instance: int,
                   child: pulumi.ResourceOptions) -> docker.Container:
        alias = naming.alias(args.deployed_name, tier.kind)
        published = tier.published if instance == 1 else {}
        engine = args.engine_of(cname)
        if args.providers:  # the site spans engines: this container's volume goes with it
            child = pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(provider=args.providers[engine]))
        networks = []
        edge = args.edges.get(engine)
        if published and edge is not None:
            # First network: the one Docker publishes ports through (LAN is internal).
            networks.append(docker.ContainerNetworksAdvancedArgs(name=edge, aliases=[alias]))
        networks.append(docker.ContainerNetworksAdvancedArgs(name=args.lan, aliases=[alias]))
        networks += [docker.ContainerNetworksAdvancedArgs(name=c, aliases=[alias])
                     for c in tier.circuits]
        volumes = []
        if tier.kind in DATA_PATHS:
            volume = docker.Volume(
                naming.volume_name(cname),
                name=naming.volume_name(cname),
                labels=[docker.VolumeLabelArgs(label=lab["label"], value=lab["value"])
                        for lab in naming.labels(edition=args.edition, stack=args.stack,
                                               site=args.site, service=args.deployed_name,
                                               tier=tier.kind, instance=instance)],
                opts=child,
            )
            volumes.append(docker.ContainerVolumeArgs(volume_name=volume.name,
                                                      container_path=DATA_PATHS[tier.kind]))
        labels = naming.labels(
            edition=args.edition, stack=args.stack, site=args.site, suite=args.suite,
            service=args.deployed_name, tier=tier.kind, instance=instance,
            version=args.version, venue=args.venue, image=tier.image_name,
            model_service=args.service,
        )
        envs = [
            f"REPLICATOR_EDITION={args.edition}", f"REPLICATOR_SITE={args.site}",
            f"REPLICATOR_SUITE={args.suite}", f"REPLICATOR_SERVICE={args.deployed_name}",
            f"REPLICATOR_TIER={tier.kind}", f"REPLICATOR_INSTANCE={instance}",
            f"REPLICATOR_VERSION={args.version}",
        ]
        if args.venue:
            envs.append(f"REPLICATOR_VENUE={args.venue}")
        return docker.Container(
            cname,
            name=cname,
            hostname=cname,
            image=tier.image_ids[engine],
            init=True,
            restart="unless-stopped",
            must_run=True,
            dns_opts=DNS_OPTIONS,
            envs=envs,
            labels=[docker.ContainerLabelArgs(label=lab["label"], value=lab["value"]) for lab in labels],
            networks_advanced=networks,
            ports=[docker.ContainerPortArgs(internal=p, external=h, ip="127.0.0.1")
                   for p, h in sorted(published.items())],
            volumes=volumes,
            # The name is fixed, so the old container must go before its replacement.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=True)),
        )
