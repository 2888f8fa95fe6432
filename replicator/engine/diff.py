"""What a step does to one resource: create, update, replace, delete or nothing.

Pure functions over input dictionaries, so that the rules can be tested
without Docker. The rules follow pulumi-docker (a bridge of the Terraform
Docker provider): a change to a property the provider cannot update in
place forces a replacement; `ignoreChanges` keeps the old value of a
property; `replaceOnChanges` forces a replacement; a change of provider (for
example another Docker host) replaces the resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from replicator.engine.properties import contains_unknown


class Op(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"
    READ = "read"
    REFRESH = "refresh"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " ",
                "read": ">", "refresh": "~"}[self.value]

    @property
    def past(self) -> str:
        return {"create": "created", "update": "updated", "replace": "replaced",
                "delete": "deleted", "same": "unchanged", "read": "read",
                "refresh": "refreshed"}[self.value]


@dataclass(frozen=True)
class DiffResult:
    op: Op
    changed: tuple[str, ...] = ()
    replace_keys: tuple[str, ...] = ()
    reason: str = ""
    delete_before_replace: bool = False

    def describe(self) -> str:
        parts = []
        if self.replace_keys:
            parts.append("replace: " + ", ".join(self.replace_keys))
        elif self.changed:
            parts.append("diff: " + ", ".join(self.changed))
        if self.reason:
            parts.append(self.reason)
        return "; ".join(parts)


@dataclass(frozen=True)
class Schema:
    """Which input properties a provider can change in place."""

    updatable: frozenset[str] = field(default_factory=frozenset)
    # Engine-side behaviour flags that never reach the backend.
    engine_only: frozenset[str] = field(default_factory=frozenset)


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+|\"[^\"]*\")\]")


def parse_path(path: str) -> list[str | int]:
    """`ports[0].external` -> ["ports", 0, "external"]; `labels["a.b"]` works too."""
    tokens: list[str | int] = []
    for name, index in _PATH_TOKEN.findall(path):
        if name:
            tokens.append(name)
        elif index.startswith('"'):
            tokens.append(index[1:-1])
        else:
            tokens.append(int(index))
    return tokens


def _get(tree: Any, path: list[str | int]) -> tuple[bool, Any]:
    node = tree
    for token in path:
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                return False, None
            node = node[token]
        else:
            if not isinstance(node, dict) or token not in node:
                return False, None
            node = node[token]
    return True, node


def _set(tree: Any, path: list[str | int], value: Any) -> bool:
    node = tree
    for token in path[:-1]:
        found, node = _get(node, [token])
        if not found:
            return False
    last = path[-1]
    if isinstance(last, int):
        if isinstance(node, list) and last < len(node):
            node[last] = value
            return True
        return False
    if isinstance(node, dict):
        node[last] = value
        return True
    return False


def apply_ignore_changes(old: dict[str, Any], new: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """A copy of `new` where every ignored path holds the old value.

    As in Pulumi, a path the old inputs do not have is left as the program
    gave it, and a top-level property the old inputs have but the new ones
    lack is brought back.
    """
    import copy

    result = copy.deepcopy(new)
    for raw in paths:
        tokens = parse_path(raw)
        if not tokens:
            continue
        found, old_value = _get(old, tokens)
        if not found:
            continue
        if len(tokens) == 1:
            result[tokens[0]] = copy.deepcopy(old_value)  # type: ignore[index]
        else:
            _set(result, tokens, copy.deepcopy(old_value))
    return result


def changed_keys(old: dict[str, Any], new: dict[str, Any], schema: Schema) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if k not in schema.engine_only and _differs(old.get(k), new.get(k))]


def _differs(a: Any, b: Any) -> bool:
    if contains_unknown(b):
        return True
    return _canon(a) != _canon(b)


def _canon(value: Any) -> Any:
    """Treat an absent value, None, an empty list and an empty map alike."""
    if value in (None, [], {}):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items() if _canon(v) is not None}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    return value


def diff_inputs(
    old_inputs: dict[str, Any] | None,
    new_inputs: dict[str, Any],
    schema: Schema,
    *,
    replace_on_changes: list[str] | None = None,
    provider_changed: bool = False,
    drift: str = "",
    drift_update: bool = False,
    delete_before_replace: bool = False,
) -> DiffResult:
    """Decide the step for one custom resource.

    `new_inputs` must already have `ignoreChanges` applied. `drift` names a
    difference found by refresh that the inputs cannot show (a stopped
    container): it forces a replacement, or an update where the provider's
    update puts the object back as declared (`drift_update`).
    """
    if old_inputs is None:
        return DiffResult(Op.CREATE)
    changed = changed_keys(old_inputs, new_inputs, schema)
    replace_keys = [k for k in changed if k not in schema.updatable]
    for path in replace_on_changes or []:
        tokens = parse_path(path)
        if not tokens or tokens[0] not in changed:
            continue
        # Only the named path counts, not a sibling inside the same property.
        if _differs(_get(old_inputs, tokens)[1], _get(new_inputs, tokens)[1]):
            key = str(tokens[0])
            if key not in replace_keys:
                replace_keys.append(key)
    if provider_changed:
        return DiffResult(Op.REPLACE, tuple(changed), tuple(replace_keys) or ("provider",),
                          "provider changed", delete_before_replace)
    if replace_keys:
        return DiffResult(Op.REPLACE, tuple(changed), tuple(sorted(replace_keys)),
                          drift, delete_before_replace)
    if drift and drift_update:
        return DiffResult(Op.UPDATE, tuple(changed), (), drift)
    if drift:
        return DiffResult(Op.REPLACE, tuple(changed), (), drift, delete_before_replace)
    if changed:
        return DiffResult(Op.UPDATE, tuple(changed))
    return DiffResult(Op.SAME)


def deletion_order(urns: list[str], dependencies: dict[str, set[str]]) -> list[list[str]]:
    """Waves of URNs to delete: every resource after all that depend on it.

    `dependencies[u]` holds the URNs `u` depends on (including its parent).
    Returns a list of waves; the members of one wave can go in parallel.
    """
    pending = set(urns)
    dependents: dict[str, set[str]] = {u: set() for u in pending}
    for urn in pending:
        for dep in dependencies.get(urn, set()):
            if dep in pending:
                dependents[dep].add(urn)
    waves: list[list[str]] = []
    while pending:
        wave = sorted(u for u in pending if not (dependents[u] & pending))
        if not wave:  # a cycle cannot come from Pulumi, but never loop forever
            wave = sorted(pending)
        waves.append(wave)
        pending -= set(wave)
    return waves
