"""The Pulumi project on disk: `Pulumi.yaml` and the stack config files.

Reads them the way the Pulumi CLI does (project name, `main`,
`stackConfigDir`, `config:` with `<project>:` namespaces) so that the embedded
engine and a real `pulumi up` see the same program and the same config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from replicator.errors import InputError
from replicator.inputs import check_pulumi_stack_name, load_yaml
from replicator.inputs.project import read_project_file


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    program: Path
    stack_config_dir: Path

    @classmethod
    def load(cls, root: Path) -> Project:
        root = root.resolve()
        file = read_project_file(root)
        if file.runtime != "python":
            raise InputError(f"runtime {file.runtime!r} is not supported by the embedded engine",
                             file=file.path, path="runtime", fix="use `runtime: python`")
        program = (root / file.main).resolve()
        if program.is_dir():
            program = program / "__main__.py"
        if not program.is_file():
            raise InputError(f"the program {program} does not exist", file=file.path,
                             path="main",
                             fix="point `main` at the directory holding __main__.py")
        return cls(root=root, name=file.name, program=program,
                   stack_config_dir=(root / file.stack_config_dir).resolve())

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(p.name[len("Pulumi."):-len(".yaml")]
                      for p in self.stack_config_dir.glob("Pulumi.*.yaml"))

    def stack_config(self, stack: str) -> tuple[dict[str, str], list[str]]:
        """The flat config map (`<namespace>:<key>` -> string) and its secret keys."""
        check_pulumi_stack_name(stack)
        path = self.stack_file(stack)
        if not path.is_file():
            known = ", ".join(self.stacks()) or "none"
            raise InputError(
                f"no stack named {stack!r}: {path.relative_to(self.root)} does not exist",
                fix=f"use one of the stacks of this project: {known}",
            )
        data = load_yaml(path, what="stack file") or {}
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
