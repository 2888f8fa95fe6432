"""ruff (the rule set named in pyproject.toml) on every Python file of the project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ruff_reports_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert "No module named ruff" not in proc.stderr, "ruff is missing: pip install -e '.[test]'"
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
