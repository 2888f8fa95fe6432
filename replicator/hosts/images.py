"""The project's images, copied offline into each simulated host's engine.

The hosts have no route to any package archive, so nothing can be built there:
`docker save` from the main engine once, `docker load` into every host that
lacks one of the images (by id), in parallel.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from replicator.dockerd import connect
from replicator.errors import EngineUnavailableError
from replicator.hosts.model import SimHost
from replicator.images import IMAGE_NAMES
from replicator.images.recipes import deployed_image_ref


def wanted_images(source_host: str) -> dict[str, str]:
    """The image refs the stacks deploy (`replicator/<name>:<recipe hash>`) -> image id,
    on the engine that built them."""
    client = connect(source_host)
    try:
        found = {}
        for name in IMAGE_NAMES:
            ref = deployed_image_ref(name)
            try:
                found[ref] = client.images.get(ref).id
            except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound and API errors
                raise EngineUnavailableError(
                    f"image {ref} is not on the engine at {source_host}",
                    fix="build the images first: `replicator image build`") from None
        return found
    finally:
        client.close()


def missing_on(host: SimHost, wanted: dict[str, str]) -> list[str]:
    client = connect(host.docker_host)
    try:
        have = {img.id for img in client.images.list()}
        tagged = {tag for img in client.images.list() for tag in img.tags}
    finally:
        client.close()
    return [ref for ref, image_id in wanted.items() if image_id not in have or ref not in tagged]


def copy_images(source_host: str, hosts: list[SimHost], workdir: Path) -> list[str]:
    """Load the images into every host that lacks them. Returns the hosts loaded."""
    wanted = wanted_images(source_host)
    todo = [h for h in hosts if missing_on(h, wanted)]
    if not todo:
        return []
    workdir.mkdir(parents=True, exist_ok=True)
    tarball = workdir / "images.tar"
    try:
        _docker(source_host, "save", "-o", str(tarball), *wanted)
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:
            list(pool.map(lambda h: _docker(h.docker_host, "load", "-q", "-i", str(tarball)),
                          todo))
    finally:
        tarball.unlink(missing_ok=True)  # 600 MB: keep nothing between runs
    return [h.name for h in todo]


def _docker(host: str, *args: str) -> None:
    proc = subprocess.run(["docker", "-H", host, *args], capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        raise EngineUnavailableError(
            f"`docker -H {host} {args[0]}` failed: {proc.stderr.strip()[-400:]}",
            fix="check the engine's log; `replicator hosts up` again resumes")
