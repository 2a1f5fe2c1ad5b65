"""PATCH /sessions/{id}/state: a JSON Merge Patch (RFC 7396) of session_data.session_state, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg2 import sql

from service.db import Database
from service.store import jsonb, with_runs


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 MergePatch: objects merge recursively, `null` deletes a key, any other value replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def merged_session_data(session_data: Any, patch: dict) -> dict:
    """session_data with the patch merged into its session_state (a non-object session_data starts as `{}`)."""
    data = dict(session_data) if isinstance(session_data, dict) else {}
    data["session_state"] = merge_patch(data.get("session_state"), patch)
    return data


def merge_state(db: Database, session_id: str, user_id: str | None, patch: dict, now: int,
                check: Callable[[dict], None] | None = None) -> dict | None:
    """Lock the row, merge, write, all in one transaction; the updated row with `runs`, or None when not found.

    `check(row)` runs on the locked row before anything is written; raising from it rolls everything back."""
    with db.transaction() as cur:
        # The row locked: concurrent merges of one session queue here, each reading what the one before wrote.
        locked = db.query("get_session", lock=sql.SQL("FOR UPDATE OF s"))
        cur.execute(locked, {"session_id": session_id, "user_id": user_id})
        row = with_runs(db, cur.fetchone())
        if row is None:
            return None
        if check is not None:
            check(row)
        params = {"session_id": session_id, "now": now,
                  "session_data": jsonb(merged_session_data(row["session_data"], patch))}
        cur.execute(db.query("merge_state_update"), params)
        updated = cur.fetchone()
    updated.pop("runs", None)
    updated["runs"] = row["runs"]
    return updated
