"""YAML input through libyaml, every key and item with its line.

libyaml parses and composes in C (tens of milliseconds for the paris2024
topology, where ruamel's round-trip loader took a second), so a file is read
once, valid or not, and every problem still gets its line: mappings and
sequences come back as `YamlMap` / `YamlSeq`, plain `dict` / `list` subclasses
carrying `lc` (0-based line and column of the node, of each key and item,
like ruamel's round-trip types) that `replicator.inputs.paths.line_of` reads.

Before composing, one pass over libyaml's events (iterative, constant stack)
enforces the depth limit and bounds what anchors and aliases expand to, so
`[[[[...` or a "billion laughs" file is refused before Python recursion or
memory is at stake. Scalars follow YAML 1.2 (only true/false are booleans, no
base-60 numbers, `010` is ten), as ruamel did before.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import yaml

from replicator.errors import InputError
from replicator.inputs.files import MAX_FILE_BYTES, read_text
from replicator.inputs.paths import PathPart, render_path

MAX_DEPTH = 64  # the topology nests 10 deep; deeper input is a mistake or an attack
MAX_NODES = 200_000  # nodes after expanding aliases (the topology has about 3,000)

_NULL = "tag:yaml.org,2002:null"
_TOO_DEEP = f"the YAML nests deeper than {MAX_DEPTH} levels"
_TOO_DEEP_FIX = "flatten the structure; no input of replicator nests this deep"


class Lines:
    """0-based positions of a node, of its keys (mapping) or items (sequence)."""

    __slots__ = ("col", "items", "keys", "line")

    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col
        self.keys: dict[Any, tuple[int, int]] = {}
        self.items: list[tuple[int, int]] = []

    def key(self, key: Any) -> tuple[int, int]:
        return self.keys[key]

    def item(self, index: int) -> tuple[int, int]:
        return self.items[index]


class YamlMap(dict[Any, Any]):
    """A mapping read from YAML, with `lc` positions."""

    lc: Lines


class YamlSeq(list[Any]):
    """A sequence read from YAML, with `lc` positions."""

    lc: Lines


class _Problem(Exception):
    """A problem at a node, raised inside the loader and located by `parse_yaml`.

    `parent` and `key` (when known) let `parse_yaml` name the document path.
    """

    def __init__(self, mark: Any, message: str, fix: str, *, parent: yaml.Node | None = None,
                 key: Any = None) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message, self.fix = message, fix
        self.parent, self.key = parent, key


def _lines(node: yaml.Node) -> Lines:
    return Lines(node.start_mark.line, node.start_mark.column)


class _Loader(yaml.CSafeLoader):
    """libyaml with YAML 1.2 booleans and integers, located collections and key checks."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[Any]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                               "tag:yaml.org,2002:float")]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_located_map(self, node: yaml.MappingNode) -> Iterator[YamlMap]:
        data = YamlMap()
        data.lc = _lines(node)
        yield data
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self._key(key_node)
            if key in seen:
                raise _Problem(key_node.start_mark, f"duplicate key {key!r} (first defined at "
                               f"line {seen[key].line + 1})",
                               "names must be unique here: remove or rename one of them",
                               parent=node, key=key)
            seen[key] = key_node.start_mark
        self.flatten_mapping(node)  # `<<` merge keys, as YAML 1.1 and ruamel allow
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            data.lc.keys.setdefault(key, (key_node.start_mark.line, key_node.start_mark.column))
            data[key] = self.construct_object(value_node)

    def _key(self, key_node: yaml.Node) -> Any:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _Problem(key_node.start_mark, "a key must be a plain name, not a list or "
                           "a mapping (a `? ` complex key)",
                           "write the key as a single name, e.g. `name:`")
        if key_node.tag == _NULL:
            raise _Problem(key_node.start_mark, f"a null key ({key_node.value or 'empty'}) "
                           "before a colon", "write a name before the colon, or remove the line")
        return self.construct_object(key_node)

    def construct_located_seq(self, node: yaml.SequenceNode) -> Iterator[YamlSeq]:
        data = YamlSeq()
        data.lc = _lines(node)
        yield data
        data.lc.items = [(n.start_mark.line, n.start_mark.column) for n in node.value]
        data.extend(self.construct_object(child) for child in node.value)

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _Problem(node.start_mark, f"{node.value!r} is not a date that exists ({exc})",
                           "write a real date as YYYY-MM-DD, or quote it to keep it text") from None

    def construct_int12(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        return sign * int(digits, 10)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_located_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_located_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_checked_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_int12)
# The YAML 1.2 core schema's booleans, integers and floats.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _check_shape(text: str) -> None:
    """Refuse excessive depth and alias expansion from the event stream, before composing."""
    stack: list[list[Any]] = [[None, 0]]  # [anchor, nodes] of each open collection
    sizes: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) - 1 > MAX_DEPTH:
                raise _Problem(event.start_mark, _TOO_DEEP, _TOO_DEEP_FIX)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, count = stack.pop()
            if anchor:
                sizes[anchor] = count
        elif isinstance(event, yaml.ScalarEvent):
            count = 1
        elif isinstance(event, yaml.AliasEvent):
            count = sizes.get(event.anchor, 1)
        else:
            continue
        stack[-1][1] += count
        if stack[0][1] + sum(c for _, c in stack[1:]) > MAX_NODES:
            raise _Problem(event.start_mark, f"the YAML expands to more than {MAX_NODES:,} "
                           "values (anchors and aliases repeated)",
                           "write the values out, without nested aliases")


def _path_to(node: yaml.Node | None, target: yaml.Node) -> list[PathPart] | None:
    """The document path of `target` under `node` (keys as written), or None."""
    if node is target:
        return []
    children: list[tuple[PathPart, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        children = [(str(k.value), v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
    elif isinstance(node, yaml.SequenceNode):
        children = list(enumerate(node.value))
    for part, child in children:
        found = _path_to(child, target)
        if found is not None:
            return [part, *found]
    return None


def parse_yaml(text: str, path: Path, *, error: type[InputError] = InputError) -> Any:
    """The document in `text` (read from `path`), or an `error` at its line."""
    root: yaml.Node | None = None
    try:
        _check_shape(text)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            return None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except _Problem as exc:
        where = _path_to(root, exc.parent) if exc.parent is not None else None
        raise error(exc.message, file=path, line=exc.line, fix=exc.fix,
                    path=render_path([*where, str(exc.key)]) if where is not None else None,
                    ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        if "nesting depth" in detail:  # libyaml's own limit (1000) met while looking ahead
            raise error(_TOO_DEEP, file=path, line=line, fix=_TOO_DEEP_FIX) from None
        raise error(f"invalid YAML: {detail}", file=path, line=line,
                    fix="fix the YAML syntax at that line (indentation, quotes, brackets)",
                    ) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", file=path, fix="fix the YAML syntax") from None


def load_yaml(
    path: Path,
    *,
    error: type[InputError] = InputError,
    max_bytes: int = MAX_FILE_BYTES,
    what: str = "input file",
) -> Any:
    """`read_text` then `parse_yaml`: the checked document in `path`."""
    return parse_yaml(read_text(path, error=error, max_bytes=max_bytes, what=what), path,
                      error=error)
