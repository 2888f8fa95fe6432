"""Headless Chromium (Debian package `chromium`) for the report tests, offline."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 2400
MISSING = ("/usr/bin/chromium is absent: install the Debian package `chromium` "
           "(apt-get install -y chromium)")


def chromium(tmp_path: Path, *args: str, width: int = WIDTH,
             height: int = HEIGHT) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with networking features off and its own profile."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{height}",
           *args]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
