"""`replicator config get|set|rm`: a stack's config values, as `pulumi config` does.

A thin layer over `replicator.engine.stack_config` (comments kept, atomic
writes, `--secret` values encrypted by the project's secrets provider). With
`--cwd DIR` it works on any Pulumi project's stack files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from replicator.cli import app
from replicator.cli.options import BackendUrlOpt, CwdOpt
from replicator.engine import stack_config
from replicator.errors import InputError

config_app = typer.Typer(help="Read and write a stack's config values (`pulumi config`).",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")

KeyArg = Annotated[str, typer.Argument(help="`name` (this project's namespace) or `ns:name`.")]
StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="The stack.",
                                              show_default=False)]


def _runner(cwd: Path | None, backend_url: str | None) -> Any:
    from replicator.cli.targets import project_runner

    if cwd is not None:
        return project_runner(cwd, backend_url)
    from replicator.engine import StackRunner
    from replicator.paths import find_project_root, work_dir

    root = find_project_root()
    return StackRunner(root, work_dir(root))


def _stack_file(runner: Any, stack: str | None, cwd: Path | None) -> tuple[Path, str]:
    from replicator.cli.targets import stack_name

    name = stack_name(runner.project, stack)
    if cwd is None and name not in runner.project.stacks():
        raise InputError(f"no stack named {name!r}",
                         fix=f"use one of: {', '.join(runner.project.stacks()) or 'none'}")
    return runner.project.stack_file(name), name


def _parse(value: str, as_json: bool) -> Any:
    if not as_json:
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise InputError(f"--json value is not valid JSON: {exc}",
                         fix="quote the value as JSON, e.g. '[\"a\", \"b\"]'") from exc


@config_app.command("set")
def set_(key: KeyArg, value: Annotated[str, typer.Argument(help="The value.")],
         stack: StackOpt = None, secret: Annotated[bool, typer.Option(
             "--secret", help="Encrypt the value (stored as `secure:`).")] = False,
         as_json: Annotated[bool, typer.Option("--json", help="VALUE is JSON.")] = False,
         cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Set KEY to VALUE in the stack file."""
    runner = _runner(cwd, backend_url)
    path, _ = _stack_file(runner, stack, cwd)
    stack_config.set_value(path, runner.project.name, key, _parse(value, as_json), secret=secret,
                           secrets=runner.secrets)
    Console(stderr=True).print(f"set {key} in {path}" + (" (encrypted)" if secret else ""),
                               highlight=False)


@config_app.command("get")
def get(key: KeyArg, stack: StackOpt = None, show_secrets: Annotated[bool, typer.Option(
        "--show-secrets")] = False, cwd: CwdOpt = None, backend_url: BackendUrlOpt = None) -> None:
    """Print KEY's value (a secret as [secret] unless --show-secrets)."""
    runner = _runner(cwd, backend_url)
    path, name = _stack_file(runner, stack, cwd)
    found, value = stack_config.get_value(path, runner.project.name, key,
                                          secrets=runner.secrets if show_secrets else None)
    if not found:
        raise InputError(f"stack {name} has no config value {key}", file=path,
                         fix=f"set it with `replicator config set {key} VALUE --stack {name}`")
    if stack_config.is_secure(value):
        value = "[secret]"
    print(value if isinstance(value, str) else json.dumps(value))


@config_app.command("rm")
def rm(key: KeyArg, stack: StackOpt = None, cwd: CwdOpt = None,
       backend_url: BackendUrlOpt = None) -> None:
    """Remove KEY from the stack file."""
    runner = _runner(cwd, backend_url)
    path, name = _stack_file(runner, stack, cwd)
    if not stack_config.remove_value(path, runner.project.name, key):
        raise InputError(f"stack {name} has no config value {key}", file=path)
    Console(stderr=True).print(f"removed {key} from {path}", highlight=False)
