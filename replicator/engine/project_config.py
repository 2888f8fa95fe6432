"""Project-level configuration: the `config:` block of Pulumi.yaml.

As the Pulumi CLI reads it: a key is either a plain value (`docker:host:
unix:///...`), a `{value: ...}` map, or a declaration `{type, default,
description, secret}`. A declared project key without a default must be set
by every stack; a missing one stops the run before the program starts, with
exit 2 and the command that sets it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicator.errors import InputError

_DECLARATION_KEYS = {"type", "default", "description", "secret", "items", "value"}
_TYPES = ("string", "integer", "boolean", "array", "object")


@dataclass(frozen=True)
class ProjectConfig:
    values: dict[str, str] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()
    # Declared type of each declared project key; `required` holds those with no default.
    types: dict[str, str] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    file: Path | None = None

    @classmethod
    def parse(cls, raw: Any, *, project: str, file: Path) -> ProjectConfig:
        from replicator.engine.workspace import config_string

        if raw is None:
            return cls(file=file)
        if not isinstance(raw, dict):
            raise InputError("`config:` must map keys to values or declarations", file=file,
                             path="config", fix="write `config:` as a mapping")
        values: dict[str, str] = {}
        secrets: set[str] = set()
        types: dict[str, str] = {}
        required: set[str] = set()
        for key, spec in raw.items():
            full = str(key) if ":" in str(key) else f"{project}:{key}"
            if not (isinstance(spec, dict) and spec and set(spec) <= _DECLARATION_KEYS):
                values[full] = config_string(spec)
                continue
            type_ = spec.get("type")
            if type_ is not None and type_ not in _TYPES:
                raise InputError(f"config key {key} declares the unknown type {type_!r}",
                                 file=file, path=f"config.{key}.type",
                                 fix=f"use one of: {', '.join(_TYPES)}")
            if type_:
                types[full] = type_
            if spec.get("secret"):
                secrets.add(full)
            if "value" in spec or "default" in spec:
                values[full] = config_string(spec.get("value", spec.get("default")))
            elif type_:
                required.add(full)
        return cls(values, frozenset(secrets), types, frozenset(required), file)

    def check(self, config: dict[str, str], *, stack: str, stack_file: Path,
              project_root: Path) -> None:
        """Every declared key is set and has its declared type."""
        for key in sorted(self.required):
            if key not in config:
                short = key.split(":", 1)[1]
                raise InputError(
                    f"stack {stack} is missing the required configuration value {key} "
                    f"(declared without a default in Pulumi.yaml)",
                    file=stack_file, path=f"config.{key}",
                    fix=f"replicator config set {short} VALUE --stack {stack} "
                        f"--cwd {project_root} (add --secret for a secret)")
        for key, type_ in self.types.items():
            if key in config and not _has_type(config[key], type_):
                raise InputError(
                    f"configuration value {key} of stack {stack} is not of type {type_} "
                    "(as Pulumi.yaml declares)",
                    file=stack_file, path=f"config.{key}", fix=f"set {key} to a {type_} value")


def _has_type(text: str, type_: str) -> bool:
    if type_ == "string":
        return True
    try:
        value = json.loads(text)
    except ValueError:
        return False
    expected = {"integer": int, "boolean": bool, "array": list, "object": dict}[type_]
    if type_ == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, expected)
