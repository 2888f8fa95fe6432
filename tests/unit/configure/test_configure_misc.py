"""The app baked into its image, the replicate pipeline hook and the CLI's input errors."""

from __future__ import annotations

import subprocess
import sys
import shutil
from pathlib import Path

import pytest

from replicator.errors import InputError
from replicator.images.recipes import (
    RECIPES_DIR,
    app_version,
    load_recipes,
    recipe_hashes,
    source_files,
)
from replicator.api.pipeline import STEPS, Step

REPO = Path(__file__).resolve().parents[3]


def _app(tmp_path: Path) -> Path:
    src = tmp_path / "apps" / "replicator_app"
    (src / "roles").mkdir(parents=True)
    (src / "__main__.py").write_text("print('hi')\n")
    (src / "roles" / "x.py").write_text("X = 1\n")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    (src / ".pytest_cache").mkdir()
    (src / ".pytest_cache" / "v").write_text("junk")
    return src


def test_app_version_ignores_caches_and_mtimes(tmp_path):
    src = _app(tmp_path)
    assert sorted(source_files(src)) == ["__main__.py", "roles/x.py"]
    first = app_version(tmp_path)
    (src / "roles" / "x.py").touch()  # a new mtime alone changes nothing
    (src / "__pycache__" / "y.pyc").write_bytes(b"more junk")
    assert app_version(tmp_path) == first
    (src / "roles" / "x.py").write_text("X = 2\n")
    assert app_version(tmp_path) != first


def test_app_image_bakes_the_app_and_its_version(tmp_path):
    recipes = load_recipes()
    files = recipes["app"].files
    assert "replicator_app/__main__.py" in files
    assert files["replicator_app.version"][0].decode().strip() == app_version(REPO)
    assert not any("__pycache__" in name for name in files)


def test_an_app_change_rebuilds_only_the_app_image(tmp_path):
    recipes_dir = tmp_path / "recipes"
    shutil.copytree(RECIPES_DIR, recipes_dir)
    _app(tmp_path)
    before = recipe_hashes(load_recipes(recipes_dir, tmp_path))
    (tmp_path / "apps" / "replicator_app" / "roles" / "x.py").write_text("X = 3\n")
    after = recipe_hashes(load_recipes(recipes_dir, tmp_path))
    assert {n for n in before if before[n] != after[n]} == {"app"}


def test_a_bad_sources_line_is_refused(tmp_path):
    recipes_dir = tmp_path / "recipes"
    shutil.copytree(RECIPES_DIR, recipes_dir)
    (recipes_dir / "app" / "sources.txt").write_text("replicator_app: apps/nowhere\n")
    with pytest.raises(InputError, match="does not name a source directory"):
        load_recipes(recipes_dir, tmp_path)


def test_replicate_runs_every_stage_in_order():
    assert [s.name for s in STEPS] == ["build", "up", "configure", "verify", "report"]
    assert all(isinstance(s, Step) and callable(s.run) for s in STEPS)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "replicator", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


def test_replicate_help_names_every_step():
    proc = _cli("replicate", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.replace("│", " ").split())
    assert ", ".join(s.name for s in STEPS) in text


def test_replicate_rejects_an_unknown_step():
    proc = _cli("replicate", "--edition", "paris2024", "--skip", "nope", "--yes")
    assert proc.returncode == 2
    assert "no step nope" in proc.stdout + proc.stderr


@pytest.mark.parametrize("args", [["configure"], ["configure", "nope-itl"],
                                  ["configure", "paris2024-itl", "--edition", "paris2024"]])
def test_configure_input_errors(args):
    proc = _cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr


def test_check_and_idempotence_do_not_mix(tmp_path):
    from replicator.configure import configure
    from replicator.errors import InputError

    with pytest.raises(InputError, match="do not mix"):
        configure(None, check=True, idempotence=True)  # type: ignore[arg-type]


def test_odf_consumer_must_be_known():
    proc = _cli("odf", "get", "--consumer", "bbc", "X", "--edition", "paris2024")
    assert proc.returncode == 2
    assert "no ODF consumer" in proc.stderr
