"""Which stacks a stack verb runs on, and which runner runs them.

Two kinds of project: this one (stacks checked against the topology model,
state in `.replicator/`), or any Python Pulumi project named with `--cwd DIR`
(as `pulumi --cwd`), whose state lives in a file backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.inputs.deploy import DEFAULT_PARALLEL
from replicator.errors import InputError

_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass
class Targets:
    runner: Any  # StackRunner or PulumiCliRunner
    names: list[str]


def resolve(stack: str | None, edition: str | None, *, cwd: Path | None, engine: str,
            backend_url: str | None = None, parallel: int = DEFAULT_PARALLEL,
            root: Path | None = None) -> Targets:
    """`root`: this project's directory (default: found from the working directory)."""
    if cwd is None:
        return _this_project(stack, edition, engine, parallel, root)
    if edition:
        raise InputError("--edition names stacks of this project; it cannot be used with --cwd",
                         fix="name one stack: replicator up --cwd DIR STACK")
    if engine == "pulumi":
        raise InputError("--cwd runs a project with the embedded engine",
                         fix="with a Pulumi CLI, run `pulumi --cwd DIR` directly")
    runner = project_runner(cwd, backend_url, parallel=parallel)
    name = stack_name(runner.project, stack)
    runner.config(name)  # bad or missing config stops here, before any output
    return Targets(runner, [name])


def project_runner(cwd: Path, backend_url: str | None, *, parallel: int = DEFAULT_PARALLEL) -> Any:
    from replicator.engine import StackRunner
    from replicator.engine.backend import Backend

    if not (cwd / "Pulumi.yaml").is_file():
        raise InputError(f"--cwd {cwd}: no Pulumi.yaml there",
                         fix="point --cwd at a Pulumi project directory")
    backend = Backend.from_url(backend_url)
    return StackRunner(cwd, backend.secrets_dir, parallel=parallel, backend=backend,
                       new_stacks=True)


def stack_name(project: Any, stack: str | None) -> str:
    """The stack to run: as given (`org/project/stack` too), else the project's only one."""
    if stack is None:
        known = project.stacks()
        if len(known) != 1:
            raise InputError(f"project {project.name} has {len(known)} stack files; name the stack",
                             fix=f"add the stack name, e.g. `replicator up --cwd {project.root} dev`")
        return known[0]
    parts = stack.split("/")
    if len(parts) in (2, 3) and parts[-2] != project.name:
        raise InputError(f"stack {stack} belongs to project {parts[-2]}, not {project.name}",
                         fix="name a stack of the project in --cwd")
    name = parts[-1]
    if not _STACK_NAME.match(name):
        raise InputError(f"stack name {name!r} is not valid",
                         fix="use letters, digits, '-', '_' and '.' (at most 100)")
    return name


def _this_project(stack: str | None, edition: str | None, engine: str, parallel: int,
                  root: Path | None) -> Targets:
    from replicator.paths import find_project_root, work_dir
    from replicator.stacks import resolve_targets

    root = root or find_project_root()
    names = [t.name for t in resolve_targets(root, stack, edition)]
    # The engine (pulumi, grpc, docker: about 0.9 s of imports) only once the input is checked.
    from replicator.engine.selection import select_backend

    return Targets(select_backend(engine, root, work_dir(root), parallel=parallel), names)
