"""`replicator:index:InterSiteNetworks`: the circuits between sites, owned by one stack.

One internal network per pair of services that a declared cross-site link
joins, so that a container reaches another site only where a link says so
(a single shared WAN would let every attached container reach every other).
The owner stack exports the circuits; the other sites find them through a
StackReference.

When the edition's stacks run on several Docker engines (joined in a Docker
Swarm), each circuit is an attachable overlay network, made on the owner's
engine (a swarm manager) and joined by name from the other engines; encrypted
unless `replicator:wanEncrypted` is false.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from replicator import naming
from replicator.topology import Topology


def circuits_of(topology: Topology, edition: str) -> dict[str, tuple[str, str]]:
    """circuit name -> the two services it joins, for every cross-site link of the model."""
    circuits: dict[str, tuple[str, str]] = {}
    for link in topology.links:
        a = topology.service(link.source_service)
        b = topology.service(link.target_service)
        if a.site != b.site:
            first, second = sorted((a.name, b.name))
            circuits[naming.circuit_name(edition, a.name, b.name)] = (first, second)
    return circuits


class InterSiteNetworks(pulumi.ComponentResource):
    def __init__(self, name: str, topology: Topology, edition: str, stack: str,
                 opts: pulumi.ResourceOptions | None = None, *, overlay: bool = False,
                 encrypted: bool = True):
        super().__init__("replicator:index:InterSiteNetworks", name, None, opts)
        if overlay and not encrypted:
            pulumi.log.warn("the inter-site circuits are overlay networks without encryption: "
                            "replicator:wanEncrypted is false (`replicator hosts up` sets it when "
                            "the kernel has no ESP transform)", self)
        circuits = circuits_of(topology, edition)
        subnets = naming.allocate_circuit_subnets(str(topology.wan.supernet), list(circuits))
        self.networks: dict[str, docker.Network] = {}
        for cname, (a, b) in sorted(circuits.items()):
            self.networks[cname] = docker.Network(
                cname,
                name=cname,
                driver="overlay" if overlay else "bridge",
                attachable=True if overlay else None,  # None: unchanged inputs on one engine
                options={"encrypted": ""} if overlay and encrypted else None,
                internal=True,
                ipam_configs=[docker.NetworkIpamConfigArgs(subnet=subnets[cname])],
                labels=[docker.NetworkLabelArgs(label=lab["label"], value=lab["value"])
                        for lab in naming.labels(edition=edition, stack=stack, network="wan",
                                               circuit=f"{a}--{b}")],
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        self.subnets = subnets
        self.circuits = circuits
        self.driver = "overlay" if overlay else "bridge"
        self.register_outputs({"circuits": {c: n.name for c, n in self.networks.items()}})
