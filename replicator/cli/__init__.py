"""The `replicator` command line.

Each sub-module registers one group of commands on `app`; this module only
wires them together and turns `ReplicatorError`s into a clear message and an
exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from replicator.errors import ReplicatorError

app = typer.Typer(
    name="replicator",
    help="Replicate the Games IT environment (ITL, CTOC, TOC) as linked Pulumi stacks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True)

# Command groups: one module each. Importing registers the commands.
from replicator.cli import deploy  # noqa: E402,F401
from replicator.cli import graph  # noqa: E402,F401
from replicator.cli import image  # noqa: E402,F401
from replicator.cli import engine  # noqa: E402,F401


def main() -> None:
    try:
        app(standalone_mode=False)
    except ReplicatorError as exc:
        err_console.print(f"[bold red]error:[/] {exc.render()}", highlight=False)
        sys.exit(int(exc.exit_code))
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise
