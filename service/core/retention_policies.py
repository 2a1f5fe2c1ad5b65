"""The retention policy file (AGNO_RETENTION_FILE): read and checked once at start, so a mistake stops the service
and every command with the file's line, before any session is touched."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from service.core.env import ConfigError

ACTIONS = ("archive", "delete", "trim_runs")
BASES = ("last_activity", "created")
SESSION_TYPES = ("agent", "team", "workflow")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_AFTER = 100 * 365 * 86400  # a century: anything longer is a typo, and it keeps the cutoff within bigint
_DURATION = re.compile(r"^([0-9]{1,12})([smhd])$")
_POLICY_KEYS = ("name", "match", "after", "basis", "action", "keep_last")
_MATCH_KEYS = ("session_type", "component_id", "user_id", "metadata")


@dataclass(frozen=True)
class Policy:
    """One policy: which sessions (match and age), and what happens to them."""

    name: str
    after: int  # seconds of age (by `basis`) before a session matches
    action: str
    basis: str = "last_activity"
    session_type: str | None = None
    component_id: str | None = None
    user_id: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()  # key → the text `metadata ->> key` must equal (as the list filter)
    keep_last: int | None = None  # trim_runs: how many of the last runs stay
    line: int = 0  # where it starts in the file, for messages

    @property
    def removes_sessions(self) -> bool:
        """Archive and delete take the session away; trim_runs leaves it (a later policy still sees it)."""
        return self.action != "trim_runs"


class _Problem(Exception):
    """A mistake at a node of the file."""

    def __init__(self, node: Node | None, message: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1 if node is not None else None


def load_policies(path: Path) -> tuple[Policy, ...]:
    """The policies of the file at `path`; ConfigError naming the file and the line of the first mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"AGNO_RETENTION_FILE {path}: cannot be read: {exc}") from None
    return parse_policies(text, str(path))


def parse_policies(text: str, source: str) -> tuple[Policy, ...]:
    """The policies in a YAML text; ConfigError naming `source` and the line of the first mistake."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"AGNO_RETENTION_FILE {source}{where}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"AGNO_RETENTION_FILE {source}: not valid YAML: {exc}") from None
    try:
        return _policies(root)
    except _Problem as exc:
        where = f", line {exc.line}" if exc.line is not None else ""
        raise ConfigError(f"AGNO_RETENTION_FILE {source}{where}: {exc}") from None


def _policies(root: Node | None) -> tuple[Policy, ...]:
    top = _mapping(root, "the file", ("policies",))
    if "policies" not in top:
        raise _Problem(root, "expected a mapping with the key `policies` (a list of policies)")
    listed = top["policies"][1]
    if not isinstance(listed, SequenceNode):
        raise _Problem(listed, "`policies` must be a list of policies")
    policies: list[Policy] = []
    seen: dict[str, int] = {}
    for node in listed.value:
        policy = _policy(node)
        if policy.name in seen:
            raise _Problem(node, f"policy name {policy.name!r} is used twice (first on line {seen[policy.name]})")
        seen[policy.name] = policy.line
        policies.append(policy)
    return tuple(policies)


def _policy(node: Node) -> Policy:
    keys = _mapping(node, "a policy", _POLICY_KEYS)
    for required in ("name", "after", "action"):
        if required not in keys:
            raise _Problem(node, f"a policy needs `{required}`")
    name = _text(keys["name"][1], "name")
    action = _choice(keys["action"][1], "action", ACTIONS)
    basis = _choice(keys["basis"][1], "basis", BASES) if "basis" in keys else "last_activity"
    keep_last = None
    if action == "trim_runs":
        if "keep_last" not in keys:
            raise _Problem(keys["action"][1], f"policy {name!r}: action trim_runs needs `keep_last` (runs to keep)")
        keep_last = _count(keys["keep_last"][1])
    elif "keep_last" in keys:
        raise _Problem(keys["keep_last"][0], f"policy {name!r}: `keep_last` is for action trim_runs only, "
                                             f"not {action}")
    match = _match(keys["match"][1], name) if "match" in keys else {}
    return Policy(name=name, after=_duration(keys["after"][1]), action=action, basis=basis, keep_last=keep_last,
                  line=node.start_mark.line + 1, **match)


def _match(node: Node, name: str) -> dict[str, Any]:
    keys = _mapping(node, f"policy {name!r}: `match`", _MATCH_KEYS)
    found: dict[str, Any] = {}
    if "session_type" in keys:
        found["session_type"] = _choice(keys["session_type"][1], "match.session_type", SESSION_TYPES)
    for key in ("component_id", "user_id"):
        if key in keys:
            found[key] = _text(keys[key][1], f"match.{key}")
    if "metadata" in keys:
        pairs = _mapping(keys["metadata"][1], "`match.metadata`", None)
        found["metadata"] = tuple((k, _metadata_text(v, k)) for k, (_, v) in pairs.items())
    return found


def _mapping(node: Node | None, what: str, allowed: tuple[str, ...] | None) -> dict[str, tuple[Node, Node]]:
    """A mapping node's entries by key text (key node, value node); unknown and repeated keys are mistakes."""
    if not isinstance(node, MappingNode):
        raise _Problem(node, f"{what} must be a mapping")
    entries: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise _Problem(key_node, f"{what}: keys must be plain text")
        key = key_node.value
        if allowed is not None and key not in allowed:
            raise _Problem(key_node, f"{what}: unknown key `{key}` (expected one of {', '.join(allowed)})")
        if key in entries:
            raise _Problem(key_node, f"{what}: `{key}` is given twice")
        entries[key] = (key_node, value_node)
    return entries


def _scalar(node: Node, key: str) -> Any:
    """The value YAML's safe rules give a scalar node (90 is an int, '90' and 90d strings, true a bool)."""
    if not isinstance(node, ScalarNode):
        raise _Problem(node, f"`{key}` must be a single value, not a list or mapping")
    try:
        return SafeConstructor().construct_object(node)
    except ConstructorError as exc:
        raise _Problem(node, str(exc.problem or exc)) from None


def _text(node: Node, key: str) -> str:
    value = _scalar(node, key)
    if not isinstance(value, str) or not value.strip():
        raise _Problem(node, f"`{key}` must be non-empty text, got {node.value!r}")
    return value


def _choice(node: Node, key: str, allowed: tuple[str, ...]) -> str:
    value = _scalar(node, key)
    if value not in allowed:
        raise _Problem(node, f"`{key}` must be one of {', '.join(allowed)}, got {node.value!r}")
    return value


def _count(node: Node) -> int:
    value = _scalar(node, "keep_last")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1_000_000:
        raise _Problem(node, f"`keep_last` must be a whole number of runs from 0 to 1000000, got {node.value!r}")
    return value


def duration_seconds(value: object) -> int | None:
    """`90d`, `12h`, `30m`, `45s` in seconds; None when it is not one."""
    found = _DURATION.match(value) if isinstance(value, str) else None
    return int(found.group(1)) * UNITS[found.group(2)] if found is not None else None


def _duration(node: Node) -> int:
    """`90d`, `12h`, `30m`, `45s` in seconds."""
    seconds = duration_seconds(_scalar(node, "after"))
    if seconds is None:
        raise _Problem(node, f"`after` must be a whole number with a unit s, m, h or d (90d, 12h), got "
                             f"{node.value!r}")
    if not 0 < seconds <= MAX_AFTER:
        raise _Problem(node, f"`after` must be more than 0 and at most 100 years, got {node.value!r}")
    return seconds


def _metadata_text(node: Node, key: str) -> str:
    """The text `metadata ->> key` must equal: a string as it is, a number or boolean as JSON spells it (what
    the list's metadata filter compares)."""
    value = _scalar(node, f"match.metadata.{key}")
    if value is None or isinstance(value, (list, dict)) or not isinstance(value, (str, int, float, bool)):
        raise _Problem(node, f"`match.metadata.{key}` must be text, a number or true/false, got {node.value!r}")
    return value if isinstance(value, str) else json.dumps(value)
