"""A deterministic tar of the application service, for the app_service role.

Same sources -> same bytes (sorted entries, fixed owner, mode and mtime, no
caches), and the file name carries the content hash: an unchanged app makes
the role's copy and unpack tasks report no change, which the idempotence gate
requires.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from replicator.errors import ReplicatorError

APP_PACKAGE = "replicator_app"
# 2024-07-26 19:30 CEST, the Paris opening ceremony: any fixed instant would do.
FIXED_MTIME = 1722015000
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def app_source(root: Path) -> Path:
    return root / "apps" / APP_PACKAGE


def _entries(src: Path) -> list[Path]:
    out = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.name.endswith(_SKIP_SUFFIXES):
            continue
        if path.is_dir() or path.is_file():
            out.append(path)
    return out


def build_archive(src: Path) -> bytes:
    if not (src / "__main__.py").is_file():
        raise ReplicatorError(
            f"the application service is missing: no {src / '__main__.py'}",
            fix="restore apps/replicator_app from the repository")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in [src, *_entries(src)]:
            rel = path.relative_to(src)
            name = APP_PACKAGE if rel == Path(".") else f"{APP_PACKAGE}/{rel.as_posix()}"
            info = tarfile.TarInfo(name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = FIXED_MTIME
            if path.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_archive(root: Path, directory: Path) -> Path:
    """Write `replicator_app-<hash>.tar` in `directory` (older ones removed); return its path."""
    data = build_archive(app_source(root))
    digest = hashlib.sha256(data).hexdigest()[:16]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{APP_PACKAGE}-{digest}.tar"
    if not path.exists() or path.read_bytes() != data:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    for old in directory.glob(f"{APP_PACKAGE}-*.tar"):
        if old != path:
            old.unlink(missing_ok=True)
    return path
