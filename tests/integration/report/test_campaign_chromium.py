"""The campaign progress report in a real headless Chromium, offline: the five
charts are drawn (their colours on the screenshot), the tables built in the DOM."""

from __future__ import annotations

import re

import pytest

from replicator.campaign.progress import progress_data
from replicator.campaign.render import COLOURS, write_campaign_report
from tests.integration.report.browser import CHROMIUM, MISSING, chromium
from tests.unit.campaign.campaign_cases import recorded_store

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING)
np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("campaign-chromium")
    data = progress_data(recorded_store(tmp / "c.sqlite3"), target_hours=250_000)
    paths = write_campaign_report(data, {}, tmp / "report")
    url = paths["html"].resolve().as_uri()
    shot = tmp / "campaign.png"
    proc = chromium(tmp, f"--screenshot={shot}", url)
    assert shot.is_file(), f"no screenshot: {proc.returncode}\n{proc.stderr[-2000:]}"
    dom = chromium(tmp, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    return {"html": paths["html"].read_text(), "dom": dom.stdout,
            "pixels": np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)}


def count(pixels, colour: str, tolerance: int = 6) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)
    return int((np.abs(pixels - rgb).max(axis=2) <= tolerance).sum())


@pytest.mark.parametrize("colour", ["passed", "line", "target", "p50", "p99", "recovery"])
def test_each_chart_colour_is_on_the_screen(page: dict, colour: str) -> None:
    assert count(page["pixels"], COLOURS[colour]) > 50, colour


def test_the_dom_has_charts_and_tables(page: dict) -> None:
    dom = page["dom"]
    for chart in ("cells", "pass-rate", "test-hours", "peaks", "drills"):
        m = re.search(rf'<figure id="chart-{chart}"[^>]*>(.*?)</figure>', dom, re.DOTALL)
        assert m and len(re.findall(r"<path", m.group(1))) > 10, chart
    cells = re.search(r'<table id="cells">(.*?)</table>', dom, re.DOTALL).group(1)
    assert cells.count("<tr>") == 1 + 3 and "diving-aqc" in cells
    drills = re.search(r'<table id="drills">(.*?)</table>', dom, re.DOTALL).group(1)
    assert "2.5" in drills and "crash-process" in drills
    assert not re.search(r"<(script|link|img|iframe)\b", page["html"])
