"""YAML -> plain values plus the position of every node, safely (no tags that build objects).

PyYAML's composer gives nodes with marks; we build values ourselves from those nodes so that
each value's (line, column) can be looked up by its path, duplicate keys are caught, and any
tag beyond the plain YAML types (``!!python/object/apply:os.system``) is refused, never run.
Files that would take the loader down are refused with a position too: nesting deeper than
MAX_DEPTH (the composer recurses), an anchored value that holds an alias (aliases of aliases
multiply: nine lines can stand for 9^9 values) and more than MAX_VALUES values in all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

MAX_DEPTH = 64  # nested collections; rule files use fewer than 10
MAX_VALUES = 200_000  # values built from one file, aliases counted each time they are used

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:timestamp",
}


class YamlProblem(Exception):
    """A YAML problem at a position (1-based line and column)."""

    def __init__(self, code: str, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.code, self.line, self.col, self.message = code, line, col, message


@dataclass
class Located:
    """A loaded document and the start position of every value in it, keyed by path."""

    value: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)  # keys where a key exists
    value_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Where a block scalar's text begins (line of its first content line), for regex errors.
    block_starts: dict[Path, tuple[int, int, str]] = field(default_factory=dict)
    built: int = 0  # values built so far (aliases count each time)

    def locate(self, path: Path, value: bool = False) -> tuple[int, int]:
        """The position of ``path`` (its key, or its value when ``value``), or of its nearest
        located ancestor."""
        table = self.value_positions if value else self.positions
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            p = p[:-1]
        return self.positions.get((), (1, 1))


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag == "tag:yaml.org,2002:str" or node.style in ("|", ">", "'", '"'):
        return node.value
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value  # dates stay text: the schema decides what a date is
    return _CONSTRUCTOR.construct_object(node)


_CONSTRUCTOR = yaml.SafeLoader("")  # builds plain scalars (ints, floats, booleans)
# libyaml gives the same nodes and marks ~10x faster (rule files are loaded by every process);
# on a problem the pure-Python loader runs again so that the message is always worded alike.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _at(node: yaml.Node | yaml.Event, code: str, message: str) -> YamlProblem:
    return YamlProblem(code, node.start_mark.line + 1, node.start_mark.column + 1, message)


def _check_depth(text: str, loader: type = yaml.SafeLoader) -> None:
    """Refuse nesting deeper than MAX_DEPTH (PyYAML's parser is iterative; its composer is not)."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise _at(event, "E101", f"YAML nests deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root: yaml.Node) -> None:
    """Refuse an anchored collection that holds an alias: the first in the file, at its anchor."""
    uses: dict[int, int] = {}
    order: list[yaml.Node] = []  # each node once, where it is first met (its anchor)
    stack = [root]
    while stack:
        node = stack.pop()
        uses[id(node)] = uses.get(id(node), 0) + 1
        if uses[id(node)] == 1:
            order.append(node)
            stack.extend(reversed(_children(node)))
    shared = {id(n) for n in order if uses[id(n)] > 1 and _children(n)}
    holds: dict[int, bool] = {}

    def holds_shared(node: yaml.Node) -> bool:  # depth is bounded by _check_depth
        if id(node) not in holds:
            holds[id(node)] = False  # a node cannot hold itself through a cycle
            holds[id(node)] = any(id(c) in shared or holds_shared(c) for c in _children(node))
        return holds[id(node)]

    for node in order:
        if id(node) in shared and holds_shared(node):
            raise _at(node, "E101", "an anchored YAML value may not hold an alias (aliases of aliases are refused)")


def _build(node: yaml.Node, path: Path, out: Located) -> Any:
    out.built += 1
    if out.built > MAX_VALUES:
        raise _at(node, "E101", f"YAML expands to more than {MAX_VALUES} values")
    out.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    out.value_positions[path] = out.positions[path]
    if node.tag not in _PLAIN_TAGS:
        raise YamlProblem("E101", node.start_mark.line + 1, node.start_mark.column + 1,
                          f"YAML tag {node.tag!r} is not allowed in rule files")
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), out)
            if not isinstance(key, (str, int)):
                raise YamlProblem("E101", key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                  "mapping keys must be plain strings")
            if key in result:
                raise YamlProblem("E102", key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                  f"duplicate key {key!r}")
            out.positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, path + (key,), out)
            # a key's own position is more useful than its value's for "unknown key" errors
            out.positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                out.block_starts[path + (key,)] = (
                    value_node.start_mark.line + 2, value_node.start_mark.column + 1, value_node.style
                )
            elif isinstance(value_node, yaml.ScalarNode):
                out.block_starts[path + (key,)] = (
                    value_node.start_mark.line + 1, value_node.start_mark.column + 1, value_node.style or ""
                )
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), out) for i, item in enumerate(node.value)]
    return _scalar(node)  # type: ignore[arg-type]


def _compose(text: str) -> yaml.Node | None:
    if _FAST_LOADER is not None:
        try:
            _check_depth(text, _FAST_LOADER)
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    _check_depth(text)
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_yaml(text: str) -> Located:
    """Parse one YAML document; raise YamlProblem with a position on any problem."""
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblem("E101", line, col, f"YAML syntax: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem("E101", 1, 1, f"YAML: {exc}") from None
    out = Located(None)
    if node is None:
        out.value = {}
        return out
    _check_aliases(node)
    out.value = _build(node, (), out)
    return out
