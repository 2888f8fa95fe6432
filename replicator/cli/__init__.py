"""The `replicator` command line.

Each sub-module registers one group of commands on `app`; this module only
wires them together and turns `ReplicatorError`s into a clear message and an
exit code.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.text import Text

from replicator.errors import ReplicatorError
from replicator.inputs.env import check_environment

app = typer.Typer(
    name="replicator",
    help="Replicate the Games IT environment (ITL, CTOC, TOC) as linked Pulumi stacks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True)

# Command groups: one module each. Importing registers the commands.
from replicator.cli import deploy  # noqa: E402,F401  (registration order is the help order)
from replicator.cli import graph  # noqa: E402,F401
from replicator.cli import image  # noqa: E402,F401
from replicator.cli import engine  # noqa: E402,F401
from replicator.cli import configure  # noqa: E402,F401
from replicator.cli import odf  # noqa: E402,F401
from replicator.cli import report  # noqa: E402,F401
from replicator.cli import verify  # noqa: E402,F401
from replicator.cli import hosts  # noqa: E402,F401
from replicator.cli import config  # noqa: E402,F401
from replicator.cli import campaign  # noqa: E402,F401


def _click_exception_types() -> tuple[type[BaseException], ...]:
    """Usage errors: typer 0.29 raises its own vendored click's, older ones click's."""
    import click

    types: list[type[BaseException]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException as VendoredClickException

        types.append(VendoredClickException)
    except ImportError:
        pass
    return tuple(types)


def main() -> None:
    try:
        check_environment()
        # standalone_mode=False: click returns the exit code instead of exiting,
        # and lets our errors through so they are shown without a traceback.
        code = app(standalone_mode=False)
    except ReplicatorError as exc:
        # A Text, not a markup string: the message quotes input ([a-z], [/red]) verbatim.
        err_console.print(Text.assemble(("error:", "bold red"), " ", exc.render()),
                          highlight=False, soft_wrap=True)
        sys.exit(int(exc.exit_code))
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _click_exception_types() as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", 2) or 2)
    sys.exit(code if isinstance(code, int) else 0)
