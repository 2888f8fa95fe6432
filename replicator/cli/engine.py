"""`replicator engine status|start|stop`: the local Docker engine."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from replicator.cli import app
from replicator.cli.options import DockerHost
from replicator import api
from replicator.api.options import EngineOptions
from replicator.dockerd import LOGFILE, PIDFILE, EngineInfo, is_default_local

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
    info = api.engine_status(EngineOptions(docker_host=docker_host))
    if as_json:
        Console().print_json(json.dumps(info.to_dict()))
    else:
        Console().print(_describe(info), highlight=False, soft_wrap=True)


@engine_app.command("start")
def start(docker_host: DockerHost = None) -> None:
    """Start dockerd on the local default socket unless an engine already answers."""
    info = api.engine_start(EngineOptions(docker_host=docker_host), progress=Console(stderr=True))
    prefix = "started: " if info.started else "already running: "
    Console().print(prefix + _describe(info), highlight=False, soft_wrap=True)


@engine_app.command("stop")
def stop(docker_host: DockerHost = None) -> None:
    """Stop the dockerd replicator started (never an engine started otherwise)."""
    pid = api.engine_stop(EngineOptions(docker_host=docker_host), progress=Console(stderr=True))
    if pid is not None:
        Console().print(f"stopped dockerd (pid {pid})")
    else:
        Console().print(
            f"no dockerd started by replicator is running (no live pid in {PIDFILE}); "
            "any other engine is left alone"
        )
