"""The webhook subscription file (AGNO_WEBHOOKS_FILE): who receives which session changes, read and checked once at
start like the retention policies, so a mistake stops `agno-session deliver` (and the service) with its line."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node, ScalarNode, SequenceNode

from service.core.yaml_file import Problem, choice, mapping, parse_file, read_text, scalar, text

SETTING = "AGNO_WEBHOOKS_FILE"
SESSION_TYPES = ("agent", "team", "workflow")
SECRET_PREFIX = "whsec_"  # Standard Webhooks: the base64 key after it is the HMAC-SHA256 key
SECRET_BYTES = (24, 64)  # Standard Webhooks asks for 24 to 64 random bytes
_KEYS = ("name", "url", "secret", "events", "filters", "db_id")
_FILTER_KEYS = ("type", "component_id", "user_id", "session_id")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_URL = re.compile(r"^https?://[^/\s?#]+(/\S*)?$")
_EVENT = re.compile(r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")


@dataclass(frozen=True)
class Subscription:
    """One receiver: where events go, which ones, and the key their signatures are made with."""

    name: str  # its delivery position and queue are kept under this name: renaming starts it afresh
    url: str
    key: bytes = b""  # the secret's decoded key (HMAC-SHA256)
    events: tuple[str, ...] = ()  # patterns such as session.*, run.created; empty: every event
    type: str | None = None
    component_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    db_id: str | None = None  # only this database's changes (None: every configured database)
    line: int = 0

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"Subscription(name={self.name!r}, url={self.url!r}, line={self.line})"


def load_subscriptions(path: Path) -> tuple[Subscription, ...]:
    """The subscriptions of the file at `path`; ConfigError naming the file and the line of the first mistake."""
    return parse_subscriptions(read_text(SETTING, path), str(path))


def parse_subscriptions(source_text: str, source: str) -> tuple[Subscription, ...]:
    """The subscriptions in a YAML text; ConfigError naming `source` and the line of the first mistake."""
    return parse_file(source_text, SETTING, source, "subscriptions", "subscription", _subscription)


def _subscription(node: Node) -> Subscription:
    keys = mapping(node, "a subscription", _KEYS)
    for required in ("name", "url", "secret"):
        if required not in keys:
            raise Problem(node, f"a subscription needs `{required}`")
    name = text(keys["name"][1], "name")
    if not _NAME.match(name):
        raise Problem(keys["name"][1], f"`name` must be letters, digits, _ . - (at most 63), got {name!r}")
    url = text(keys["url"][1], "url")
    if not _URL.match(url):
        raise Problem(keys["url"][1], f"`url` must be an http:// or https:// URL, got {url!r}")
    filters = _filters(keys["filters"][1]) if "filters" in keys else {}
    db_id = text(keys["db_id"][1], "db_id") if "db_id" in keys else None
    events = _events(keys["events"][1]) if "events" in keys else ()
    return Subscription(name=name, url=url, key=_secret(keys["secret"][1]), events=events, db_id=db_id,
                        line=node.start_mark.line + 1, **filters)


def _filters(node: Node) -> dict[str, str]:
    keys = mapping(node, "`filters`", _FILTER_KEYS)
    found = {key: text(keys[key][1], f"filters.{key}") for key in ("component_id", "user_id", "session_id")
             if key in keys}
    if "type" in keys:
        found["type"] = choice(keys["type"][1], "filters.type", SESSION_TYPES)
    return found


def _events(node: Node) -> tuple[str, ...]:
    """A list of patterns, or one comma-separated text (as the long-poll's `events=`)."""
    if isinstance(node, SequenceNode):
        items = [(item, text(item, "events")) for item in node.value]
    elif isinstance(node, ScalarNode):
        items = [(node, part.strip()) for part in text(node, "events").split(",")]
    else:
        raise Problem(node, "`events` must be a list of event patterns or a comma-separated text")
    for item, pattern in items:
        if not _EVENT.match(pattern):
            raise Problem(item, f"`events`: {pattern!r} is not an event pattern (session.updated, session.*, *)")
    if not items:
        raise Problem(node, "`events` must name at least one pattern (leave it out for every event)")
    return tuple(pattern for _, pattern in items)


def _secret(node: Node) -> bytes:
    value = scalar(node, "secret")
    if not isinstance(value, str) or not value.startswith(SECRET_PREFIX):
        raise Problem(node, f"`secret` must be a Standard Webhooks secret: {SECRET_PREFIX} and base64 (the value is "
                            "not shown)")
    try:
        key = base64.b64decode(value[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise Problem(node, f"`secret`: the part after {SECRET_PREFIX} is not base64 (the value is not "
                            "shown)") from None
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        raise Problem(node, f"`secret` must decode to {low} to {high} random bytes, got {len(key)}")
    return key
