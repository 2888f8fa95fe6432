"""Command-line options that several command groups share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replicator.inputs.docker_host import check_docker_host_option

DockerHost = Annotated[
    str | None,
    typer.Option(
        "--docker-host",
        "-H",
        envvar="DOCKER_HOST",
        callback=check_docker_host_option,
        help="Docker engine address (default: the local socket; a local engine is started "
             "when needed).",
        show_default=False,
    ),
]

StackArg = Annotated[str | None, typer.Argument(help="Stack name, e.g. paris2024-itl.",
                                                show_default=False)]
EditionOpt = Annotated[str | None, typer.Option(
    "--edition", "-e", help="Every stack of an edition, in dependency order.")]

CwdOpt = Annotated[Path | None, typer.Option(
    "--cwd", "-C", help="Run any Python Pulumi project in this directory (as `pulumi --cwd`).",
    file_okay=False, exists=True, resolve_path=True, show_default=False)]
BackendUrlOpt = Annotated[str | None, typer.Option(
    "--backend-url", envvar="PULUMI_BACKEND_URL",
    help="With --cwd: the file backend holding the stacks' state (default file://~).",
    show_default=False)]
