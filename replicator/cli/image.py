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
from replicator.dockerd import connect, ensure_engine

image_app = typer.Typer(
    help="Build and list the project's container images (offline, from Debian packages).",
    no_args_is_help=True,
)
app.add_typer(image_app, name="image")


def _client(docker_host: str | None, console: Console):
    info = ensure_engine(docker_host, console=console)
    return connect(info.docker_host)


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
    from replicator.images import build_images
    from replicator.images.build import check_image_names
    from replicator.images.recipes import load_recipes

    check_image_names(names, load_recipes())  # before the engine is started or reached
    err = Console(stderr=True)
    client = _client(docker_host, err)
    started = time.monotonic()
    built = build_images(client, names or None, force=force, progress=err, verbose=verbose)
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
    from replicator.images import image_status

    client = _client(docker_host, Console(stderr=True))
    rows = image_status(client)
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
    from replicator.images import prune_images

    err = Console(stderr=True)
    removed = prune_images(_client(docker_host, err), progress=err)
    Console().print(f"removed {len(removed)} outdated image tag(s)")
