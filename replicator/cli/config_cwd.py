"""`replicator config get|set|rm --cwd DIR`: any Pulumi project's stack files.

Called by `replicator.cli.config` when `--cwd` is given: a thin layer over
`replicator.engine.stack_config` (comments kept, atomic writes, `--secret`
values encrypted by the backend's secrets provider).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from replicator.engine import stack_config
from replicator.errors import InputError

def _runner(cwd: Path | None, backend_url: str | None) -> Any:
    from replicator.api.targets import project_runner

    if cwd is not None:
        return project_runner(cwd, backend_url)
    from replicator.engine import StackRunner
    from replicator.paths import find_project_root, work_dir

    root = find_project_root()
    return StackRunner(root, work_dir(root))


def _stack_file(runner: Any, stack: str | None, cwd: Path | None) -> tuple[Path, str]:
    from replicator.api.targets import stack_name

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


def set_(key: str, value: str, stack: str | None, secret: bool, as_json: bool,
         cwd: Path, backend_url: str | None) -> None:
    """Set KEY to VALUE in the stack file."""
    runner = _runner(cwd, backend_url)
    path, _ = _stack_file(runner, stack, cwd)
    stack_config.set_value(path, runner.project.name, key, _parse(value, as_json), secret=secret,
                           secrets=runner.secrets)
    Console(stderr=True).print(f"set {key} in {path}" + (" (encrypted)" if secret else ""),
                               highlight=False)


def get(key: str, stack: str | None, show_secrets: bool, cwd: Path,
        backend_url: str | None) -> None:
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


def rm(key: str, stack: str | None, cwd: Path, backend_url: str | None) -> None:
    """Remove KEY from the stack file."""
    runner = _runner(cwd, backend_url)
    path, name = _stack_file(runner, stack, cwd)
    if not stack_config.remove_value(path, runner.project.name, key):
        raise InputError(f"stack {name} has no config value {key}", file=path)
    Console(stderr=True).print(f"removed {key} from {path}", highlight=False)
