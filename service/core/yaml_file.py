"""Checked YAML configuration files (retention policies, webhook subscriptions): composed into nodes, which carry
the line every mistake is reported at, then read with YAML's safe rules one node at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from service.core.env import ConfigError


class Named(Protocol):
    name: str
    line: int


N = TypeVar("N", bound=Named)


class Problem(Exception):
    """A mistake at a node of the file."""

    def __init__(self, node: Node | None, message: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1 if node is not None else None


def read_text(setting: str, path: Path) -> str:
    """The file's text; ConfigError naming the setting and the path when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{setting} {path}: cannot be read: {exc}") from None


def compose(text: str, setting: str, source: str) -> Node | None:
    """The root node of a YAML text; ConfigError naming the setting, `source` and the line of a syntax error."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{setting} {source}{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{setting} {source}: not valid YAML: {exc}") from None


def config_error(setting: str, source: str, problem: Problem) -> ConfigError:
    """The ConfigError a Problem becomes: setting, file and line first."""
    where = f", line {problem.line}" if problem.line is not None else ""
    return ConfigError(f"{setting} {source}{where}: {problem}")


def mapping(node: Node | None, what: str, allowed: tuple[str, ...] | None) -> dict[str, tuple[Node, Node]]:
    """A mapping node's entries by key text (key node, value node); unknown and repeated keys are mistakes."""
    if not isinstance(node, MappingNode):
        raise Problem(node, f"{what} must be a mapping")
    entries: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise Problem(key_node, f"{what}: keys must be plain text")
        key = key_node.value
        if allowed is not None and key not in allowed:
            raise Problem(key_node, f"{what}: unknown key `{key}` (expected one of {', '.join(allowed)})")
        if key in entries:
            raise Problem(key_node, f"{what}: `{key}` is given twice")
        entries[key] = (key_node, value_node)
    return entries


def scalar(node: Node, key: str) -> Any:
    """The value YAML's safe rules give a scalar node (90 is an int, '90' and 90d strings, true a bool)."""
    if not isinstance(node, ScalarNode):
        raise Problem(node, f"`{key}` must be a single value, not a list or mapping")
    try:
        return SafeConstructor().construct_object(node)
    except ConstructorError as exc:
        raise Problem(node, str(exc.problem or exc)) from None


def text(node: Node, key: str) -> str:
    """Non-empty text."""
    value = scalar(node, key)
    if not isinstance(value, str) or not value.strip():
        raise Problem(node, f"`{key}` must be non-empty text, got {node.value!r}")
    return value


def choice(node: Node, key: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed`."""
    value = scalar(node, key)
    if value not in allowed:
        raise Problem(node, f"`{key}` must be one of {', '.join(allowed)}, got {node.value!r}")
    return value


def parse_file(text_: str, setting: str, source: str, key: str, noun: str, item: Callable[[Node], N]) -> tuple[N, ...]:
    """The items of a file that is one mapping with `key`, a list of `noun`s each parsed by `item` and named
    uniquely; ConfigError naming the setting, `source` and the line of the first mistake."""
    root = compose(text_, setting, source)
    try:
        top = mapping(root, "the file", (key,))
        if key not in top:
            raise Problem(root, f"expected a mapping with the key `{key}` (a list of {key})")
        listed = top[key][1]
        if not isinstance(listed, SequenceNode):
            raise Problem(listed, f"`{key}` must be a list of {key}")
        found: list[N] = []
        seen: dict[str, int] = {}
        for node in listed.value:
            parsed = item(node)
            if parsed.name in seen:
                raise Problem(node, f"{noun} name {parsed.name!r} is used twice (first on line {seen[parsed.name]})")
            seen[parsed.name] = parsed.line
            found.append(parsed)
        return tuple(found)
    except Problem as exc:
        raise config_error(setting, source, exc) from None
