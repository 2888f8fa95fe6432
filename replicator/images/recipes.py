"""Image recipes and their hashes.

A recipe is everything that determines an image: the files of its build
context (for the base: the package list and the rootfs build script; for a
layer: its Dockerfile plus the shared files under `recipes/common/`), the
build parameters, the builder's own version and the recipe hash of its parent.
The hash (16 hex digits of a SHA-256) is the image's tag, so an image is
rebuilt exactly when something that goes into it changes, and a base change
propagates to every layer.

Layout under `recipes/`:
  base/packages.txt      packages for `debootstrap --include` (one a line, # comments)
  base/build-rootfs.sh   debootstrap + strip + tar
  common/                files every layer's build context gets as `common/...`
  <name>/Dockerfile      a layer; its parent is named by
                         `ARG BASE_IMAGE=replicator/<parent>:latest`
  <name>/sources.txt     optional: project sources the layer bakes in, as
                         `<context path>: <path from the project root>` lines;
                         the context also gets `<context path>.version`, the
                         sources' own hash (the app image carries the app so)
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from replicator.errors import InputError

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"
PROJECT_ROOT = RECIPES_DIR.parents[2]
SOURCES_FILE = "sources.txt"
REPOSITORY = "replicator"
BASE = "base"
COMMON = "common"

# Bump when the Python side of a build changes in a way that changes images
# (import options, build parameters, context layout).
BUILDER_VERSION = "1"
HASH_LEN = 16

SUITE = "bookworm"
VARIANT = "minbase"
BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
)
BASE_ARG = "BASE_IMAGE"

# Display/build order among independent images.
_PREFERRED_ORDER = ("base", "app", "web", "db")
_PARENT_RE = re.compile(
    rf"^\s*ARG\s+{BASE_ARG}\s*=\s*{REPOSITORY}/([a-z0-9][a-z0-9_.-]*):latest\s*$",
    re.MULTILINE | re.IGNORECASE,
)


def image_ref(name: str, tag: str = "latest") -> str:
    """`replicator/<name>:<tag>`."""
    return f"{REPOSITORY}/{name}:{tag}"


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


@dataclass(frozen=True)
class Recipe:
    name: str
    kind: Literal["rootfs", "dockerfile"]
    parent: str | None
    # Build-context path -> (content, executable). For the base: its recipe files.
    files: dict[str, tuple[bytes, bool]] = field(default_factory=dict, compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    source_dir: Path | None = None

    @property
    def packages(self) -> list[str]:
        """The base's package list (empty for layers)."""
        raw = self.files.get("packages.txt", (b"", False))[0].decode()
        return [
            line.split("#", 1)[0].strip()
            for line in raw.splitlines()
            if line.split("#", 1)[0].strip()
        ]

    def digest(self, parent_hash: str | None) -> str:
        """The recipe hash, given the parent's recipe hash."""
        doc = {
            "builder": BUILDER_VERSION,
            "name": self.name,
            "kind": self.kind,
            "parent": self.parent,
            "parent_hash": parent_hash,
            "params": self.params,
            "files": {
                path: [hashlib.sha256(content).hexdigest(), executable]
                for path, (content, executable) in sorted(self.files.items())
            },
        }
        blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:HASH_LEN]


def _read_tree(directory: Path, prefix: str = "") -> dict[str, tuple[bytes, bool]]:
    files: dict[str, tuple[bytes, bool]] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.name.endswith((".pyc", "~")):
            continue
        rel = path.relative_to(directory).as_posix()
        files[prefix + rel] = (path.read_bytes(), bool(path.stat().st_mode & 0o111))
    return files


_SKIP_PARTS = {"__pycache__"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def source_files(directory: Path) -> dict[str, bytes]:
    """The files of a source tree, by relative path: no caches, no dot files, sorted."""
    files: dict[str, bytes] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part in _SKIP_PARTS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.name.endswith(_SKIP_SUFFIXES):
            files[rel.as_posix()] = path.read_bytes()
    return files


def source_version(files: dict[str, bytes]) -> str:
    """The hash of a source tree (paths and contents): its version as baked into an image."""
    digest = hashlib.sha256()
    for rel, content in sorted(files.items()):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:HASH_LEN]


def app_version(project_root: Path = PROJECT_ROOT) -> str:
    """The version of apps/replicator_app that a current app image carries."""
    return source_version(source_files(project_root / "apps" / "replicator_app"))


def _layer_sources(layer_dir: Path, project_root: Path) -> dict[str, tuple[bytes, bool]]:
    """Build-context files from the project sources a layer names in its sources.txt."""
    listing = layer_dir / SOURCES_FILE
    if not listing.is_file():
        return {}
    files: dict[str, tuple[bytes, bool]] = {}
    for number, raw in enumerate(listing.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        target, sep, source = (part.strip() for part in line.partition(":"))
        tree = project_root / source
        if not sep or not target or not source or not tree.is_dir():
            raise InputError(
                f"line {number}: {raw.strip()!r} does not name a source directory",
                file=listing,
                fix="write `<context path>: <directory from the project root>`",
            )
        tree_files = source_files(tree)
        files.update({f"{target}/{rel}": (content, False) for rel, content in tree_files.items()})
        files[f"{target}.version"] = (source_version(tree_files).encode() + b"\n", False)
    return files


def load_recipes(recipes_dir: Path = RECIPES_DIR,
                 project_root: Path = PROJECT_ROOT) -> dict[str, Recipe]:
    """All recipes under `recipes_dir`, parents before children."""
    base_dir = recipes_dir / BASE
    if not (base_dir / "packages.txt").is_file() or not (base_dir / "build-rootfs.sh").is_file():
        raise InputError(
            "the base image recipe is incomplete",
            file=base_dir,
            fix="restore recipes/base/packages.txt and recipes/base/build-rootfs.sh",
        )
    recipes: dict[str, Recipe] = {
        BASE: Recipe(
            name=BASE,
            kind="rootfs",
            parent=None,
            files=_read_tree(base_dir),
            params={
                "suite": SUITE,
                "variant": VARIANT,
                "arch": _arch(),
                "changes": list(BASE_CHANGES),
            },
            source_dir=base_dir,
        )
    }
    common_dir = recipes_dir / COMMON
    common = _read_tree(common_dir, prefix=f"{COMMON}/") if common_dir.is_dir() else {}
    for sub in sorted(p for p in recipes_dir.iterdir() if p.is_dir()):
        if sub.name in (BASE, COMMON) or sub.name.startswith((".", "_")):
            continue
        dockerfile = sub / "Dockerfile"
        if not dockerfile.is_file():
            continue
        match = _PARENT_RE.search(dockerfile.read_text())
        if not match:
            raise InputError(
                f"the Dockerfile does not name its parent image with "
                f"`ARG {BASE_ARG}={REPOSITORY}/<parent>:latest`",
                file=dockerfile,
                fix=f"add `ARG {BASE_ARG}={image_ref(BASE)}` before `FROM ${{{BASE_ARG}}}`",
            )
        own = {**_read_tree(sub), **_layer_sources(sub, project_root)}
        recipes[sub.name] = Recipe(
            name=sub.name,
            kind="dockerfile",
            parent=match.group(1),
            files={**common, **own},
            params={"buildarg": BASE_ARG},
            source_dir=sub,
        )
    return _ordered(recipes, recipes_dir)


def _ordered(recipes: dict[str, Recipe], recipes_dir: Path) -> dict[str, Recipe]:
    def rank(name: str) -> tuple[int, str]:
        return (
            _PREFERRED_ORDER.index(name) if name in _PREFERRED_ORDER else len(_PREFERRED_ORDER),
            name,
        )

    out: dict[str, Recipe] = {}
    pending = sorted(recipes, key=rank)
    while pending:
        ready = [n for n in pending if recipes[n].parent is None or recipes[n].parent in out]
        if not ready:
            bad = pending[0]
            raise InputError(
                f"image {bad!r} has parent {recipes[bad].parent!r}, which is not a recipe "
                "(or the parents form a cycle)",
                file=recipes_dir / bad / "Dockerfile",
                fix=f"name one of {sorted(recipes)} in ARG {BASE_ARG}",
            )
        for name in ready:
            out[name] = recipes[name]
            pending.remove(name)
    return out


def recipe_hashes(recipes: dict[str, Recipe]) -> dict[str, str]:
    """name -> recipe hash, each covering its parent's hash."""
    hashes: dict[str, str] = {}
    for name, recipe in recipes.items():  # parents come first
        parent_hash = hashes[recipe.parent] if recipe.parent else None
        hashes[name] = recipe.digest(parent_hash)
    return hashes


IMAGE_NAMES: tuple[str, ...] = tuple(load_recipes())
LATEST = "latest"


def deployed_image_ref(name: str, tag: str = LATEST) -> str:
    """The image a stack deploys for `replicator:imageTag`.

    `latest` means the image this checkout's recipes define, by recipe hash
    (`replicator/app:<hash>`), not whatever `:latest` points at: on an engine
    shared by several checkouts the tag follows the last build, while the roles
    rely on what this checkout bakes into its images (the app's version).
    Any other tag is used as given.
    """
    if tag != LATEST:
        return image_ref(name, tag)
    return image_ref(name, recipe_hashes(load_recipes())[name])
