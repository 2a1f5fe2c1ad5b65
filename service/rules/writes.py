"""What create and PATCH write, column by column, as agno's upsert would write it (pure, no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from service.core.json_codec import JSON_NULL
from service.rules.agno import detect_session_type, run_type_of, strip_reserved_metadata, summary_dict, summary_errors
from service.rules.validation.depth import state_depth
from service.rules.validation.errors import RequestInvalid
from service.rules.validation.sanitize import sanitize_strings


@dataclass(frozen=True)
class SessionWrite:
    """What a write does to a locked session row: the columns it sets, the session type it read the row as
    (`kind`: whose id and data columns it writes) and the row's own type (the shape the answer takes)."""

    kind: str
    own_type: str
    columns: dict[str, Any]


def _json(value: Any) -> Any:
    """A JSON column agno includes in its write: None becomes JSON null."""
    return JSON_NULL if value is None else value


def new_session(session_type: str, body: dict[str, Any], now: int) -> dict[str, Any]:
    """Columns of a session created through POST /sessions (agno's insert; workflow gets `{}` defaults)."""
    session_data: dict[str, Any] = {}
    if body.get("session_state") is not None:
        session_data["session_state"] = body["session_state"]
    if body.get("session_name") is not None:
        session_data["session_name"] = body["session_name"]
    metadata = strip_reserved_metadata(body.get("metadata"))
    summary = summary_dict(body["summary"]) if body.get("summary") is not None else None
    values: dict[str, Any] = {
        "session_id": body.get("session_id") or str(uuid.uuid4()),
        "session_type": session_type,
        "user_id": body.get("user_id"),
        "session_data": _json(session_data or None),
        "metadata": _json(metadata),
        "summary": _json(summary if session_type != "workflow" else None),
        "created_at": now,
    }
    values[f"{session_type}_id"] = body.get(f"{session_type}_id")
    values[f"{session_type}_data"] = JSON_NULL
    if session_type == "workflow":
        for column in ("session_data", "workflow_data", "metadata"):
            if values[column] is JSON_NULL:
                values[column] = {}
    return values


def patched_session(row: dict[str, Any], as_type: str | None, body: dict[str, Any], now: int) -> SessionWrite:
    """What PATCH writes: the session read as `as_type` (or its own type), changed, then upserted.

    Raises RequestInvalid, before anything is written, for a session_state nested deeper than the answer (in the
    row's own shape: a workflow's sits one level deeper) can hold."""
    own_type = detect_session_type(row)
    too_deep = state_depth(body.get("session_state"), own_type)
    if too_deep:
        raise RequestInvalid(too_deep)
    kind = as_type or own_type
    session_data, metadata, component_data = row["session_data"], row["metadata"], row[f"{kind}_data"]
    if kind == "workflow":  # a WorkflowSession turns these nulls into {} as it is read, so they are written back
        session_data = {} if session_data is None else session_data
        metadata = {} if metadata is None else metadata
        component_data = {} if component_data is None else component_data
    for key in ("session_name", "session_state"):
        if body.get(key) is not None:
            session_data = dict(session_data) if isinstance(session_data, dict) else {}
            session_data[key] = body[key]
    if body.get("metadata") is not None:
        metadata = strip_reserved_metadata(body["metadata"])
    summary = None
    if kind != "workflow":
        if body.get("summary") is not None:
            summary = summary_dict(body["summary"])
        elif isinstance(row["summary"], dict):
            # re-written through agno's SessionSummary; kept as stored when it cannot be read
            summary = row["summary"] if summary_errors(row["summary"], ()) else summary_dict(row["summary"])
    return SessionWrite(kind, own_type, {  # agno's upsert passes every JSON column it writes through its sanitizer
        "component_id": row[f"{kind}_id"],
        "component_data": sanitize_strings(component_data),
        "user_id": row["user_id"],
        "session_data": sanitize_strings(session_data),
        "summary": sanitize_strings(summary),
        "metadata": sanitize_strings(metadata),
        "now": now,
    })


def preloaded_runs(session_id: str, user_id: str | None, runs: list[dict[str, Any]], now: int
                   ) -> list[dict[str, Any]]:
    """Run rows for runs imported with a new session, in array order, shaped as agno's upsert_run writes them."""
    rows = []
    for position, run in enumerate(runs):
        data = {**run, "session_id": session_id}
        data.setdefault("run_id", str(uuid.uuid4()))
        index = data.get("run_index")
        created = data.get("created_at")
        rows.append({
            "run_id": data["run_id"],
            "run_type": run_type_of(data),
            "agent_id": data.get("agent_id"),
            "team_id": data.get("team_id"),
            "workflow_id": data.get("workflow_id"),
            "user_id": user_id,
            "parent_run_id": data.get("parent_run_id"),
            "status": data.get("status"),
            "run_index": index if isinstance(index, int) and not isinstance(index, bool) else position,
            "run_data": data,
            "created_at": created if isinstance(created, int) and not isinstance(created, bool) else now,
            "updated_at": now,
        })
    return rows
