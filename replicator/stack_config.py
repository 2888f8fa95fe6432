"""`replicator config get|set|rm`: read and edit stack files the way `pulumi config` does.

The stack files (`stacks/Pulumi.<stack>.yaml`) are edited as ruamel.yaml
round-trip documents, so comments, key order and layout stay as they were.
Every edit is validated with the same code that reads the files for a
deployment (`replicator.topology.settings`: the stack's own settings, its
references into the topology, and the edition's stacks side by side) before
any file is written; each file is then replaced atomically. An edit that
fails validation writes nothing.

Edition-wide keys (`EDITION_WIDE`) hold one value for every stack of an
edition: with `--edition` they are set on (or removed from) all of them at
once. Other keys differ per stack and need `--stack`.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from replicator.errors import InputError
from replicator.topology import (
    StackSettings,
    TopologyError,
    check_stack_set,
    list_stacks,
    load_edition,
    stack_path,
    stack_settings_from_document,
)
from replicator.inputs import parse_yaml, read_text
from replicator.topology.settings import FILE_KEYS, NAMESPACE

# Keys with one value for every stack of an edition (links between sites reach
# every selected venue; the images are the same on every site).
EDITION_WIDE = ("venues", "imageTag")
KEYS = tuple(FILE_KEYS.values())


@dataclass
class StackFile:
    stack: str
    path: Path
    document: Any

    @property
    def config(self) -> CommentedMap:
        return self.document["config"]


def parse_key(key: str) -> str:
    """`replicator:venues` or `venues` -> `venues`; anything else is refused (exit 2)."""
    namespace, sep, name = key.rpartition(":")
    if (sep and namespace != NAMESPACE) or name not in KEYS:
        raise InputError(
            f"unknown key {key!r}", path="KEY",
            fix="use one of: " + ", ".join(f"{NAMESPACE}:{k}" for k in KEYS),
        )
    return name


def parse_value(text: str) -> Any:
    """A value as YAML: `all`, `[AQC, STA]`, `{lan: 10.0.0.0/24, ...}`, `18080`."""
    try:
        value = YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "a syntax error"
        raise InputError(f"value {text!r} is not valid YAML: {problem}{at}", path="VALUE",
                         fix="quote it, or write a list as [A, B] and a mapping as {k: v}") from None
    return _round_trip(value)


def _round_trip(value: Any) -> Any:
    # Lists in flow style, as the project's stack files write them; mappings in block style.
    if isinstance(value, list):
        seq = CommentedSeq(_round_trip(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict):
        return CommentedMap((k, _round_trip(v)) for k, v in value.items())
    return value


def _targets(root: Path, stack: str | None, edition: str | None, key: str,
             editing: bool) -> list[str]:
    if bool(stack) == bool(edition):
        raise InputError("give one of --stack or --edition" + (", not both" if stack else ""),
                         fix="e.g. `replicator config get replicator:venues --edition paris2024`")
    known = list_stacks(root)
    if stack:
        if stack not in known:
            raise InputError(f"no stack named {stack!r} (no stacks/Pulumi.{stack}.yaml)",
                             path="--stack",
                             fix=f"use one of: {', '.join(known) or 'none defined'}")
        return [stack]
    names = [s for s in known if s.startswith(f"{edition}-")]
    if not names:
        raise InputError(f"edition {edition!r} has no stacks", path="--edition",
                         fix=f"stacks: {', '.join(known) or 'none defined'}")
    if editing and key not in EDITION_WIDE:
        raise InputError(
            f"{NAMESPACE}:{key} differs per stack, so it cannot be set for a whole edition",
            path="--edition",
            fix=f"use --stack with one of: {', '.join(names)} (edition-wide keys: "
                + ", ".join(f"{NAMESPACE}:{k}" for k in EDITION_WIDE) + ")")
    return names


def _load(root: Path, stack: str) -> StackFile:
    path = stack_path(root, stack)
    text = read_text(path, error=TopologyError, what="stack file")
    parse_yaml(text, path, error=TopologyError)  # the checks a deployment makes, with lines
    document = YAML(typ="rt").load(text)  # then the round-trip document, to edit
    if not isinstance(document, CommentedMap) or not isinstance(document.get("config"),
                                                                CommentedMap):
        raise TopologyError("a stack file needs a `config:` mapping with the replicator:* keys",
                            file=path, path="config",
                            fix="start from stacks/Pulumi.paris2024-itl.yaml")
    return StackFile(stack, path, document)


def _file_key(config: CommentedMap, key: str) -> str | None:
    """The key as written in the file (namespaced or bare), if present."""
    for candidate in (f"{NAMESPACE}:{key}", key):
        if candidate in config:
            return candidate
    return None


def get_value(root: Path, key: str, *, stack: str | None = None,
              edition: str | None = None) -> dict[str, Any]:
    """stack -> the value in its file (None when the key is not set)."""
    name = parse_key(key)
    out: dict[str, Any] = {}
    for target in _targets(root, stack, edition, name, editing=False):
        config = _load(root, target).config
        found = _file_key(config, name)
        out[target] = _plain(config[found]) if found else None
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def set_value(root: Path, key: str, text: str, *, stack: str | None = None,
              edition: str | None = None) -> list[Path]:
    """Set KEY to VALUE (YAML) on the stack, or on every stack of the edition."""
    name = parse_key(key)
    value = parse_value(text)
    files = [_load(root, t) for t in _targets(root, stack, edition, name, editing=True)]
    for f in files:
        found = _file_key(f.config, name)
        if found:
            f.config[found] = value
        else:
            f.config[f"{NAMESPACE}:{name}"] = value
    return _validate_and_write(root, files)


def remove_value(root: Path, key: str, *, stack: str | None = None,
                 edition: str | None = None) -> list[Path]:
    """Remove KEY from the stack, or from every stack of the edition (its default applies)."""
    name = parse_key(key)
    files = [_load(root, t) for t in _targets(root, stack, edition, name, editing=True)]
    changed = []
    for f in files:
        found = _file_key(f.config, name)
        if found:
            del f.config[found]
            changed.append(f)
    return _validate_and_write(root, changed) if changed else []


def _validate_and_write(root: Path, files: Sequence[StackFile]) -> list[Path]:
    """Check the edited files as a deployment would, then replace each atomically."""
    edited = {f.stack: f for f in files}
    settings: dict[str, StackSettings] = {}
    for f in files:
        s = stack_settings_from_document(f.document, source=f.path, stack=f.stack,
                                         project_root=root)
        s.check_against(load_edition(root, s.edition))
        settings[f.stack] = s
    for edition in sorted({s.edition for s in settings.values()}):
        side_by_side = []
        for name in list_stacks(root):
            if name in settings:
                side_by_side.append(settings[name])
            elif name.startswith(f"{edition}-"):
                side_by_side.append(stack_settings_from_document(
                    _load(root, name).document, source=stack_path(root, name), stack=name,
                    project_root=root))
        check_stack_set(side_by_side, load_edition(root, edition))
    for f in edited.values():
        _write_atomically(f.path, dump(f.document))
    return [f.path for f in edited.values()]


def dump(document: Any) -> str:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # never fold a long line the user wrote on one
    buf = io.StringIO()
    yaml.dump(document, buf)
    return buf.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
