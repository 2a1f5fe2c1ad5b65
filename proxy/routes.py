"""Which requests belong to agno-session, and the canonical route name each one is counted under."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

DEFAULT_PREFIXES = ("/sessions",)
NOT_ROUTED = "(not routed)"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# AgentOS 3.1.10's /sessions routes (plus agno-session's state extension), most specific first.
TEMPLATES = (
    ("/sessions", re.compile(r"^/sessions/?$")),
    ("/sessions/{session_id}/runs/{run_id}", re.compile(r"^/sessions/(?P<session_id>[^/]+)/runs/[^/]+$")),
    ("/sessions/{session_id}/runs", re.compile(r"^/sessions/(?P<session_id>[^/]+)/runs$")),
    ("/sessions/{session_id}/run-previews", re.compile(r"^/sessions/(?P<session_id>[^/]+)/run-previews$")),
    ("/sessions/{session_id}/rename", re.compile(r"^/sessions/(?P<session_id>[^/]+)/rename$")),
    ("/sessions/{session_id}/state", re.compile(r"^/sessions/(?P<session_id>[^/]+)/state$")),
    ("/sessions/{session_id}/media/{key}", re.compile(r"^/sessions/(?P<session_id>[^/]+)/media/.+$")),
    ("/sessions/{session_id}", re.compile(r"^/sessions/(?P<session_id>[^/]+)$")),
)
OTHER = "/sessions/{other}"
ROUTE_NAMES = tuple(t for t, _ in TEMPLATES) + (OTHER,)


def split_target(target: str) -> tuple[str, str]:
    """Path and query of a request target."""
    path, _, query = target.partition("?")
    return path, query


def is_routed(path: str, prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> bool:
    """Whether a path is under one of the prefixes, segment-wise (`/session` is not under `/sessions`)."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def template(path: str) -> str:
    """The path's route template, e.g. `/sessions/{session_id}/runs/{run_id}`."""
    return next((name for name, pattern in TEMPLATES if pattern.match(path)), OTHER)


def canonical(method: str, path: str) -> str:
    """The name a request is aggregated under: `METHOD /template`."""
    return f"{method.upper()} {template(path)}"


def sampling_key(path: str, query: str) -> str | None:
    """session_id from the path, else user_id from the query, so a whole conversation is in or out together."""
    for _, pattern in TEMPLATES:
        found = pattern.match(path)
        if found and "session_id" in pattern.groupindex:
            return "session:" + unquote(found.group("session_id"))
    user = next((v for k, v in parse_qsl(query, keep_blank_values=True) if k == "user_id"), None)
    return None if user is None else "user:" + user
