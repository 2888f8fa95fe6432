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

stack_app = typer.Typer(help="A stack's state as a Pulumi deployment (`pulumi stack export`).",
                        no_args_is_help=True)
app.add_typer(stack_app, name="stack")

FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="File (default: stdout/stdin).",
                                              dir_okay=False, show_default=False)]


def _runner_and_stack(stack: str | None, cwd: Path | None, backend_url: str | None):
    from replicator.api.targets import resolve

    if cwd is None and stack is None:
        raise InputError("name the stack", fix="e.g. replicator stack export paris2024-itl")
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

    runner, name = _runner_and_stack(stack, cwd, backend_url)
    source = str(file) if file else "<stdin>"
    try:
        text = file.read_text() if file else sys.stdin.read()
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read a deployment from {source}: {exc}",
                         fix="give a file written by `stack export`") from exc
    state = import_deployment(runner, name, data, source=source)
    Console(stderr=True).print(f"imported {len(state.resources)} resources into stack {name}",
                               highlight=False)
