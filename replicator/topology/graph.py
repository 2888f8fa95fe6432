"""Diagrams of a topology: Mermaid flowchart or Graphviz DOT.

One subgraph per site, one node per deployed service, one edge per resolved
link labelled with the tiers, port and protocol. Cross-site edges are dashed
(and coloured in DOT) because they are the ones that cross the WAN.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from replicator.topology.deployment import DeployedService, ResolvedLink
from replicator.topology.model import Topology

FORMATS = ("mermaid", "dot")


def _node_id(service: DeployedService) -> str:
    # Mermaid ids may not contain hyphens safely (`a-b --> c`), DOT ids are quoted anyway.
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{service.site}__{service.name}")


def _node_label(service: DeployedService) -> str:
    label = service.name
    if service.venue is not None:
        label += f" ({service.venue.display_name})"
    return label


def _edge_label(link: ResolvedLink) -> str:
    return f"{link.source_tier}→{link.target_tier} {link.port}/{link.protocol}"


def _mermaid_text(text: str) -> str:
    # Inside "..." Mermaid accepts entity codes; a bare quote would end the label.
    return text.replace('"', "#quot;")


def to_mermaid(topology: Topology, venues: Sequence[str] | None = None) -> str:
    services = topology.deployed_services(None, venues)
    links = topology.resolved_links(venues)
    lines = [
        "flowchart LR",
        f"  %% {topology.edition.name}: {len(services)} deployed services, {len(links)} links;",
        "  %% dotted edges cross sites (the WAN)",
    ]
    for key, site in topology.sites.items():
        lines.append(f'  subgraph {key}["{_mermaid_text(f"{key.upper()} - {site.title}")}"]')
        for service in services:
            if service.site == key:
                lines.append(f'    {_node_id(service)}["{_mermaid_text(_node_label(service))}"]')
        lines.append("  end")
    for link in links:
        arrow = "-.->" if link.cross_site else "-->"
        lines.append(
            f'  {_node_id(link.source)} {arrow}|"{_mermaid_text(_edge_label(link))}"| '
            f"{_node_id(link.target)}"
        )
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(topology: Topology, venues: Sequence[str] | None = None) -> str:
    services = topology.deployed_services(None, venues)
    links = topology.resolved_links(venues)
    lines = [
        f'digraph "{_dot_text(topology.edition.code)}" {{',
        f'  label="{_dot_text(topology.edition.name)}; dashed red edges cross sites";',
        "  rankdir=LR;",
        "  node [shape=box, style=rounded, fontname=Helvetica];",
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    for key, site in topology.sites.items():
        lines.append(f"  subgraph cluster_{key} {{")
        lines.append(f'    label="{_dot_text(f"{key.upper()} - {site.title}")}";')
        for service in services:
            if service.site == key:
                lines.append(
                    f'    "{_node_id(service)}" [label="{_dot_text(_node_label(service))}"];'
                )
        lines.append("  }")
    for link in links:
        style = ", style=dashed, color=red" if link.cross_site else ""
        lines.append(
            f'  "{_node_id(link.source)}" -> "{_node_id(link.target)}" '
            f'[label="{_dot_text(_edge_label(link))}"{style}];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(topology: Topology, fmt: str, venues: Sequence[str] | None = None) -> str:
    if fmt == "mermaid":
        return to_mermaid(topology, venues)
    if fmt == "dot":
        return to_dot(topology, venues)
    raise ValueError(f"unknown graph format {fmt!r}; use one of {', '.join(FORMATS)}")
