"""`replicator graph` and the Mermaid / DOT renderers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from replicator.topology import Topology, load_edition
from replicator.topology.graph import render, to_dot, to_mermaid

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENUES = ["AQC", "STA", "BER"]


@pytest.fixture(scope="module")
def paris() -> Topology:
    return load_edition(PROJECT_ROOT, "paris2024")


def _node_id(site: str, name: str) -> str:
    return f"{site}__{name}".replace("-", "_")


def test_mermaid_has_every_service_and_link(paris: Topology) -> None:
    text = to_mermaid(paris, VENUES)
    assert text.startswith("flowchart LR\n")
    services = paris.deployed_services(None, VENUES)
    for service in services:
        node = _node_id(service.site, service.name)
        assert re.search(rf'^    {node}\["{re.escape(service.name)}', text, re.MULTILINE), (
            service.name
        )
    assert 'ovr_aqc["ovr-aqc (Paris Aquatics Centre)"]' in text
    edges = [line for line in text.splitlines() if "-->" in line or "-.->" in line]
    links = paris.resolved_links(VENUES)
    assert len(edges) == len(links)
    for link, edge in zip(links, edges, strict=True):
        arrow = "-.->" if link.cross_site else "-->"
        source = _node_id(link.source.site, link.source.name)
        target = _node_id(link.target.site, link.target.name)
        label = f"{link.source_tier}→{link.target_tier} {link.port}/{link.protocol}"
        assert edge == f'  {source} {arrow}|"{label}"| {target}'
    assert sum("-.->" in e for e in edges) == sum(link.cross_site for link in links) > 0


def test_mermaid_subgraph_per_site(paris: Topology) -> None:
    text = to_mermaid(paris, VENUES)
    for key, site in paris.sites.items():
        assert f'  subgraph {key}["{key.upper()} - {site.title}"]' in text
    assert text.count("\n  end\n") == len(paris.sites)
    # each node sits inside its own site's subgraph
    toc_block = text.split('subgraph toc["')[1].split("\n  end\n")[0]
    assert "toc__ovr_sta" in toc_block
    assert "itl__accreditation" not in toc_block


def test_dot_has_every_service_and_link(paris: Topology) -> None:
    text = to_dot(paris, VENUES)
    assert text.startswith('digraph "paris2024" {\n') and text.endswith("}\n")
    for key in paris.sites:
        assert f"  subgraph cluster_{key} {{" in text
    for service in paris.deployed_services(None, VENUES):
        assert f'"{_node_id(service.site, service.name)}" [label="' in text
    edges = [line for line in text.splitlines() if " -> " in line]
    links = paris.resolved_links(VENUES)
    assert len(edges) == len(links)
    for link, edge in zip(links, edges, strict=True):
        assert f"{link.port}/{link.protocol}" in edge
        assert ("style=dashed" in edge) is link.cross_site
    # braces balance: the document is well formed at least at that level
    assert text.count("{") == text.count("}")


def test_all_venues_by_default(paris: Topology) -> None:
    text = to_mermaid(paris)
    assert sum(f"toc__ovr_{v.code.lower()}[" in text for v in paris.venues) == 43
    assert render(paris, "dot") == to_dot(paris)
    with pytest.raises(ValueError, match="unknown graph format"):
        render(paris, "svg")


# -- the command ------------------------------------------------------------


def _run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from replicator.cli import main

    monkeypatch.setenv("REPLICATOR_PROJECT", str(PROJECT_ROOT))
    monkeypatch.setattr(sys, "argv", ["replicator", "graph", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_command_prints_mermaid(monkeypatch, capsys, paris: Topology) -> None:
    code, out, _ = _run(monkeypatch, capsys, "--venues", "AQC,STA,BER")
    assert code == 0
    assert out == to_mermaid(paris, VENUES)


def test_command_writes_dot_file(monkeypatch, capsys, tmp_path: Path, paris: Topology) -> None:
    target = tmp_path / "paris.dot"
    code, out, err = _run(monkeypatch, capsys, "--format", "dot", "--output", str(target))
    assert code == 0
    assert out == ""
    assert target.read_text(encoding="utf-8") == to_dot(paris)
    assert str(target.name) in err


def test_command_unknown_edition(monkeypatch, capsys) -> None:
    code, out, err = _run(monkeypatch, capsys, "--edition", "la2028")
    assert code == 2
    assert out == ""
    assert "la2028" in err and "paris2024" in err


def test_command_unknown_venue(monkeypatch, capsys) -> None:
    code, _, err = _run(monkeypatch, capsys, "--venues", "AQC,XYZ")
    assert code == 2
    assert "XYZ" in err


def test_command_bad_format(monkeypatch) -> None:
    from typer.testing import CliRunner

    from replicator.cli import app

    monkeypatch.setenv("REPLICATOR_PROJECT", str(PROJECT_ROOT))
    result = CliRunner().invoke(app, ["graph", "--format", "svg"])
    assert result.exit_code == 2
    assert "svg" in result.output
