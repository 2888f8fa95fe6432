"""`replicator hosts up|list|down`: simulated hosts (one dockerd each) joined by Docker Swarm."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from replicator import api
from replicator.api.events import Event, HostsMessage
from replicator.api.options import HostsDownOptions, HostsUpOptions
from replicator.cli import app
from replicator.cli.options import EditionOpt
from replicator.errors import InputError

hosts_app = typer.Typer(
    help="Simulated hosts: one Docker engine per host in its own network namespace, "
         "joined by Docker Swarm; the edition's stacks are pointed at them.",
    no_args_is_help=True,
)
app.add_typer(hosts_app, name="hosts")
console = Console()
err = Console(stderr=True)

PerSiteOpt = Annotated[int, typer.Option("--per-site", min=1, max=8,
                                         help="Hosts per site (a site then spans them).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON result on stdout.")]


def _render(event: Event) -> None:
    if isinstance(event, HostsMessage):
        if event.warning:
            err.print(f"[yellow]warning:[/] {event.text}", highlight=False)
        else:
            err.print(event.text, highlight=False, markup=False)


@hosts_app.command("up")
def up(edition: EditionOpt = None, per_site: PerSiteOpt = 1, json_: JsonOpt = False) -> None:
    """Start the hosts, load the images, form the swarm, point the stacks at the hosts."""
    if not edition:
        raise InputError("which edition? give --edition", fix="e.g. `replicator hosts up "
                                                             "--edition paris2024`")
    record = api.hosts_up(HostsUpOptions(edition=edition, per_site=per_site), on_event=_render)
    if json_:
        print(record.model_dump_json(indent=2))
    else:
        console.print(f"{len(record.hosts)} hosts up for {edition} (swarm "
                      f"{(record.swarm_id or '?')[:12]}); `replicator up --edition {edition}` "
                      "now deploys onto them")


@hosts_app.command("list")
def list_(json_: JsonOpt = False) -> None:
    """The hosts, their engines, roles, state and the stacks that use them."""
    rows = api.hosts_list()
    if json_:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return
    if not rows:
        console.print("no simulated hosts (start some with `replicator hosts up --edition E`)")
        return
    for edition in dict.fromkeys(r.edition for r in rows):
        table = Table("Host", "Engine", "Address", "Role", "State", "Stacks",
                      title=f"{edition}: simulated hosts", title_justify="left")
        for r in (r for r in rows if r.edition == edition):
            style = "green" if r.state == "up" else "red"
            table.add_row(r.host, r.engine.removeprefix("unix://"), r.address, r.role,
                          f"[{style}]{r.state}[/]",
                          ", ".join(s.removeprefix(f"{edition}-") for s in r.stacks))
        console.print(table)


@hosts_app.command("down")
def down(edition: EditionOpt = None, json_: JsonOpt = False) -> None:
    """Stop the hosts' engines (by pid), remove their namespaces, bridge and files."""
    gone = api.hosts_down(HostsDownOptions(edition=edition), on_event=_render)
    if json_:
        print(json.dumps({"removed": gone}, indent=2))
    elif not gone:
        console.print("no simulated hosts to remove")
