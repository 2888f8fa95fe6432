"""Reading topology files: YAML with line numbers (`replicator.inputs`), pydantic
errors turned into `TopologyError`s that point at the line to fix.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from replicator.inputs import check_edition_name, load_yaml
from replicator.topology.errors import Problem, TopologyError
from replicator.topology.model import Topology
from replicator.inputs.paths import PathPart, line_of, render_path

TOPOLOGY_DIR = Path("stacks") / "topology"
MAX_PROBLEMS = 100  # validation errors located and reported per file


def topology_path(project_root: Path, edition: str) -> Path:
    return project_root / TOPOLOGY_DIR / f"{edition}.yaml"


def list_editions(project_root: Path) -> list[str]:
    return sorted(p.stem for p in (project_root / TOPOLOGY_DIR).glob("*.yaml"))


def load_edition(project_root: Path, edition: str, where: str = "--edition") -> Topology:
    """The topology of `edition`, from ``stacks/topology/<edition>.yaml``.

    The name is checked before it becomes a path (`where` names the argument
    or file it came from), so `../x` never reaches the file system.
    """
    check_edition_name(edition, where)
    path = topology_path(project_root, edition)
    if not path.is_file():
        available = list_editions(project_root)
        raise TopologyError(
            f"no topology for edition {edition!r} (the file does not exist)",
            file=path,
            fix="use one of the editions available: " + (", ".join(available) or "(none)"),
        )
    return load_topology(path)


def load_topology(path: Path) -> Topology:
    path = Path(path)
    if not path.is_file():
        available = (
            sorted(p.stem for p in path.parent.glob("*.yaml")) if path.parent.is_dir() else []
        )
        raise TopologyError(
            "the topology file does not exist",
            file=path,
            fix="use one of the editions available: " + (", ".join(available) or "(none)"),
        )
    document = load_yaml(path, error=TopologyError, what="topology file")
    if not isinstance(document, dict):
        raise TopologyError(
            "a topology file is a mapping with edition, sources, wan, sites, locations, "
            "suites and links",
            file=path,
            line=1,
            fix="start from stacks/topology/paris2024.yaml",
        )
    try:
        topology = Topology.model_validate(document)
    except ValidationError as exc:
        problems = problems_from_validation(exc, Topology)
        raise TopologyError.from_problems(problems).located(
            path, lambda p: line_of(document, p)
        ) from None
    except TopologyError as exc:
        raise exc.located(path, lambda p: line_of(document, p)) from None
    topology._source_file = path
    return topology


def problems_from_validation(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    prefix: Sequence[PathPart] = (),
    rename: Mapping[str, str] | None = None,
) -> list[Problem]:
    """One `Problem` per pydantic error, with the document path of the value.

    `rename` maps a top-level field to the key the file uses (stack config keys
    are camelCase with a namespace); `prefix` is the path of the validated mapping.
    """
    # A file with thousands of errors is fixed from the top: locating them all
    # would only slow the refusal down.
    errors = exc.errors(include_url=False)[:MAX_PROBLEMS]
    locs = [tuple(p for p in e["loc"] if not _is_tag(p)) for e in errors]
    problems = []
    for error, here in zip(errors, locs, strict=True):
        # A list whose item failed is also reported "too short" (the failed item
        # does not count): noise next to the item's own error.
        if error["type"] == "too_short" and any(
            len(other) > len(here) and other[: len(here)] == here for other in locs
        ):
            continue
        loc = list(here)
        if rename and loc and isinstance(loc[0], str):
            loc[0] = rename.get(loc[0], loc[0])
        problems.append(
            Problem(
                message=_message(error),
                path=render_path([*prefix, *loc]) or None,
                fix=_fix(error, model, [p for p in error["loc"] if not _is_tag(p)]),
            )
        )
    return problems


def _is_tag(part: PathPart) -> bool:
    # pydantic adds validator/union tags (`function-after[...]`, `[key]`) to loc.
    return isinstance(part, str) and "[" in part


def _message(error: ErrorDetails) -> str:
    message = error["msg"]
    message = message.removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if error["type"] == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    value = error.get("input")
    if error["type"] not in {"value_error", "assertion_error", "invalid"} and not isinstance(
        value, Mapping | list
    ):
        message += f" (got {value!r})"
    return message


def _fix(error: ErrorDetails, model: type[BaseModel], loc: list[PathPart]) -> str:
    kind = error["type"]
    key = loc[-1] if loc else None
    fix = (error.get("ctx") or {}).get("fix")
    if fix:
        return str(fix)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"remove {key!r}" + (f"; allowed keys here: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return f"add {key!r}"
    if kind in {"value_error", "assertion_error"}:
        return "correct the value as the message says"
    ctx = error.get("ctx") or {}
    bounds = {
        "greater_than_equal": ">=",
        "greater_than": ">",
        "less_than_equal": "<=",
        "less_than": "<",
    }
    if kind in bounds:
        limit = next(iter(v for k, v in ctx.items() if k in {"ge", "gt", "le", "lt"}), "?")
        return f"use a number {bounds[kind]} {limit}"
    if kind == "literal_error":
        return f"use one of: {ctx.get('expected', '?')}"
    if kind == "string_pattern_mismatch":
        return f"write it to match {ctx.get('pattern', 'the pattern')}"
    if kind == "too_short":
        return f"give at least {ctx.get('min_length', 1)} item(s)"
    return f"give {render_path(loc) or 'it'} a value of the expected type"


def _allowed_keys(model: type[BaseModel], loc: Sequence[PathPart]) -> list[str]:
    """The keys the model at `loc` accepts (walking field annotations)."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _step(annotation: Any, part: PathPart) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (tuple, list) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap(annotation: Any) -> Any:
    # Strip Annotated[...] and Optional[...] down to the model or container type.
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
