"""`replicator:index:Link`: a declared flow between two service tiers.

A link creates nothing by itself (the network that carries it belongs to the
site or to the WAN owner); it is a component so that the state and the stack
outputs hold the declared graph the verifier checks against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pulumi


@dataclass
class LinkArgs:
    source: str
    source_tier: str
    target: str
    target_tier: str
    port: int
    protocol: str
    purpose: str
    cross_site: bool
    network: str


class Link(pulumi.ComponentResource):
    def __init__(self, name: str, args: LinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("replicator:index:Link", name, None, opts)
        self.args = args
        self.register_outputs(asdict(args))
