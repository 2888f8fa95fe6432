"""`replicator image build|list|prune`: the project's images, built locally."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from replicator.cli import app
from replicator.cli.options import DockerHost
from replicator import api
from replicator.api.options import EngineOptions, ImageBuildOptions

image_app = typer.Typer(
    help="Build and list the project's container images (offline, from Debian packages).",
    no_args_is_help=True,
)
app.add_typer(image_app, name="image")


@image_app.command("build")
def build(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Images to build (default: all). Parents are built when needed."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Rebuild from scratch even if the recipe's image exists."),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print every build log line.")
    ] = False,
    docker_host: DockerHost = None,
) -> None:
    """Build the images whose recipe changed (or that are missing); skip the rest."""
    options = ImageBuildOptions(names=tuple(names or ()), force=force, verbose=verbose,
                                docker_host=docker_host)
    started = time.monotonic()
    built = api.image_build(options, progress=Console(stderr=True))
    counts: dict[str, int] = {}
    for b in built:
        counts[b.action] = counts.get(b.action, 0) + 1
    detail = ", ".join(f"{n} {a}" for a, n in counts.items())
    Console().print(
        f"{len(built)} image(s): {detail} in {time.monotonic() - started:.1f} s", highlight=False
    )


@image_app.command("list")
def list_images(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    docker_host: DockerHost = None,
) -> None:
    """Show each image the current recipes want: its tag, size and whether it is built."""
    rows = api.image_list(EngineOptions(docker_host=docker_host), progress=Console(stderr=True))
    out = Console()
    if as_json:
        out.print_json(json.dumps([r.to_dict() for r in rows]))
        return
    table = Table(box=None, header_style="bold")
    for col in ("NAME", "REPOSITORY", "TAG (RECIPE HASH)", "PARENT", "SIZE", "STATUS"):
        table.add_column(col, justify="right" if col == "SIZE" else "left", no_wrap=True)
    for r in rows:
        status = "[green]built[/]" if r.present else "[yellow]absent[/]"
        if r.present and not r.latest_current:
            status += " [dim](latest is another image)[/]"
        table.add_row(
            r.name,
            r.ref.rsplit(":", 1)[0],
            r.recipe_hash,
            r.parent or "-",
            f"{r.size / 1e6:.0f} MB" if r.size else "-",
            status,
        )
    out.print(table)


@image_app.command("prune")
def prune(docker_host: DockerHost = None) -> None:
    """Remove replicator images built from older recipes (unused ones only)."""
    removed = api.image_prune(EngineOptions(docker_host=docker_host),
                              progress=Console(stderr=True))
    Console().print(f"removed {len(removed)} outdated image tag(s)")
