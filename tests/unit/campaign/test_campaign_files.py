"""Campaign files are checked like the topology: each error names the file, the
line, the place and a fix; the CLI exits 2 without a traceback or a record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replicator.campaign.loader import load_campaign
from replicator.errors import InputError

ROOT = Path(__file__).resolve().parents[3]

GOOD = """\
campaign: demo
title: Demo
edition: paris2024
cells:
  - name: diving-aqc
    suite: results
    sport: DIV
    venue: AQC
    steps:
      - {kind: replay, units: 1}
      - {kind: drill, fault: kill-container, target: odf-distributor#2}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        load_campaign(write(tmp_path, text), ROOT)
    assert info.value.exit_code == 2
    return info.value.render()


def test_the_shipped_campaigns_load() -> None:
    for name in ("smoke", "default"):
        campaign, _, _ = load_campaign(ROOT / "campaigns" / "paris2024" / f"{name}.yaml", ROOT)
        assert campaign.edition == "paris2024"
        kinds = {s.kind for c in campaign.cells for s in c.steps}
        assert {"functional", "replay", "peak", "drill", "interface"} <= kinds
    default, _, _ = load_campaign(ROOT / "campaigns/paris2024/default.yaml", ROOT)
    assert {s.kind for c in default.cells for s in c.steps} >= {"procedure"}


def test_a_good_file_loads(tmp_path: Path) -> None:
    campaign, topology, schedule = load_campaign(write(tmp_path, GOOD), ROOT)
    assert campaign.cells[0].steps[1].target == "odf-distributor#2"


@pytest.mark.parametrize(("old", "new", "line", "where", "fix"), [
    ("sport: DIV", "sport: SWM", 7, "cells[0].sport", "use one of DIV, SWA, WPO"),
    ("venue: AQC", "venue: XYZ", 8, "cells[0].venue", "use a venue code of the topology"),
    ("units: 1}", "units: 1, speed: 3}", 10, "cells[0].steps[0].speed", "remove 'speed'"),
    ("kind: replay", "kind: replays", 10, "cells[0].steps[0]", "functional"),
    ("target: odf-distributor#2", "target: nowhere", 11, "cells[0].steps[1].target",
     "use one of"),
    ("suite: results", "suite: nonsense", 6, "cells[0].suite", "use one of"),
])
def test_errors_name_file_line_place_and_fix(tmp_path: Path, old: str, new: str, line: int,
                                             where: str, fix: str) -> None:
    text = error_of(tmp_path, GOOD.replace(old, new))
    assert f"campaign.yaml:{line}" in text
    assert where in text
    assert "fix:" in text and fix in text


def test_duplicate_cell_names_and_bad_yaml(tmp_path: Path) -> None:
    cells = GOOD.split("cells:\n")[1]
    text = error_of(tmp_path, GOOD + cells)
    assert "two cells are named 'diving-aqc'" in text and "fix:" in text
    text = error_of(tmp_path, GOOD.replace("units: 1}", "units: 1"))
    assert "invalid YAML" in text and "campaign.yaml:" in text


def test_cli_exits_2_without_traceback_or_record(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, REPLICATOR_PROJECT=str(ROOT), REPLICATOR_HOME=str(home),
               NO_COLOR="1", COLUMNS="200")
    path = write(tmp_path, GOOD.replace("venue: AQC", "venue: XYZ"))
    proc = subprocess.run([sys.executable, "-m", "replicator", "campaign", "run", str(path)],
                          env=env, capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "venue XYZ" in proc.stderr and "fix:" in proc.stderr
    assert not (home / "campaigns.sqlite3").exists()
