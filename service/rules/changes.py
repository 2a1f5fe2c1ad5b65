"""The change feed's pure rules (extension `change-feed`), shared by every transport (long-poll, server-sent
events, webhooks): the cursors that carry a position in the log, event type patterns, and an event's JSON shape.

A position (txid, seq) means "every change at or below it has been considered" (storage/changes.py Position). A
cursor seals one with the filters it was read under (rules/cursors.py): altered, truncated or replayed under other
filters, it is a 400.
"""

from __future__ import annotations

import re
from typing import Any

from service.rules import cursors

EVENT_TYPES = ("session.created", "session.updated", "session.deleted", "run.created", "run.updated", "run.deleted")
CHANGED_KEYS = ("name", "state", "metadata", "summary", "runs", "metrics", "data", "component", "user_id",
                "status", "session_id")  # what `changed` may name: sessions' keys first, then runs' (status, data)
CURSOR_KIND = "changes"
GONE = "Cursor is older than the change log; resynchronise with GET /sessions"
UNAVAILABLE = "The change feed is not available on this database"
MAX_PATTERNS = 16
_PART = r" *(?:\*|(?:session|run)\.(?:\*|created|updated|deleted)) *"
EVENTS_PATTERN = re.compile(f"{_PART}(?:,{_PART}){{0,{MAX_PATTERNS - 1}}}")  # also openapi.yaml's `events` pattern


def event_types(patterns: str) -> tuple[str, ...] | None:
    """The event types `session.*,run.created` names (each part an event type, `session.*`, `run.*` or `*`,
    spaces around it ignored: EVENTS_PATTERN), in EVENT_TYPES order; None for every type; ValueError otherwise."""
    if not EVENTS_PATTERN.fullmatch(patterns):
        raise ValueError(patterns)
    wanted: set[str] = set()
    for part in (part.strip() for part in patterns.split(",")):
        wanted |= {t for t in EVENT_TYPES if part == "*" or t == part or t.split(".")[0] + ".*" == part}
    return None if len(wanted) == len(EVENT_TYPES) else tuple(t for t in EVENT_TYPES if t in wanted)


def binding(db_identity: list[str], filters: dict[str, Any]) -> list[Any]:
    """What a change cursor is valid for: this database's table and these filters (the caller's owner included),
    so a cursor read under some filters cannot skip what other filters would have matched."""
    return [*db_identity, filters]


def seal(position: tuple[int, int], bound: list[Any], key: bytes) -> str:
    """The opaque cursor of the position (txid, seq) under `bound` (txid as text: an xid8 passes 2**53)."""
    txid, seq = position
    return cursors.seal(CURSOR_KIND, bound, {"t": str(txid), "s": seq}, key)


def unseal(token: str, bound: list[Any], key: bytes) -> tuple[int, int]:
    """The position (txid, seq) in a cursor this service sealed under `bound`; CursorInvalid (400) for anything
    else, CursorMismatch (400) when it was read under other filters."""
    found = cursors.unseal(token, CURSOR_KIND, bound, key)
    txid, seq = found.get("t"), found.get("s")
    if not (isinstance(txid, str) and txid.isdigit() and len(txid) <= 20 and isinstance(seq, int)
            and not isinstance(seq, bool) and 0 <= seq < 2**63 and int(txid) < 2**64):
        raise cursors.CursorInvalid()
    return int(txid), seq


def event(row: dict[str, Any], db_id: str, cursor: str) -> dict[str, Any]:
    """One change as the feed sends it (the issue's shape: id, type, at in epoch milliseconds, db_id, ids, changed)."""
    return {"id": cursor, "type": row["op"], "at": row["at"], "db_id": db_id, "session_id": row["session_id"],
            "session_type": row["session_type"], "user_id": row["user_id"], "component_id": row["component_id"],
            "run_id": row["run_id"], "changed": list(row["changed"] or [])}
