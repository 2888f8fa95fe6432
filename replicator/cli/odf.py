"""`replicator odf key|send|get`: the ODF chain of a configured replica, from this machine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from replicator import api
from replicator.api.options import OdfOptions
from replicator.cli import app
from replicator.errors import ExitCode, InputError

odf_app = typer.Typer(help="ODF (Olympic Data Feed) access: the API key, send through a venue "
                           "OVR, read what a consumer serves.", no_args_is_help=True)
app.add_typer(odf_app, name="odf")
err = Console(stderr=True)

EditionOpt = Annotated[str | None, typer.Option(
    "--edition", "-e", help="Edition (default: the only one with stacks).")]


@odf_app.command("key")
def key(edition: EditionOpt = None) -> None:
    """Print the edition's ODF API key (the X-API-KEY of producers and consumers)."""
    print(api.odf_key(OdfOptions(edition=edition)))


@odf_app.command("send")
def send(
    file: Annotated[Path, typer.Argument(help="ODF message (XML, plain or gzip); - for stdin.")],
    venue: Annotated[str, typer.Option("--venue", help="Venue code of the OVR, e.g. AQC.")],
    edition: EditionOpt = None,
) -> None:
    """Post an ODF message through a venue's OVR (which forwards it to the distributor)."""
    if str(file) == "-":
        message = sys.stdin.buffer.read()
    elif not file.is_file():
        raise InputError(f"no file {file}", fix="give the path of an ODF XML message")
    else:
        message = file.read_bytes()
    target, answer = api.odf_send(OdfOptions(edition=edition), venue, message)
    _show(target, answer)


@odf_app.command("get")
def get(
    document_code: Annotated[str, typer.Argument(help="ODF DocumentCode, e.g. an RSC.")],
    consumer: Annotated[str, typer.Option("--consumer", help="wrs | rma | cis | myinfo")],
    edition: EditionOpt = None,
) -> None:
    """Print what a consumer serves for a document (wrs: HTML through nginx; rma: JSON...)."""
    target, answer = api.odf_get(OdfOptions(edition=edition), consumer, document_code)
    _show(target, answer)


def _show(target, answer) -> None:
    """The container that answered on stderr, the body on stdout; exit 1 unless 200."""
    err.print(f"{target.service} ({target.container}): HTTP {answer.status}", highlight=False)
    print(answer.text)
    if answer.status != 200:
        raise typer.Exit(int(ExitCode.FAILED))
