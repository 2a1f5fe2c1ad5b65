"""The retention policy file (AGNO_RETENTION_FILE): read and checked once at start, so a mistake stops the service
and every command with the file's line, before any session is touched."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from service.core.yaml_file import Problem as _Problem
from service.core.yaml_file import choice as _choice
from service.core.yaml_file import mapping as _mapping
from service.core.yaml_file import parse_file, read_text
from service.core.yaml_file import scalar as _scalar
from service.core.yaml_file import text as _text

SETTING = "AGNO_RETENTION_FILE"

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


def load_policies(path: Path) -> tuple[Policy, ...]:
    """The policies of the file at `path`; ConfigError naming the file and the line of the first mistake."""
    return parse_policies(read_text(SETTING, path), str(path))


def parse_policies(text: str, source: str) -> tuple[Policy, ...]:
    """The policies in a YAML text; ConfigError naming `source` and the line of the first mistake."""
    return parse_file(text, SETTING, source, "policies", "policy", _policy)


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
