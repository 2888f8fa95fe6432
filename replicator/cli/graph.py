"""`replicator graph`: draw an edition's topology as Mermaid or Graphviz DOT."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from replicator import api
from replicator.api.options import GraphOptions
from replicator.cli import app
from replicator.errors import InputError


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"


@app.command()
def graph(
    edition: Annotated[
        str, typer.Option("--edition", "-e", help="Edition: stacks/topology/<edition>.yaml.")
    ] = "paris2024",
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="Output format.")
    ] = GraphFormat.mermaid,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file instead of stdout.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    venues: Annotated[
        str | None,
        typer.Option(
            "--venues",
            help="Comma-separated venue codes to draw per-venue services for "
            "(default: all venues of the edition).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw the sites, deployed services and links of an edition's topology."""
    codes = [c.strip() for c in venues.split(",") if c.strip()] if venues is not None else None
    text = api.graph(GraphOptions(edition=edition, format=fmt.value,
                                  venues=tuple(codes) if codes is not None else None))
    if output is None:
        # Plain stdout: rich would wrap and interpret the diagram text.
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot write {output}: {exc.strerror}",
            file=output,
            fix="choose a writable path for --output",
        ) from None
    Console(stderr=True).print(escape(f"wrote {fmt.value} graph of {edition} to {output}"),
                              highlight=False)
