"""`replicator:index:InterSiteNetworks`: the circuits between sites, owned by one stack.

One internal network per pair of services that a declared cross-site link
joins, so that a container reaches another site only where a link says so
(a single shared WAN would let every attached container reach every other).
The owner stack exports the circuits; the other sites find them through a
StackReference.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components import naming
from replicator.topology import Topology


def circuits_of(topology: Topology, edition: str) -> dict[str, tuple[str, str]]:
    """circuit name -> the two services it joins, for every cross-site link of the model."""
    circuits: dict[str, tuple[str, str]] = {}
    for link in topology.links:
        a = topology.service(link.source_service)
        b = topology.service(link.target_service)
        if a.site != b.site:
            circuits[naming.circuit_name(edition, a.name, b.name)] = tuple(sorted((a.name, b.name)))
    return circuits


class InterSiteNetworks(pulumi.ComponentResource):
    def __init__(self, name: str, topology: Topology, edition: str, stack: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("replicator:index:InterSiteNetworks", name, None, opts)
        circuits = circuits_of(topology, edition)
        subnets = naming.allocate_circuit_subnets(str(topology.wan.supernet), list(circuits))
        self.networks: dict[str, docker.Network] = {}
        for cname, (a, b) in sorted(circuits.items()):
            self.networks[cname] = docker.Network(
                cname,
                name=cname,
                driver="bridge",
                internal=True,
                ipam_configs=[docker.NetworkIpamConfigArgs(subnet=subnets[cname])],
                labels=[docker.NetworkLabelArgs(label=lab["label"], value=lab["value"])
                        for lab in naming.labels(edition=edition, stack=stack, network="wan",
                                               circuit=f"{a}--{b}")],
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        self.subnets = subnets
        self.circuits = circuits
        self.register_outputs({"circuits": {c: n.name for c, n in self.networks.items()}})
