"""The entry points on a project's files, state and tools: graph, config, stack
export/import, ODF, the Docker engine and the images.

As `replicator.api.service`: one options object each, a typed result, errors as
`replicator.errors` exceptions; nothing is printed, but for the engine and image
entry points, which take the console that dockerd and the image build print
their progress lines on (as `replicate` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replicator.api.options import (
    ConfigOptions,
    EngineOptions,
    GraphOptions,
    ImageBuildOptions,
    OdfOptions,
    StackOptions,
)
from replicator.api.service import project_root
from replicator.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from replicator.configure.odf import HttpAnswer, Located
    from replicator.dockerd import EngineInfo
    from replicator.images.build import BuiltImage, ImageStatus


# --------------------------------------------------------------------------- graph
def graph(options: GraphOptions) -> str:
    """The edition's sites, deployed services and links as Mermaid or DOT text."""
    from replicator.topology import load_edition
    from replicator.topology.graph import render

    topology = load_edition(project_root(options.root), options.edition)
    return render(topology, options.format,
                  list(options.venues) if options.venues is not None else None)


# --------------------------------------------------------------------------- stack state
@dataclass(frozen=True)
class StackTransfer:
    stack: str
    deployment: dict[str, Any]  # Pulumi's deployment format, version 3
    resources: int


def _runner_and_stack(options: StackOptions) -> tuple[Any, str]:
    from replicator.api.targets import resolve

    targets = resolve(options.stack, None, cwd=options.cwd, engine="embedded",
                      backend_url=options.backend_url)
    return targets.runner, targets.names[0]


def stack_export(options: StackOptions) -> StackTransfer:
    """The stack's state as a Pulumi v3 deployment."""
    from replicator.engine.stack_transfer import export_deployment

    runner, name = _runner_and_stack(options)
    deployment = export_deployment(runner, name)
    return StackTransfer(name, deployment,
                         len((deployment.get("deployment") or {}).get("resources") or []))


def stack_import(options: StackOptions, deployment: Any, *, source: str) -> StackTransfer:
    """Replace the stack's state by a Pulumi v3 deployment (checked first: nothing is
    written when it is not one)."""
    from replicator.engine.stack_transfer import import_deployment

    runner, name = _runner_and_stack(options)
    state = import_deployment(runner, name, deployment, source=source)
    return StackTransfer(name, deployment, len(state.resources))


# --------------------------------------------------------------------------- config
def config_get(options: ConfigOptions, *, show_secrets: bool = False) -> dict[str, Any]:
    """stack -> the key's value (None when unset; a `--cwd` secret is "[secret]" unless
    `show_secrets`). A `--cwd` stack without the key is an error."""
    if options.cwd is None:
        _no_cwd_only(show_secrets=show_secrets)
        from replicator.stack_config import get_value

        return get_value(project_root(options.root), options.key, stack=options.stack,
                         edition=options.edition)
    from replicator.engine import stack_config

    runner, path, name = _cwd_stack_file(options)
    found, value = stack_config.get_value(path, runner.project.name, options.key,
                                          secrets=runner.secrets if show_secrets else None)
    if not found:
        raise InputError(f"stack {name} has no config value {options.key}", file=path,
                         fix=f"set it with `replicator config set {options.key} VALUE "
                             f"--stack {name}`")
    return {name: "[secret]" if stack_config.is_secure(value) else value}


def config_set(options: ConfigOptions, value: str, *, secret: bool = False) -> list[Path]:
    """Set the key (YAML text here, a string with `--cwd`); validated before any file is
    written. Returns the files written."""
    if options.cwd is None:
        _no_cwd_only(secret=secret)
        from replicator.stack_config import set_value

        return set_value(project_root(options.root), options.key, value, stack=options.stack,
                         edition=options.edition)
    from replicator.engine import stack_config

    runner, path, _ = _cwd_stack_file(options)
    stack_config.set_value(path, runner.project.name, options.key, value, secret=secret,
                           secrets=runner.secrets)
    return [path]


def config_rm(options: ConfigOptions) -> list[Path]:
    """Remove the key (its default then applies). Returns the files changed."""
    if options.cwd is None:
        from replicator.stack_config import remove_value

        return remove_value(project_root(options.root), options.key, stack=options.stack,
                            edition=options.edition)
    from replicator.engine import stack_config

    runner, path, name = _cwd_stack_file(options)
    if not stack_config.remove_value(path, runner.project.name, options.key):
        raise InputError(f"stack {name} has no config value {options.key}", file=path)
    return [path]


def _no_cwd_only(**given: bool) -> None:
    """Options for a `--cwd` project only: refused, never ignored."""
    for option, on in given.items():
        if on:
            flag = "--" + option.replace("_", "-")
            raise InputError("goes with --cwd only: this project's stack files hold no "
                             "secrets (they are generated per environment)", path=flag,
                             fix=f"drop {flag}")


def _cwd_stack_file(options: ConfigOptions) -> tuple[Any, Path, str]:
    from replicator.api.targets import project_runner, stack_name

    assert options.cwd is not None
    runner = project_runner(options.cwd, options.backend_url)
    name = stack_name(runner.project, options.stack)
    return runner, runner.project.stack_file(name), name


# --------------------------------------------------------------------------- ODF
def odf_key(options: OdfOptions) -> str:
    """The edition's ODF API key (the X-API-KEY of producers and consumers)."""
    from replicator.configure.odf import api_key, default_edition

    root = project_root(options.root)
    return api_key(root, default_edition(root, options.edition))


def odf_send(options: OdfOptions, venue: str, message: bytes) -> tuple[Located, HttpAnswer]:
    """Post an ODF message through a venue's OVR; the container and its answer."""
    from replicator.configure.odf import default_edition, send_via_ovr

    root = project_root(options.root)
    return send_via_ovr(root, default_edition(root, options.edition), venue, message)


def odf_get(options: OdfOptions, consumer: str, document_code: str
            ) -> tuple[Located, HttpAnswer]:
    """What a consumer (wrs, rma, cis, myinfo) serves for a document."""
    from replicator.configure.odf import CONSUMER_PATHS, default_edition, get_from_consumer

    if consumer not in CONSUMER_PATHS:  # named as the option, before the project is read
        raise InputError(f"no ODF consumer {consumer!r}", path="--consumer",
                         fix=f"use one of: {', '.join(CONSUMER_PATHS)}")
    root = project_root(options.root)
    return get_from_consumer(root, default_edition(root, options.edition), consumer,
                             document_code)


# --------------------------------------------------------------------------- engine, images
def engine_status(options: EngineOptions) -> EngineInfo:
    """What answers on the Docker host (`EngineUnavailableError`, exit 3, when nothing)."""
    from replicator.dockerd import ensure_engine

    return ensure_engine(options.docker_host, start=False)


def engine_start(options: EngineOptions, progress: Console | None = None) -> EngineInfo:
    """Start dockerd on the local default socket unless an engine already answers."""
    from replicator.dockerd import ensure_engine

    return ensure_engine(options.docker_host, start=True, console=progress)


def engine_stop(options: EngineOptions, progress: Console | None = None) -> int | None:
    """Stop the dockerd replicator started (never another); its pid, or None."""
    from replicator.dockerd import is_default_local, resolve_host, stop_engine

    host = resolve_host(options.docker_host)
    if not is_default_local(host):
        raise InputError(f"replicator only stops the local dockerd it started, not {host}",
                         path="--docker-host", fix="unset DOCKER_HOST / drop --docker-host")
    return stop_engine(console=progress)


def _client(options: EngineOptions, progress: Console | None) -> Any:
    from replicator.dockerd import connect, ensure_engine

    return connect(ensure_engine(options.docker_host, console=progress).docker_host)


def image_build(options: ImageBuildOptions, progress: Console | None = None
                ) -> list[BuiltImage]:
    """Build the images whose recipe changed (or that are missing); skip the rest."""
    from replicator.images import build_images
    from replicator.images.build import check_image_names
    from replicator.images.recipes import load_recipes

    check_image_names(list(options.names) or None, load_recipes())  # before the engine
    return build_images(_client(options, progress), list(options.names) or None,
                        force=options.force, progress=progress, verbose=options.verbose)


def image_list(options: EngineOptions, progress: Console | None = None) -> list[ImageStatus]:
    """Each image the current recipes want: its tag, size and whether it is built."""
    from replicator.images import image_status

    return image_status(_client(options, progress))


def image_prune(options: EngineOptions, progress: Console | None = None) -> list[str]:
    """Remove replicator images built from older recipes (unused ones only)."""
    from replicator.images import prune_images

    return prune_images(_client(options, progress), progress=progress)
