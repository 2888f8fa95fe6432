"""The Pulumi project on disk: `Pulumi.yaml` and the stack config files.

Reads them the way the Pulumi CLI does (project name, `main`,
`stackConfigDir`, project-level `config:` in Pulumi.yaml, stack files with
`<project>:` namespaces and `secure:` values) so that the embedded engine and
a real `pulumi up` see the same program and the same config.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicator.engine.project_config import ProjectConfig
from replicator.engine.secrets import SecretsManager
from replicator.engine.stack_config import is_secure
from replicator.errors import InputError
from replicator.inputs import check_pulumi_stack_name, load_yaml
from replicator.inputs.paths import line_of
from replicator.inputs.project import read_project_file


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    program: Path
    stack_config_dir: Path
    defaults: ProjectConfig = field(default_factory=ProjectConfig)

    @classmethod
    def load(cls, root: Path) -> Project:
        root = root.resolve()
        file = read_project_file(root)
        if file.runtime != "python":
            raise InputError(f"runtime {file.runtime!r} is not supported by the embedded engine",
                             file=file.path, path="runtime", line=file.runtime_line,
                             fix="use `runtime: python` (the embedded engine runs Python "
                                 "programs only)")
        program = (root / file.main).resolve()
        if program.is_dir():
            program = program / "__main__.py"
        if not program.is_file():
            raise InputError(f"the program {program} does not exist", file=file.path,
                             path="main",
                             fix="point `main` at the directory holding __main__.py")
        return cls(root=root, name=file.name, program=program,
                   stack_config_dir=(root / file.stack_config_dir).resolve(),
                   defaults=ProjectConfig.parse(file.config, project=file.name, file=file.path))

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(p.name[len("Pulumi."):-len(".yaml")]
                      for p in self.stack_config_dir.glob("Pulumi.*.yaml"))

    def stack_config(self, stack: str, *, secrets: SecretsManager | None = None,
                     must_exist: bool = True) -> tuple[dict[str, str], list[str]]:
        """The flat config map (`<namespace>:<key>` -> string) and its secret keys.

        Project-level values (`config:` in Pulumi.yaml) come first and the stack
        file overrides them. Without a stack file the stack has an empty config
        (as after `pulumi stack init`) unless `must_exist`.
        """
        check_pulumi_stack_name(stack)
        path = self.stack_file(stack)
        if not path.is_file() and must_exist:
            known = ", ".join(self.stacks()) or "none"
            raise InputError(
                f"no stack named {stack!r}: {path.relative_to(self.root)} does not exist",
                fix=f"use one of the stacks of this project: {known}",
            )
        data = (load_yaml(path, what="stack file") if path.is_file() else None) or {}
        if not isinstance(data, dict):
            raise InputError("a stack file must be a mapping with a `config:` key", file=path)
        config, secret_keys = dict(self.defaults.values), set(self.defaults.secret_keys)
        for key, value in (data.get("config") or {}).items():
            full = key if ":" in key else f"{self.name}:{key}"
            if is_secure(value):
                if secrets is None:
                    raise InputError(
                        f"config key {key} holds a `secure:` value; secrets of this project are "
                        "generated per environment by replicator and never stored in stack files",
                        file=path, path=f"config.{key}", fix="remove the key from the stack file")
                value = secrets.decrypt_value(str(value["secure"]), where=f"config.{key}",
                                              file=path, line=line_of(data, ["config", key, "secure"]))
                secret_keys.add(full)
            else:
                secret_keys.discard(full)
            config[full] = config_string(value)
        self.defaults.check(config, stack=stack, stack_file=path, project_root=self.root)
        return config, sorted(secret_keys)


def config_string(value: Any) -> str:
    """Pulumi config values are strings; YAML may have read a date, a number or an object."""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)
