"""The application tier stands on well-kept libraries, at the app image's versions."""

from __future__ import annotations

import asyncio
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "apps" / "replicator_app"
DOCKERFILE = ROOT / "replicator" / "images" / "recipes" / "app" / "Dockerfile"
# PyPI name -> Debian bookworm package of the app image
DEBIAN = {"aiohttp": "python3-aiohttp", "prometheus-client": "python3-prometheus-client",
          "tenacity": "python3-tenacity", "psycopg2-binary": "python3-psycopg2",
          "uvloop": "python3-uvloop"}


def _pins() -> dict[str, str]:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["app"]
    return dict(pin.split("==") for pin in extra)


def test_host_pins_are_the_app_image_versions() -> None:
    recipe = DOCKERFILE.read_text()
    installed = recipe[recipe.index("apt-get install"):].split(";")[0].split()
    pins = _pins()
    assert set(pins) == set(DEBIAN)
    for name, package in DEBIAN.items():
        assert package in installed, f"{package} is not installed in the app image"
        assert f"{package} {pins[name]}" in recipe, f"{package}: recipe comment and pin disagree"


def test_the_tests_run_on_the_pinned_versions() -> None:
    for name, pinned in _pins().items():
        assert version(name) == pinned, f"{name} {version(name)} installed, {pinned} pinned"


def _sources() -> dict[str, str]:
    return {str(p.relative_to(APP)): p.read_text() for p in APP.rglob("*.py")}


def test_no_hand_written_http_metrics_log_or_retry() -> None:
    forbidden = {
        "an HTTP server or client on raw streams": r"asyncio\.(start_server|open_connection)|"
                                                   r"readuntil\(",
        "a Prometheus text encoder": r"[\"']# (TYPE|HELP) ",
        "a log-segment format": r"struct\.Struct|os\.fdatasync",
        "a backoff loop": r"backoff\s*=\s*min\(|backoff\s*\*=|delay\s*=\s*min\(",
    }
    for path, text in _sources().items():
        for what, pattern in forbidden.items():
            assert not re.search(pattern, text), f"{path} holds {what} ({pattern})"


def test_the_app_is_a_package_without_path_edits() -> None:
    for path, text in _sources().items():
        assert "sys.path" not in text, path
    for path in (ROOT / "tests", ROOT / "replicator", ROOT / "bench"):
        for source in path.rglob("*.py"):
            text = source.read_text()
            assert not re.search(r"sys\.path.*apps|APPS\)\s*not in sys\.path", text), source


def test_the_service_runs_on_uvloop_with_short_gil_handoffs() -> None:
    import sys

    import uvloop

    from replicator_app.__main__ import _run

    seen: list[object] = []

    async def probe() -> None:
        seen.append(type(asyncio.get_running_loop()))

    before = sys.getswitchinterval()
    try:
        _run(probe())
        assert seen == [uvloop.Loop]
        assert sys.getswitchinterval() <= 0.001
    finally:
        sys.setswitchinterval(before)
