"""The Pulumi project on disk: `Pulumi.yaml` and the stack config files.

Reads them the way the Pulumi CLI does (project name, `main`,
`stackConfigDir`, `config:` with `<project>:` namespaces) so that the embedded
engine and a real `pulumi up` see the same program and the same config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from replicator.errors import InputError


def _load_yaml(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text())
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
                         line=mark.line + 1 if mark else None,
                         fix="correct the YAML syntax at that line") from exc


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    program: Path
    stack_config_dir: Path

    @classmethod
    def load(cls, root: Path) -> Project:
        root = root.resolve()
        path = root / "Pulumi.yaml"
        if not path.is_file():
            raise InputError(f"no Pulumi.yaml in {root}", fix="run from the project checkout")
        data = _load_yaml(path) or {}
        if not isinstance(data, dict) or not data.get("name"):
            raise InputError("Pulumi.yaml has no project name", file=path, path="name",
                             fix="add `name: replicator`")
        runtime = data.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise InputError(f"runtime {runtime_name!r} is not supported by the embedded engine",
                             file=path, path="runtime", fix="use `runtime: python`")
        program = (root / data.get("main", ".")).resolve()
        if program.is_dir():
            program = program / "__main__.py"
        if not program.is_file():
            raise InputError(f"the program {program} does not exist", file=path, path="main",
                             fix="point `main` at the directory holding __main__.py")
        return cls(root=root, name=str(data["name"]), program=program,
                   stack_config_dir=(root / data.get("stackConfigDir", ".")).resolve())

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(p.name[len("Pulumi."):-len(".yaml")]
                      for p in self.stack_config_dir.glob("Pulumi.*.yaml"))

    def stack_config(self, stack: str) -> tuple[dict[str, str], list[str]]:
        """The flat config map (`<namespace>:<key>` -> string) and its secret keys."""
        path = self.stack_file(stack)
        if not path.is_file():
            known = ", ".join(self.stacks()) or "none"
            raise InputError(
                f"no stack named {stack!r}: {path.relative_to(self.root)} does not exist",
                fix=f"use one of the stacks of this project: {known}",
            )
        data = _load_yaml(path) or {}
        if not isinstance(data, dict):
            raise InputError("a stack file must be a mapping with a `config:` key", file=path)
        config: dict[str, str] = {}
        secret_keys: list[str] = []
        for key, value in (data.get("config") or {}).items():
            full = key if ":" in key else f"{self.name}:{key}"
            if isinstance(value, dict) and set(value) == {"secure"}:
                raise InputError(
                    f"config key {key} holds a `secure:` value; secrets are generated per "
                    "environment by replicator and never stored in stack files",
                    file=path, path=f"config.{key}",
                    fix="remove the key from the stack file",
                )
            # Pulumi config values are strings; YAML may have read a date or a number.
            config[full] = value if isinstance(value, str) else (
                json.dumps(value, default=str) if isinstance(value, (dict, list)) else
                json.dumps(value) if isinstance(value, bool) or value is None else str(value))
        return config, secret_keys
