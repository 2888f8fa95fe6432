"""`replicator stack export|import`: a stack's state as a Pulumi v3 deployment."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from replicator import api
from replicator.api.options import StackOptions
from replicator.atomic import write_atomic
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


@stack_app.command("export")
def export(stack: StackArg = None, file: FileOpt = None, cwd: CwdOpt = None,
           backend_url: BackendUrlOpt = None) -> None:
    """Print (or write to --file) the stack's state as a Pulumi v3 deployment."""
    done = api.stack_export(StackOptions(stack=stack, cwd=cwd, backend_url=backend_url))
    text = json.dumps(done.deployment, indent=4) + "\n"
    if file is None:
        sys.stdout.write(text)
        return
    write_atomic(file, text)
    Console(stderr=True).print(f"exported stack {done.stack} to {file}", highlight=False)


@stack_app.command("import")
def import_(stack: StackArg = None, file: FileOpt = None, cwd: CwdOpt = None,
            backend_url: BackendUrlOpt = None) -> None:
    """Replace the stack's state by a Pulumi v3 deployment (from --file or stdin)."""
    options = StackOptions(stack=stack, cwd=cwd, backend_url=backend_url)  # cheap checks first
    source = str(file) if file else "<stdin>"
    if file is not None:
        text = read_text(file, max_bytes=MAX_DEPLOYMENT_BYTES, what="deployment file")
    else:
        text = sys.stdin.read(MAX_DEPLOYMENT_BYTES + 1)
        if len(text) > MAX_DEPLOYMENT_BYTES:
            raise InputError(f"the deployment on stdin is over the limit of "
                             f"{MAX_DEPLOYMENT_BYTES:,} characters", path="<stdin>",
                             fix="give a file written by `stack export` with --file")
    done = api.stack_import(options, parse_json(text, source, what="deployment"), source=source)
    Console(stderr=True).print(f"imported {done.resources} resources into stack {done.stack}",
                               highlight=False)
