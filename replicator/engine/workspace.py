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

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from replicator.engine.project_config import ProjectConfig
from replicator.engine.secrets import SecretsManager
from replicator.engine.stack_config import is_secure
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
    defaults: ProjectConfig = field(default_factory=ProjectConfig)

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
        name = str(data["name"])
        return cls(root=root, name=name, program=program,
                   stack_config_dir=(root / data.get("stackConfigDir", ".")).resolve(),
                   defaults=ProjectConfig.parse(data.get("config"), project=name, file=path))

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
        path = self.stack_file(stack)
        if not path.is_file() and must_exist:
            known = ", ".join(self.stacks()) or "none"
            raise InputError(
                f"no stack named {stack!r}: {path.relative_to(self.root)} does not exist",
                fix=f"use one of the stacks of this project: {known}",
            )
        data = (_load_yaml(path) if path.is_file() else None) or {}
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
                value = secrets.decrypt_value(str(value["secure"]), where=f"{path}: config.{key}")
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
