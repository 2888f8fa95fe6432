"""The report files: self-contained HTML with inline SVG charts, Markdown, JSON."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib  # noqa: F401 - the test extra installs it; missing, this module fails
import pytest

from replicator.report.render import COLOURS, STACK_COLOURS, inline_svg, write_report
from tests.unit.report.report_cases import hand_report


class Collect(HTMLParser):
    """Every tag with its attributes, and the id of the section each one is in."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None], str]] = []
        self.section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id") or ""
        self.tags.append((tag, a, self.section))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict[str, Path]]:
    data = hand_report()
    out = tmp_path_factory.mktemp("report")
    return data, write_report(data, out)


def test_writes_the_three_formats_and_the_charts(written: tuple[dict, dict[str, Path]]) -> None:
    data, paths = written
    assert set(paths) == {"html", "markdown", "json"}
    out = paths["html"].parent
    assert json.loads(paths["json"].read_text()) == data
    for name in ("servers-by-edition", "containers-per-host", "co2e-breakdown"):
        svg = (out / "charts" / f"{name}.svg").read_text()
        assert "<svg" in svg
        assert f"(charts/{name}.svg)" in paths["markdown"].read_text()


def test_html_is_self_contained(written: tuple[dict, dict[str, Path]]) -> None:
    html = written[1]["html"].read_text()
    parser = Collect()
    parser.feed(html)
    tags = parser.tags
    assert not [t for t, _, _ in tags if t in ("script", "link", "iframe", "img", "object")]
    external = [(t, a, s) for t, a, s in tags
                for key in ("src", "href", "xlink:href", "srcset", "action", "data")
                if re.match(r"^\s*(https?:)?//", a.get(key) or "")]
    # The only web addresses: plain citation links in the sources table.
    assert external and all(t == "a" and s == "sources" for t, _, s in external)
    assert {a["href"] for _, a, _ in external} == {
        "https://example.org/london", "https://www.cloudcarbonfootprint.org/docs/methodology"}
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html)
    assert "@import" not in html
    assert "<style>" in html  # inline CSS


def test_html_inlines_three_svg_charts_with_unique_ids(
        written: tuple[dict, dict[str, Path]]) -> None:
    html = written[1]["html"].read_text()
    parser = Collect()
    parser.feed(html)
    svgs = [a for t, a, _ in parser.tags if t == "svg"]
    assert len(svgs) == 3
    assert all("viewbox" in a for a in svgs)
    ids = [a["id"] for _, a, _ in parser.tags if a.get("id")]
    assert len(ids) == len(set(ids)), "ids clash between the inline charts"
    # Every internal reference points at an id of the page.
    for ref in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', html):
        assert (ref[0] or ref[1]) in ids
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    for colour in [*COLOURS.values(), *STACK_COLOURS[:3]]:
        # Solid bars: style="fill: #..."; the hatched (modelled) bar: a pattern's fill="#...".
        assert re.search(rf'fill(: |="){colour}', html), colour


def test_html_shows_the_figures_with_their_formulas(written: tuple[dict, dict[str, Path]]) -> None:
    html = written[1]["html"].read_text()
    for text in (
        "= 3 x 150 x 1,000 x 2 / 1000 = 900 kWh",  # cloud-dc energy
        "kWh x grid_intensity.PF / 1000 = 600 x 200 / 1000 = 120 kgCO2e",
        "operational + embodied = 11.25 + 200 = 211.25",
        "London 2012 servers / Rio 2016 servers = 700 / 350 = 2",
        "= 100 / (100 x 4) = 0.25",
        "1,825",
    ):
        assert text in html, text
    for section in ("summary", "charts", "servers", "replica", "ratios", "footprint", "inputs",
                    "sources"):
        assert f'<section id="{section}"' in html
    # The inputs table: each key with its origin.
    assert '<code>production.pue</code>' in html
    assert 'origin-set">set by user' in html
    assert 'origin-public">public' in html


def test_markdown_tables(written: tuple[dict, dict[str, Path]]) -> None:
    md = written[1]["markdown"].read_text()
    assert md.startswith("# Sustainability server-count report: Hand Games")
    assert "| London 2012 | 2012 | 700 | public figure (cited) | src-london |" in md
    assert "| Paris 2099 replica |  | 1 | measured (replica hosts) |" in md
    assert "| Total CO2e | 1,825 kg/year | 211.2 kg/year |" in md  # 211.25 to one decimal
    assert "`kWh x grid_intensity.FR / 1000 = 900 x 50 / 1000 = 45 kgCO2e`" in md
    assert "| `server.idle_w` | 100 | W | set by user |" in md
    # Every table row has the column count of its header.
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("| ---", "| :--")):
            cols = lines[i - 1].count("|")
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert lines[j].replace("\\|", "").count("|") == cols, lines[j]
                j += 1


def test_inline_svg_prefixes_ids() -> None:
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="10pt" height="5pt" '
           'viewBox="0 0 10 5" xmlns="http://www.w3.org/2000/svg"><metadata>x</metadata>'
           '<defs><clipPath id="p1"><rect/></clipPath><path id="m2"/></defs>'
           '<g clip-path="url(#p1)"><use xlink:href="#m2"/></g></svg>')
    out = inline_svg(svg, "c9", 'a "title"')
    assert out.startswith("<svg viewBox")
    assert 'width=' not in out.split(">")[0]
    assert 'id="c9-p1"' in out and "url(#c9-p1)" in out and 'href="#c9-m2"' in out
    assert "<metadata>" not in out
    assert 'aria-label="a &quot;title&quot;"' in out
