"""Message search hits (extension `message-search`) as the route answers them, and the position a cursor keeps."""

from __future__ import annotations

import html
from typing import Any

from service.core.pg_limits import BIGINT_MAX
from service.rules.agno import detect_session_type
from service.rules.cursors import CursorInvalid
from service.rules.render.sessions import session_name
from service.rules.render.timestamps import iso_utc

# The hits' orders a page can have (the `Agno-Search-Order` header; storage/search_terms.py names the same in its SQL):
# by relevance, or newest first for a search matching more messages than are ranked.
RELEVANCE, RECENT = "relevance", "recent"
ORDERS = (RELEVANCE, RECENT)

MATCH_START, MATCH_END = "\x01", "\x02"  # what the storage's ts_headline puts around matches (never in the text)
MARK_START, MARK_END = "<mark>", "</mark>"


def message_reference(run_id: str, position: int, message_id: str | None) -> str:
    """A message's stable reference: its stored id when it has one, else `<run_id>#<position in run_data.messages>`."""
    return message_id if message_id else f"{run_id}#{position}"


def marked_snippet(headline: str | None) -> str:
    """The snippet as HTML: the text escaped, the matched words inside <mark>…</mark>."""
    escaped = html.escape(headline or "", quote=False)
    return escaped.replace(MATCH_START, MARK_START).replace(MATCH_END, MARK_END)


def search_hit(row: dict) -> dict:
    """One hit, keys in the documented order; the session named as the list names it."""
    kind = detect_session_type(row)
    name_run = row.get("name_run")
    return {
        "session_id": row["session_id"],
        "session_name": session_name(row, [name_run] if name_run is not None else [], for_list=True),
        "session_type": kind,
        "component_id": row.get(f"{kind}_id"),
        "user_id": row.get("user_id"),
        "run_id": row["run_id"],
        "message": message_reference(row["run_id"], row["position"], row.get("message_id")),
        "role": row.get("role"),
        "created_at": iso_utc(row["created_at"]),
        "snippet": marked_snippet(row.get("snippet")),
        "rank": float(row["rank"]),
    }


def hit_position(row: dict) -> dict[str, Any]:
    """Where a hit stands in the hits' order: what the next page's cursor keeps."""
    recent = row["ordered_by"] == RECENT  # newest first: the rank is not part of the order
    return {"rank": 0.0 if recent else float(row["rank"]), "created_at": row["created_at"],
            "session_id": row["session_id"], "run_id": row["run_id"], "position": row["position"],
            "order": row["ordered_by"]}


def position_from_cursor(raw: dict[str, Any]) -> dict[str, Any]:
    """A position read back from a sealed cursor; values a genuine cursor cannot hold are CursorInvalid."""
    rank, created, session_id, run_id, position = (raw.get(k) for k in
                                                   ("rank", "created_at", "session_id", "run_id", "position"))
    if not isinstance(rank, (int, float)) or isinstance(rank, bool) or rank != rank:
        raise CursorInvalid()
    if not _integer(created, -BIGINT_MAX - 1, BIGINT_MAX) or not _integer(position, 0, 2**31 - 1):
        raise CursorInvalid()
    if not all(isinstance(v, str) and "\x00" not in v for v in (session_id, run_id)):
        raise CursorInvalid()
    order = raw.get("order", RELEVANCE)  # a cursor of the first version, before broad searches came newest first
    if order not in ORDERS:
        raise CursorInvalid()
    return {"rank": float(rank), "created_at": created, "session_id": session_id, "run_id": run_id,
            "position": position, "order": order}


def _integer(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
