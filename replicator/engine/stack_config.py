"""Reading and writing the values of one stack file, as `pulumi config` does.

The one place that writes `Pulumi.<stack>.yaml` (shared by `replicator config`
and anything else that sets stack keys): comments and layout are kept
(ruamel.yaml round trip), the file is replaced atomically, and a secret value
is stored as `secure: <ciphertext>` from the project's secrets provider, never
in plain text.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from replicator.engine.secrets import SecretsManager
from replicator.atomic import write_atomic
from replicator.errors import InputError
from replicator.inputs.files import read_text
from replicator.inputs.paths import line_of

SECURE = "secure"


def full_key(key: str, project: str) -> str:
    """`name` -> `<project>:name`; a namespaced key (`docker:host`) stays as it is."""
    if not key or key.startswith(":") or key.endswith(":") or key.count(":") > 1:
        raise InputError(f"config key {key!r} is not valid",
                         fix="use `name` or `namespace:name` (e.g. `docker:host`)")
    return key if ":" in key else f"{project}:{key}"


def is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SECURE}


def _round_trip() -> YAML:
    yaml = YAML()  # round-trip mode: comments, order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # a ciphertext stays on one line
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: Path) -> Any:
    if not path.exists():
        return None
    try:
        return _round_trip().load(read_text(path, what="stack file"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path,
                         line=mark.line + 1 if mark else None,
                         fix="correct the YAML syntax at that line") from exc


def _config_map(doc: Any, path: Path) -> Any:
    if not isinstance(doc, dict):
        raise InputError("a stack file must be a mapping with a `config:` key", file=path,
                         fix="start the file with `config:`")
    if doc.get("config") is None:
        doc["config"] = {}
    if not isinstance(doc["config"], dict):
        raise InputError("`config:` must be a mapping of keys to values", file=path,
                         path="config")
    return doc["config"]


def _find(config: Any, key: str, project: str) -> str | None:
    """The spelling of `key` in the file (`name` and `<project>:name` are one key)."""
    wanted = full_key(key, project)
    return next((k for k in config if full_key(str(k), project) == wanted), None)


def set_value(path: Path, project: str, key: str, value: Any, *,
              secret: bool = False, secrets: SecretsManager | None = None) -> None:
    """Set `key` in the stack file at `path` (created when missing)."""
    doc = _load(path)
    if doc is None:
        doc = _round_trip().load("config: {}\n")
    config = _config_map(doc, path)
    spelled = _find(config, key, project) or full_key(key, project)
    if secret:
        if secrets is None:
            raise InputError("a secret value needs the project's secrets provider",
                             fix="run the command from a replicator project or backend")
        config[spelled] = {SECURE: secrets.encrypt_value(value)}
    else:
        config[spelled] = value
    _write(path, doc)


def remove_value(path: Path, project: str, key: str) -> bool:
    """Remove `key`; False when the file or the key was not there."""
    doc = _load(path)
    if doc is None:
        return False
    config = _config_map(doc, path)
    spelled = _find(config, key, project)
    if spelled is None:
        return False
    del config[spelled]
    _write(path, doc)
    return True


def get_value(path: Path, project: str, key: str, *,
              secrets: SecretsManager | None = None) -> tuple[bool, Any]:
    """(found, value); a `secure:` value is decrypted when `secrets` is given."""
    doc = _load(path)
    if doc is None:
        return False, None
    config = _config_map(doc, path)
    spelled = _find(config, key, project)
    if spelled is None:
        return False, None
    value = config[spelled]
    if is_secure(value) and secrets is not None:
        return True, secrets.decrypt_value(str(value[SECURE]), where=f"config.{spelled}",
                                           file=path, line=line_of(config, [spelled, SECURE]))
    return True, value


def _write(path: Path, doc: Any) -> None:
    buf = io.StringIO()
    _round_trip().dump(doc, buf)
    write_atomic(path, buf.getvalue(), mode=None)
