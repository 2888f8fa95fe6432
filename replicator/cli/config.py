"""`replicator config get|set|rm`: the stack files' keys, like `pulumi config`.

A thin layer over `replicator.api.config_get|set|rm` (`replicator.stack_config`
keeps comments and layout and validates every edit before it writes anything;
`--cwd` projects go through the engine's stack files and secrets provider).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from replicator import api
from replicator.api.options import ConfigOptions
from replicator.cli import app
from replicator.cli.options import BackendUrlOpt, CwdOpt

config_app = typer.Typer(
    help="Read and edit stack settings (stacks/Pulumi.<stack>.yaml) like `pulumi config`; "
         "edition-wide keys (replicator:venues, replicator:imageTag) take --edition.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")

KeyArg = Annotated[str, typer.Argument(help="Key, e.g. replicator:venues (or venues).",
                                       show_default=False)]
StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="One stack, e.g. "
                                              "paris2024-toc.", show_default=False)]
EditionOpt = Annotated[str | None, typer.Option("--edition", "-e", help="Every stack of an "
                                                "edition.", show_default=False)]


def _say(text: str) -> None:
    Console(stderr=True).print(text, highlight=False)


@config_app.command("get")
def get(key: KeyArg, stack: StackOpt = None, edition: EditionOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        show_secrets: Annotated[bool, typer.Option("--show-secrets")] = False,
        cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Print a key's value (per stack with --edition; `null` when unset)."""
    options = ConfigOptions(key=key, stack=stack, edition=edition, cwd=cwd,
                            backend_url=backend_url)
    values = api.config_get(options, show_secrets=show_secrets)
    if as_json:
        typer.echo(json.dumps(values if edition else next(iter(values.values())), indent=2))
        return
    distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
    if not edition or len(distinct) == 1:
        typer.echo(_text(next(iter(values.values()))))
        return
    for name, value in values.items():
        typer.echo(f"{name}: {_text(value)}")


def _text(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, str):
        return value
    return json.dumps(value)


@config_app.command("set")
def set_(key: KeyArg,
         value: Annotated[str, typer.Argument(help="Value, as YAML: all, [AQC, STA], 18080, "
                                                   "{lan: 10.0.1.0/24, edge: 10.0.101.0/24}.",
                                              show_default=False)],
         stack: StackOpt = None, edition: EditionOpt = None,
         secret: Annotated[bool, typer.Option("--secret", help="With --cwd: encrypt the value "
                                              "(stored as `secure:`).")] = False,
         cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Set a key (validated first: a bad key or value changes no file, exit 2)."""
    options = ConfigOptions(key=key, stack=stack, edition=edition, cwd=cwd,
                            backend_url=backend_url)
    for path in api.config_set(options, value, secret=secret):
        _say(f"set {key} in {path}" + (" (encrypted)" if secret else ""))


@config_app.command("rm")
def rm(key: KeyArg, stack: StackOpt = None, edition: EditionOpt = None, cwd: CwdOpt = None,
       backend_url: BackendUrlOpt = None) -> None:
    """Remove a key (its default then applies; validated first)."""
    options = ConfigOptions(key=key, stack=stack, edition=edition, cwd=cwd,
                            backend_url=backend_url)
    paths = api.config_rm(options)
    for path in paths:
        _say(f"removed {key} from {path}")
    if not paths:
        _say(f"{key} was not set")
