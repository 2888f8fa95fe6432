"""The HTML report in a real headless Chromium: charts and tables are drawn, offline.

Chromium (Debian package `chromium`) takes a screenshot of the page and dumps
the DOM it built. The screenshot is searched for the charts' bar colours in
the places the layout puts each chart; the DOM for the inline SVG charts and
the tables' rows. The page is loaded from a file with networking disabled, and
the HTML references no external resource.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from replicator.report.render import COLOURS, STACK_COLOURS, write_report
from tests.integration.report.browser import CHROMIUM, HEIGHT, MISSING, WIDTH, chromium
from tests.unit.report.report_cases import hand_report



@pytest.fixture(scope="module", autouse=True)
def _chromium_installed() -> None:
    """A missing browser fails loudly: scripts/setup.sh --with-browser installs it."""
    if not CHROMIUM.exists():
        pytest.fail(MISSING, pytrace=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("chromium")
    paths = write_report(hand_report(), tmp / "report")
    url = paths["html"].resolve().as_uri()
    shot = tmp / "report.png"
    proc = chromium(tmp, f"--screenshot={shot}", url)
    assert shot.is_file(), f"no screenshot: {proc.returncode}\n{proc.stderr[-2000:]}"
    dom = chromium(tmp, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    return {"html": paths["html"].read_text(), "dom": dom.stdout, "pixels": pixels,
            "shot": shot}


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def where(pixels: object, colour: str, tolerance: int = 6) -> tuple[object, object]:
    """(ys, xs) of the pixels of `colour`."""
    diff = np.abs(pixels - np.array(rgb(colour), dtype=np.int16)).max(axis=2)
    return np.nonzero(diff <= tolerance)


def test_screenshot_is_the_whole_window(page: dict) -> None:
    assert page["pixels"].shape == (HEIGHT, WIDTH, 3)


def test_bar_colours_are_drawn_where_each_chart_is(page: dict) -> None:
    px = page["pixels"]
    half = WIDTH // 2
    # Chart 1 (first row, left): past editions (public), production (modelled, hatched).
    ys_pub, xs_pub = where(px, COLOURS["public"])
    assert len(xs_pub) > 2000, "no bars of past editions"
    assert xs_pub.max() < half
    _, xs_mod = where(px, COLOURS["modelled"])
    assert len(xs_mod) > 100 and xs_mod.max() < half
    _, xs_meas = where(px, COLOURS["measured"])
    assert len(xs_meas) > 20 and xs_meas.max() < half  # at least its legend key
    chart1_bottom = ys_pub.max()
    # Chart 2 (first row, right): containers per host, one colour per stack.
    for colour in STACK_COLOURS[:3]:
        ys, xs = where(px, colour)
        assert len(xs) > 200, f"no stack bar in {colour}"
        assert xs.min() > half
        assert ys.max() < chart1_bottom + 150
    # Chart 3 (second row, left): CO2e, operational and embodied.
    for key in ("operational", "embodied"):
        ys, xs = where(px, COLOURS[key])
        assert len(xs) > 500, f"no {key} bar"
        assert xs.max() < half
        assert ys.min() > chart1_bottom


def test_tables_are_drawn_below_the_charts(page: dict) -> None:
    px = page["pixels"]
    # Text and table rules below the charts: many rows that are not all white.
    lower = px[1300:HEIGHT]
    ink_rows = int(((lower < 200).any(axis=2)).any(axis=1).sum())
    assert ink_rows > 300


def test_the_dom_has_the_charts_and_tables(page: dict) -> None:
    dom = page["dom"]
    for chart in ("servers-by-edition", "containers-per-host", "co2e-breakdown"):
        m = re.search(rf'<figure id="chart-{chart}"[^>]*>(.*?)</figure>', dom, re.DOTALL)
        assert m, chart
        svg = m.group(1)
        assert "<svg" in svg and len(re.findall(r"<path", svg)) > 10, chart
    def rows(table: str) -> int:
        m = re.search(rf'<table id="{table}">(.*?)</table>', dom, re.DOTALL)
        assert m, table
        return m.group(1).count("<tr")

    assert rows("table-servers-by-edition") == 1 + 4  # header, London, Rio, production, replica
    assert rows("table-footprint-production") == 1 + 4
    assert rows("table-ratios") == 1 + 6
    assert rows("table-inputs") > 20
    assert "900 kWh" in dom and "1,825" in dom


def test_no_external_resource(page: dict) -> None:
    html = page["html"]
    refs = re.findall(r'<(\w+)[^>]*?\s(?:src|href|xlink:href)="((?:https?:)?//[^"]*)"', html)
    assert refs, "the sources table should link its citations"
    assert all(tag == "a" for tag, _ in refs)
    sources = html[html.index('<section id="sources">'):]
    sources = sources[:sources.index("</section>")]
    for _, url in refs:
        assert f'href="{url}"' in sources, f"{url} is outside the sources table"
    assert not re.search(r"<(script|link|img|iframe)\b", html)
