"""`replicator stack export|import`: a stack's state as a Pulumi v3 deployment."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from replicator.cli import app
from replicator.cli.options import BackendUrlOpt, CwdOpt, StackArg
from replicator.errors import InputError
from replicator.inputs.files import parse_json, read_text

stack_app = typer.Typer(help="A stack's state as a Pulumi deployment (`pulumi stack export`).",
                        no_args_is_help=True)
app.add_typer(stack_app, name="stack")

# A deployment of this project's edition is ~100 KB; a much larger file is not one.
MAX_DEPLOYMENT_BYTES = 16 * 1024 * 1024

FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="File (default: stdout/stdin).",
                                              dir_okay=False, show_default=False)]


def _need_stack(stack: str | None, cwd: Path | None) -> None:
    if cwd is None and stack is None:
        raise InputError("name the stack", path="STACK",
                         fix="e.g. replicator stack export paris2024-itl")


def _runner_and_stack(stack: str | None, cwd: Path | None, backend_url: str | None):
    from replicator.api.targets import resolve

    _need_stack(stack, cwd)
    targets = resolve(stack, None, cwd=cwd, engine="embedded", backend_url=backend_url)
    return targets.runner, targets.names[0]


@stack_app.command("export")
def export(stack: StackArg = None, file: FileOpt = None, cwd: CwdOpt = None,
           backend_url: BackendUrlOpt = None) -> None:
    """Print (or write to --file) the stack's state as a Pulumi v3 deployment."""
    from replicator.atomic import write_atomic
    from replicator.engine.stack_transfer import export_deployment

    runner, name = _runner_and_stack(stack, cwd, backend_url)
    text = json.dumps(export_deployment(runner, name), indent=4) + "\n"
    if file is None:
        sys.stdout.write(text)
        return
    write_atomic(file, text)
    Console(stderr=True).print(f"exported stack {name} to {file}", highlight=False)


@stack_app.command("import")
def import_(stack: StackArg = None, file: FileOpt = None, cwd: CwdOpt = None,
            backend_url: BackendUrlOpt = None) -> None:
    """Replace the stack's state by a Pulumi v3 deployment (from --file or stdin)."""
    from replicator.engine.stack_transfer import import_deployment

    _need_stack(stack, cwd)  # the cheap checks, then the file, then the project
    source = str(file) if file else "<stdin>"
    if file is not None:
        text = read_text(file, max_bytes=MAX_DEPLOYMENT_BYTES, what="deployment file")
    else:
        text = sys.stdin.read(MAX_DEPLOYMENT_BYTES + 1)
        if len(text) > MAX_DEPLOYMENT_BYTES:
            raise InputError(f"the deployment on stdin is over the limit of "
                             f"{MAX_DEPLOYMENT_BYTES:,} characters", path="<stdin>",
                             fix="give a file written by `stack export` with --file")
    data = parse_json(text, source, what="deployment")
    runner, name = _runner_and_stack(stack, cwd, backend_url)
    state = import_deployment(runner, name, data, source=source)
    Console(stderr=True).print(f"imported {len(state.resources)} resources into stack {name}",
                               highlight=False)
