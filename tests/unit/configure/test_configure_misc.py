"""The app archive, the replicate pipeline hook and the CLI's input errors."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from replicator.configure.archive import APP_PACKAGE, build_archive, write_archive
from replicator.configure.replicate import STEPS, Step

REPO = Path(__file__).resolve().parents[3]


def _app(tmp_path: Path) -> Path:
    src = tmp_path / "apps" / APP_PACKAGE
    (src / "roles").mkdir(parents=True)
    (src / "__main__.py").write_text("print('hi')\n")
    (src / "roles" / "x.py").write_text("X = 1\n")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    return src


def test_archive_is_deterministic_and_clean(tmp_path):
    src = _app(tmp_path)
    first = build_archive(src)
    (src / "roles" / "x.py").touch()  # a new mtime alone changes nothing
    assert build_archive(src) == first
    path = tmp_path / "a.tar"
    path.write_bytes(first)
    with tarfile.open(path) as tar:
        names = tar.getnames()
        members = tar.getmembers()
    assert names == [APP_PACKAGE, f"{APP_PACKAGE}/__main__.py", f"{APP_PACKAGE}/roles",
                     f"{APP_PACKAGE}/roles/x.py"]
    assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, members[0].mtime)}


def test_archive_name_follows_the_content(tmp_path):
    _app(tmp_path)
    out = tmp_path / "files"
    one = write_archive(tmp_path, out)
    assert write_archive(tmp_path, out) == one
    (tmp_path / "apps" / APP_PACKAGE / "roles" / "x.py").write_text("X = 2\n")
    two = write_archive(tmp_path, out)
    assert two != one
    assert sorted(out.iterdir()) == [two]  # the old archive is gone


def test_real_app_archives(tmp_path):
    assert write_archive(REPO, tmp_path).stat().st_size > 10_000


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
