"""`Pulumi.yaml`, the project file: read and checked before any command does anything.

The embedded engine and the CLI both start here, so a binary, oversized or
malformed project file is exit 2 with its line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replicator.errors import InputError
from replicator.inputs.paths import line_of
from replicator.inputs.yamlio import load_yaml

PROJECT_FILE = "Pulumi.yaml"
PROJECT_FILE_BYTES = 64 * 1024  # a Pulumi.yaml is a few lines


@dataclass(frozen=True)
class ProjectFile:
    path: Path
    name: str
    runtime: str
    main: str  # relative to the project root
    stack_config_dir: str
    # The project-level `config:` block as written (read by replicator.engine.project_config).
    config: Any = None
    runtime_line: int = 1  # where `runtime:` is written


def read_project_file(root: Path) -> ProjectFile:
    path = root / PROJECT_FILE
    if not path.is_file():
        raise InputError(f"no {PROJECT_FILE} in {root}", fix="run from the project checkout")
    data = load_yaml(path, what="project file", max_bytes=PROJECT_FILE_BYTES)
    if not isinstance(data, dict):
        raise InputError(f"{PROJECT_FILE} must be a mapping (name, runtime, main)", file=path,
                         line=1, fix="start from the Pulumi.yaml of the replicator checkout")

    def text(key: str, default: str | None, fix: str) -> str:
        value = data.get(key, default)
        if value is None:
            raise InputError(f"{PROJECT_FILE} has no project {key}", file=path, path=key,
                             line=1, fix=fix)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"`{key}` must be a non-empty string (got {_shown(value)})",
                             file=path, path=key, line=line_of(data, key) or 1, fix=fix)
        return value

    runtime = data.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if not isinstance(runtime_name, str) or not runtime_name:
        raise InputError(f"runtime {_shown(runtime_name)} is not supported: `runtime` names "
                         "a language runtime",
                         file=path, path="runtime", line=line_of(data, "runtime") or 1,
                         fix="use `runtime: python`")
    return ProjectFile(
        path=path,
        name=text("name", None, "add `name: replicator`"),
        runtime=runtime_name,
        main=text("main", ".", "point `main` at the directory holding __main__.py"),
        stack_config_dir=text("stackConfigDir", ".", "set `stackConfigDir: stacks`"),
        config=data.get("config"),
        runtime_line=line_of(data, "runtime") or 1,
    )


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
