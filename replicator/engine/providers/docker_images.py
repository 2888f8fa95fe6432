"""pulumi-docker's Image (a local build) and Tag, offline.

`docker.Image` builds from a Dockerfile and a context on the engine and never
pushes (no registry is reachable here); `docker.Tag` gives an image a second
name. A digest of the build context is added to the Image's inputs at check
time, as pulumi-docker does, so a changed file rebuilds the image.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import docker
from docker import errors as docker_errors

from replicator.engine.providers.base import ProviderError

IMAGE = "docker:index/image:Image"
TAG = "docker:index/tag:Tag"
CONTEXT_DIGEST = "contextDigest"


def check_image(inputs: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    """Resolve the build's paths against the project and add the context's digest."""
    checked = dict(inputs)
    build = dict(checked.get("build") or {})
    context = (base_dir / str(build.get("context") or ".")).resolve()
    if not context.is_dir():
        raise ProviderError(f"image {inputs.get('imageName')}: build context {context} "
                            "is not a directory")
    # As pulumi-docker: a relative Dockerfile path is from the project, the default is in the context.
    dockerfile = ((base_dir / str(build["dockerfile"])).resolve() if build.get("dockerfile")
                  else context / "Dockerfile")
    if not dockerfile.is_file():
        raise ProviderError(f"image {inputs.get('imageName')}: no Dockerfile at {dockerfile}")
    build.update(context=str(context), dockerfile=str(dockerfile))
    checked["build"] = build
    checked[CONTEXT_DIGEST] = _digest(context, dockerfile, build.get("args") or {})
    return checked


def _digest(context: Path, dockerfile: Path, args: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(context)).encode())
        h.update(path.read_bytes())
    h.update(dockerfile.read_bytes())
    h.update(repr(sorted(args.items())).encode())
    return h.hexdigest()


def build_image(api: docker.APIClient, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = str(inputs["imageName"])
    build = inputs.get("build") or {}
    log: list[str] = []
    try:
        for chunk in api.build(path=build["context"], dockerfile=build["dockerfile"], tag=name,
                               buildargs=build.get("args") or None,
                               target=build.get("target") or None, rm=True, decode=True):
            if "error" in chunk:
                tail = "".join(log[-5:]).strip()
                raise ProviderError(f"image {name} failed to build: {chunk['error'].strip()}"
                                    + (f"\n{tail}" if tail else ""))
            log.append(str(chunk.get("stream", "")))
        info = api.inspect_image(name)
    except docker_errors.APIError as exc:
        raise ProviderError(f"image {name} failed to build: {exc.explanation or exc}") from exc
    outputs = dict(inputs)
    outputs.update(imageName=name, baseImageName=name, repoDigest="", registryServer="",
                   context=build["context"], dockerfile=build["dockerfile"], imageId=info["Id"])
    return name, outputs


def create_tag(api: docker.APIClient, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    source, target = str(inputs["sourceImage"]), str(inputs["targetImage"])
    try:
        info = api.inspect_image(source)
    except docker_errors.ImageNotFound:
        raise ProviderError(f"tag {target}: the source image {source} is not on the engine "
                            "(the embedded engine never pulls)") from None
    repo, _, tag = target.rpartition(":") if ":" in target.rsplit("/", 1)[-1] else (target, "", "")
    api.tag(info["Id"], repo or target, tag or "latest")
    outputs = dict(inputs)
    outputs["sourceImageId"] = info["Id"]
    return f"{source}-{target}", outputs


def remove_name(api: docker.APIClient, name: str) -> None:
    """Remove one image name; the layers stay while another name or a container uses them."""
    try:
        api.remove_image(name, force=False, noprune=False)
    except docker_errors.NotFound:
        return
    except docker_errors.APIError as exc:
        if exc.status_code != 409:  # in use by a container: keep it, as pulumi-docker does
            raise ProviderError(f"cannot remove image {name}: {exc.explanation or exc}") from exc


def read_image(api: docker.APIClient, name: str, outputs: dict[str, Any]) -> dict[str, Any] | None:
    try:
        info = api.inspect_image(name)
    except docker_errors.ImageNotFound:
        return None
    return {**outputs, "imageId": info["Id"]}
