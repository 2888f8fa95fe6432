"""Build the project's images on a Docker engine, offline (Debian packages only).

- `replicator/base:<hash>`: `debootstrap --variant=minbase` of bookworm, stripped,
  tarred and `docker import`ed. The tarball is kept under
  `<workdir>/images/base-<hash>.tar`, so re-creating a removed base image takes
  seconds, not a debootstrap.
- `replicator/<layer>:<hash>`: `docker build` of `recipes/<layer>/Dockerfile`
  FROM its parent's hash tag (build arg BASE_IMAGE).

Each image is also tagged `:latest` and labelled `replicator.image=<name>` and
`replicator.recipe=<hash>`. An image whose hash tag exists is not rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import shutil
import subprocess
import tarfile
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from docker.errors import DockerException
from requests.exceptions import RequestException
from rich.console import Console
from rich.markup import escape

from replicator.errors import EngineUnavailableError, ExitCode, InputError, ReplicatorError
from replicator.images.recipes import (
    BASE,
    BASE_ARG,
    RECIPES_DIR,
    REPOSITORY,
    SUITE,
    Recipe,
    image_ref,
    load_recipes,
    recipe_hashes,
)

LABEL_IMAGE = "replicator.image"
LABEL_RECIPE = "replicator.recipe"
SCRATCH_CANDIDATES = (Path("/dev/shm"),)
SCRATCH_MIN_FREE = 2 * 1024**3  # a debootstrap tree is ~300 MB; leave room
LOG_TAIL = 25

Action = Literal["cached", "imported", "built"]


class ImageBuildError(ReplicatorError):
    """An image could not be built: names the image, the failing step and the log."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class BuiltImage:
    name: str
    ref: str  # replicator/<name>:<hash>
    recipe_hash: str
    image_id: str
    size: int  # bytes
    action: Action  # cached: the tag existed; imported: base from the kept tarball
    seconds: float

    @property
    def cached(self) -> bool:
        return self.action == "cached"

    def to_dict(self) -> dict:
        return {**asdict(self), "cached": self.cached}


@dataclass(frozen=True)
class ImageStatus:
    name: str
    ref: str  # the ref the current recipe wants
    recipe_hash: str
    parent: str | None
    present: bool
    image_id: str | None
    size: int | None
    created: str | None
    latest_current: bool  # replicator/<name>:latest is this very image
    tarball: str | None  # base only: the kept rootfs tarball, if any

    @property
    def status(self) -> str:
        if not self.present:
            return "absent"
        return "built" if self.latest_current else "built (latest is another image)"

    def to_dict(self) -> dict:
        return {**asdict(self), "status": self.status}


# --------------------------------------------------------------------------- helpers


def images_dir(workdir: Path | None = None) -> Path:
    """`<workdir>/images`: kept base tarballs, build logs, the build lock."""
    if workdir is None:
        from replicator.paths import find_project_root, work_dir

        workdir = work_dir(find_project_root())
    path = Path(workdir) / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _inspect(client, ref: str) -> dict | None:
    import docker.errors

    try:
        return client.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.NotFound:
        return None


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.0f} MB"


@contextlib.contextmanager
def _build_lock(directory: Path, console: Console) -> Iterator[None]:
    with (directory / ".build.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            console.print("waiting for another image build on this machine to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _scratch_dir(fallback: Path) -> Path:
    """tmpfs when it has room and allows exec and device files, else `fallback`."""
    for candidate in SCRATCH_CANDIDATES:
        try:
            st = os.statvfs(candidate)
        except OSError:
            continue
        if st.f_flag & (os.ST_NOEXEC | os.ST_NODEV | os.ST_RDONLY):
            continue
        if st.f_bavail * st.f_frsize >= SCRATCH_MIN_FREE and os.access(candidate, os.W_OK):
            return candidate
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


class _Progress:
    """Prefixed lines on the console and a spinner with the latest log line on a terminal."""

    def __init__(self, console: Console, name: str, width: int) -> None:
        self.console = console
        self.prefix = f"[bold cyan]{name:<{width}}[/]"
        self._status: tuple[Any, str] | None = None  # (rich Status, its text)

    def say(self, text: str) -> None:
        self.console.print(f"{self.prefix} {escape(text)}", highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def working(self, text: str) -> Iterator[None]:
        if self.console.is_terminal and not self.console.quiet:
            with self.console.status(f"{self.prefix} {escape(text)}") as status:
                self._status = (status, text)
                try:
                    yield
                finally:
                    self._status = None
        else:
            yield

    def tick(self, line: str) -> None:
        if self._status is not None:
            status, text = self._status
            status.update(f"{self.prefix} {escape(text)}: [dim]{escape(line[:100])}[/]")


# --------------------------------------------------------------------------- build


def check_image_names(names: Sequence[str] | None, recipes: Mapping[str, object]) -> list[str]:
    """The images to look at (`names`, default all), each a known recipe, or an InputError."""
    wanted = list(recipes) if not names else list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in recipes]
    if unknown:
        raise InputError(
            f"unknown image(s): {', '.join(unknown)}", path="NAMES",
            fix=f"choose from: {', '.join(recipes)}",
        )
    return wanted


def build_images(
    client,
    names: list[str] | tuple[str, ...] | None = None,
    force: bool = False,
    progress: Console | None = None,
    *,
    workdir: Path | None = None,
    recipes_dir: Path = RECIPES_DIR,
    verbose: bool = False,
) -> list[BuiltImage]:
    """Make sure the images `names` (default: all) exist for their current recipes.

    Builds (or, for the base, re-imports the kept tarball) only images whose hash
    tag is missing; a parent is built first when a child needs it. `force`
    rebuilds the named images from scratch (debootstrap again, no layer cache).
    `progress` is the rich console for progress lines (default: stderr);
    pass `Console(quiet=True)` for none. `verbose` also prints every build log line.
    Returns one BuiltImage per image looked at, parents first.
    """
    console = progress if progress is not None else Console(stderr=True)
    recipes = load_recipes(recipes_dir)
    hashes = recipe_hashes(recipes)
    wanted = check_image_names(names, recipes)
    forced = set(wanted) if force else set()
    directory = images_dir(workdir)
    width = max(len(n) for n in recipes)
    results: dict[str, BuiltImage] = {}

    def ensure(name: str) -> None:
        if name in results:
            return
        recipe, digest = recipes[name], hashes[name]
        ref = image_ref(name, digest)
        out = _Progress(console, name, width)
        started = time.monotonic()
        attrs = None if name in forced else _inspect(client, ref)
        if attrs is not None:
            _tag_latest(client, name, digest, attrs)
            out.say(f"{ref} [green]cached[/] ({_mb(attrs.get('Size'))})")
            results[name] = BuiltImage(
                name,
                ref,
                digest,
                attrs["Id"],
                attrs.get("Size", 0),
                "cached",
                time.monotonic() - started,
            )
            return
        if recipe.parent:
            ensure(recipe.parent)
        if recipe.kind == "rootfs":
            action = _build_base(
                client, recipe, digest, directory, out, force=name in forced, verbose=verbose
            )
        else:
            assert recipe.parent is not None  # every layer but the rootfs has a parent
            parent_ref = image_ref(recipe.parent, hashes[recipe.parent])
            _build_layer(
                client,
                recipe,
                digest,
                parent_ref,
                directory,
                out,
                nocache=name in forced,
                verbose=verbose,
            )
            action = "built"
        attrs = _inspect(client, ref)
        if attrs is None:
            raise ImageBuildError(f"image {ref} is missing right after it was built")
        _tag_latest(client, name, digest, attrs)
        seconds = time.monotonic() - started
        out.say(f"{ref} [green]{action}[/] ({_mb(attrs.get('Size'))}) in {seconds:.1f} s")
        results[name] = BuiltImage(
            name, ref, digest, attrs["Id"], attrs.get("Size", 0), action, seconds
        )

    with _build_lock(directory, console):
        for name in wanted:
            ensure(name)
    order = list(recipes)
    return sorted(results.values(), key=lambda b: order.index(b.name))


def _tag_latest(client, name: str, digest: str, attrs: dict) -> None:
    latest = _inspect(client, image_ref(name))
    if latest is None or latest["Id"] != attrs["Id"]:
        client.api.tag(image_ref(name, digest), f"{REPOSITORY}/{name}", "latest", force=True)


def _base_tarball(directory: Path, digest: str) -> Path:
    return directory / f"base-{digest}.tar"


def _build_base(
    client,
    recipe: Recipe,
    digest: str,
    directory: Path,
    out: _Progress,
    *,
    force: bool,
    verbose: bool,
) -> Action:
    tarball = _base_tarball(directory, digest)
    action: Action = "imported"
    if force or not tarball.is_file():
        _run_rootfs_script(recipe, tarball, directory, out, verbose=verbose)
        action = "built"
    else:
        out.say(f"re-importing the kept rootfs {tarball}")
    changes = [
        *recipe.params["changes"],
        f"LABEL {LABEL_IMAGE}={recipe.name}",
        f"LABEL {LABEL_RECIPE}={digest}",
    ]
    with out.working("docker import"):
        try:
            client.api.import_image_from_file(
                str(tarball),
                repository=f"{REPOSITORY}/{recipe.name}",
                tag=digest,
                changes=changes,
            )
        except (DockerException, RequestException, OSError) as exc:
            raise ImageBuildError(
                f"importing {tarball} as {image_ref(recipe.name, digest)} failed: {exc}",
                fix="check `replicator engine status`; delete the tarball to rebuild it",
            ) from exc
    # Only the current tarball is worth keeping.
    for old in directory.glob("base-*.tar"):
        if old != tarball:
            old.unlink(missing_ok=True)
    return action


def _run_rootfs_script(
    recipe: Recipe, tarball: Path, directory: Path, out: _Progress, *, verbose: bool
) -> None:
    if shutil.which("debootstrap") is None:
        raise EngineUnavailableError(
            "building the base image needs `debootstrap`, which is not installed",
            fix="run scripts/setup.sh as root, or `apt-get install debootstrap`",
        )
    if os.geteuid() != 0:
        raise EngineUnavailableError(
            "building the base image (debootstrap) needs root",
            fix="run `replicator image build` as root",
        )
    assert recipe.source_dir is not None
    script = recipe.source_dir / "build-rootfs.sh"
    scratch = _scratch_dir(directory / "scratch")
    log_path = directory / f"{tarball.stem}.log"
    packages = recipe.packages
    out.say(f"debootstrap {SUITE} (minbase + {', '.join(packages)}) in {scratch}; log: {log_path}")
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    t0 = time.monotonic()
    cmd = ["bash", str(script), SUITE, ",".join(packages), str(tarball), str(scratch)]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    with log_path.open("w") as log, out.working("debootstrap"):
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            line = line.rstrip()
            tail.append(line)
            out.tick(line)
            if verbose:
                out.say(f"[dim]{escape(line)}[/]")
        rc = proc.wait()
    if rc == 0 and tarball.is_file():
        size = tarball.stat().st_size
        out.say(
            f"rootfs tarball {tarball.name} ({size / 1e6:.0f} MB) in {time.monotonic() - t0:.1f} s"
        )
        return
    step = next((t for t in reversed(tail) if t.startswith("build-rootfs:")), "debootstrap")
    raise ImageBuildError(
        f"building image {image_ref(recipe.name)} failed (exit code {rc}) at "
        f"{step!r}; last lines of {log_path}:\n" + "\n".join(tail),
        fix=f"read {log_path}; debootstrap needs the Debian archive (default mirror)",
    )


def _context_tar(recipe: Recipe) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, (content, executable) in sorted(recipe.files.items()):
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mode = 0o755 if executable else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    buf.seek(0)
    return buf


def _build_layer(
    client,
    recipe: Recipe,
    digest: str,
    parent_ref: str,
    directory: Path,
    out: _Progress,
    *,
    nocache: bool,
    verbose: bool,
) -> None:
    ref = image_ref(recipe.name, digest)
    log_path = directory / f"{recipe.name}-{digest}.log"
    out.say(f"building {ref} FROM {parent_ref}; log: {log_path}")
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    step = "(before the first step)"
    error: str | None = None
    with log_path.open("w") as log, out.working(f"docker build {ref}"):
        try:
            stream = client.api.build(
                fileobj=_context_tar(recipe),
                custom_context=True,
                tag=ref,
                buildargs={BASE_ARG: parent_ref},
                labels={LABEL_IMAGE: recipe.name, LABEL_RECIPE: digest},
                rm=True,
                forcerm=True,
                pull=False,
                nocache=nocache,
                decode=True,
            )
            for chunk in stream:
                if "error" in chunk:
                    error = str(chunk.get("error") or chunk.get("errorDetail")).strip()
                    log.write(f"ERROR: {error}\n")
                    tail.append(f"ERROR: {error}")
                    break
                text = chunk.get("stream") or chunk.get("status") or ""
                if not text:
                    continue
                log.write(text if text.endswith("\n") else text + "\n")
                for line in text.splitlines():
                    line = line.rstrip()
                    if not line:
                        continue
                    tail.append(line)
                    if line.startswith("Step "):
                        step = " ".join(line.split())
                        short = step if len(step) <= 100 else step[:99] + "…"
                        out.say(f"[dim]{escape(short)}[/]")
                    elif verbose:
                        out.say(f"[dim]  {escape(line)}[/]")
                    out.tick(line)
        except (DockerException, RequestException) as exc:  # bad Dockerfile, engine gone
            error = f"{type(exc).__name__}: {exc}"
            log.write(f"ERROR: {error}\n")
    if error is not None:
        raise ImageBuildError(
            f"building image {ref} failed at {step!r}: {error}\n"
            f"last lines of {log_path}:\n" + "\n".join(tail),
            file=recipe.source_dir / "Dockerfile" if recipe.source_dir else None,
            fix=f"fix the recipe and run `replicator image build {recipe.name}`; "
            f"full log: {log_path}",
        )


# --------------------------------------------------------------------------- status / prune


def image_status(
    client, *, workdir: Path | None = None, recipes_dir: Path = RECIPES_DIR
) -> list[ImageStatus]:
    """One entry per recipe: is the image for its current recipe present?"""
    recipes = load_recipes(recipes_dir)
    hashes = recipe_hashes(recipes)
    directory = images_dir(workdir)
    out = []
    for name, recipe in recipes.items():
        ref = image_ref(name, hashes[name])
        attrs = _inspect(client, ref)
        latest = _inspect(client, image_ref(name))
        tarball = _base_tarball(directory, hashes[name]) if name == BASE else None
        out.append(
            ImageStatus(
                name=name,
                ref=ref,
                recipe_hash=hashes[name],
                parent=recipe.parent,
                present=attrs is not None,
                image_id=attrs["Id"] if attrs else None,
                size=attrs.get("Size") if attrs else None,
                created=attrs.get("Created") if attrs else None,
                latest_current=bool(attrs and latest and latest["Id"] == attrs["Id"]),
                tarball=str(tarball) if tarball and tarball.is_file() else None,
            )
        )
    return out


def prune_images(
    client,
    *,
    workdir: Path | None = None,
    recipes_dir: Path = RECIPES_DIR,
    progress: Console | None = None,
) -> list[str]:
    """Remove replicator images built from older recipes (and old tarballs, logs).

    Only images labelled `replicator.image=<a known image>` whose
    `replicator.recipe` is not the current hash; images still used by a
    container are kept. Returns the removed tags.
    """
    import docker.errors

    console = progress if progress is not None else Console(stderr=True)
    hashes = recipe_hashes(load_recipes(recipes_dir))
    removed: list[str] = []
    for image in client.images.list(filters={"label": LABEL_IMAGE}):
        labels = image.labels or {}
        name = labels.get(LABEL_IMAGE)
        if name not in hashes or labels.get(LABEL_RECIPE) == hashes[name]:
            continue
        for tag in image.tags:
            if not tag.startswith(f"{REPOSITORY}/{name}:") or tag.endswith(":latest"):
                continue
            try:
                client.images.remove(tag, noprune=False)
            except docker.errors.APIError as exc:
                console.print(f"kept {tag}: {escape(str(exc.explanation or exc))}")
                continue
            console.print(f"removed {tag}")
            removed.append(tag)
    directory = images_dir(workdir)
    current = {f"{n}-{h}" for n, h in hashes.items()}
    for path in [*directory.glob("base-*.tar"), *directory.glob("*.log")]:
        if path.stem not in current:
            path.unlink(missing_ok=True)
    return removed
