"""Workflow sessions and their runs, written as agno's workflow upsert and upsert_run write them."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from service.storage.binding import jsonb
from service.storage.errors import WorkflowSessionConflict
from service.storage.pool import Database


def _check_workflow_owner(row: dict | None, session_id: str, user_id: str | None, claim_unowned: bool = True) -> None:
    """Refuse rows agno's upsert would not (or should not) overwrite; an isolated caller may not claim an unowned
    one either (`claim_unowned=False`), as such sessions are invisible to it over the API."""
    if row is None:
        return
    if row["session_type"] != "workflow":
        raise WorkflowSessionConflict(f"session {session_id!r} is a {row['session_type']} session")
    if (row["user_id"] is not None or not claim_unowned) and row["user_id"] != user_id:
        raise WorkflowSessionConflict(f"session {session_id!r} belongs to another user")


def load_workflow_session(db: Database, session_id: str, user_id: str | None, claim_unowned: bool = True
                          ) -> dict | None:
    """The workflow session row a run resumes from (None when new); raises on a foreign session."""
    row = db.fetch_one_in_transaction("workflow_lock_session", {"session_id": session_id}, lock=sql.SQL(""))
    _check_workflow_owner(row, session_id, user_id, claim_unowned)
    return row


def save_workflow_run(db: Database, session: dict[str, Any], run_data: dict[str, Any], now: int,
                      claim_unowned: bool = True) -> dict:
    """Upsert the workflow session and insert its run in one transaction; returns the session row.

    `session` holds session_id, workflow_id, user_id, session_state and workflow_data; the stored session_name,
    other session_data keys and metadata are kept. `run_data` gets its run_index here.
    """
    session_id, user_id = session["session_id"], session["user_id"]
    with db.transaction() as cur:
        cur.execute(db.query("workflow_lock_session", lock=sql.SQL("FOR UPDATE")), {"session_id": session_id})
        existing = cur.fetchone()
        _check_workflow_owner(existing, session_id, user_id, claim_unowned)
        old_data = existing["session_data"] if existing and isinstance(existing["session_data"], dict) else {}
        metadata = existing["metadata"] if existing and existing["metadata"] is not None else {}
        cur.execute(db.query("workflow_upsert_session"), {
            "session_id": session_id, "workflow_id": session["workflow_id"], "user_id": user_id,
            "session_data": jsonb({**old_data, "session_state": session["session_state"]}),
            "workflow_data": jsonb(session["workflow_data"]), "metadata": jsonb(metadata), "summary": jsonb(None),
            "now": now,
        })
        row = cur.fetchone()
        cur.execute(db.query("workflow_next_run_index"), {"session_id": session_id})
        run_data["run_index"] = cur.fetchone()["run_index"]
        cur.execute(db.query("workflow_insert_run"), {
            "run_id": run_data["run_id"], "session_id": session_id, "workflow_id": run_data.get("workflow_id"),
            "user_id": user_id, "status": run_data.get("status"), "run_index": run_data["run_index"],
            "run_data": jsonb(run_data), "created_at": run_data.get("created_at") or now, "now": now,
        })
    return row
