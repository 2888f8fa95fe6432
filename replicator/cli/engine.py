"""`replicator engine status|start|stop`: the local Docker engine."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from replicator.cli import app
from replicator.cli.options import DockerHost
from replicator.dockerd import (
    LOGFILE,
    PIDFILE,
    EngineInfo,
    ensure_engine,
    is_default_local,
    resolve_host,
    stop_engine,
)
from replicator.errors import InputError

engine_app = typer.Typer(
    help="The Docker engine replicator deploys to (started locally when needed).",
    no_args_is_help=True,
)
app.add_typer(engine_app, name="engine")


def _describe(info: EngineInfo) -> str:
    text = (
        f"engine {info.name} (id {info.id[:14]}) on {info.docker_host}: "
        f"Docker {info.server_version}, API {info.api_version}"
    )
    if info.managed_pid:
        text += f"; dockerd pid {info.managed_pid} started by replicator (log: {LOGFILE})"
    elif is_default_local(info.docker_host):
        text += "; not started by replicator"
    return text


@engine_app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    docker_host: DockerHost = None,
) -> None:
    """Is the engine reachable? (exit code 3 if not)"""
    info = ensure_engine(docker_host, start=False)
    if as_json:
        Console().print_json(json.dumps(info.to_dict()))
    else:
        Console().print(_describe(info), highlight=False, soft_wrap=True)


@engine_app.command("start")
def start(docker_host: DockerHost = None) -> None:
    """Start dockerd on the local default socket unless an engine already answers."""
    info = ensure_engine(docker_host, start=True, console=Console(stderr=True))
    prefix = "started: " if info.started else "already running: "
    Console().print(prefix + _describe(info), highlight=False, soft_wrap=True)


@engine_app.command("stop")
def stop(docker_host: DockerHost = None) -> None:
    """Stop the dockerd replicator started (never an engine started otherwise)."""
    host = resolve_host(docker_host)
    if not is_default_local(host):
        raise InputError(
            f"replicator only stops the local dockerd it started, not {host}",
            fix="unset DOCKER_HOST / drop --docker-host",
        )
    pid = stop_engine(console=Console(stderr=True))
    if pid is not None:
        Console().print(f"stopped dockerd (pid {pid})")
    else:
        Console().print(
            f"no dockerd started by replicator is running (no live pid in {PIDFILE}); "
            "any other engine is left alone"
        )
