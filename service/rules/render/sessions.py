"""Session projections: list items, detail shapes and derived names."""

from __future__ import annotations

import json
from typing import Any

from service.rules.agno import detect_session_type, run_type_of, summary_dict
from service.rules.render.media import reserialise_media
from service.rules.render.messages import chat_history
from service.rules.render.timestamps import iso_utc
from service.rules.render.values import as_text, lax_int, stringify_input, with_sdk

_INPUT_MEDIA = (("images", "image"), ("videos", "video"), ("audios", "audio"), ("files", "file"))


def drop_none(d: dict) -> dict:
    """exclude_none routes (list, create, detail, runs, previews) omit null top-level fields."""
    return {key: value for key, value in d.items() if value is not None}


def _object(value: Any) -> dict | None:
    """Containers AgentOS must look inside; anything but an object counts as absent (AgentOS would 500)."""
    return value if isinstance(value, dict) else None


def _total_tokens(metrics: Any) -> Any:
    """session_metrics.total_tokens through pydantic's int coercion; uncoercible values are left out."""
    value = lax_int(metrics.get("total_tokens")) if isinstance(metrics, dict) else None
    return value if isinstance(value, int) else None


# ---------------------------------------------------------------- session_name


def _workflow_name(runs: list, workflow_data: Any) -> str | None:
    """Workflow sessions are named after the first run's input, else 'New <workflow> Session' (None: no run)."""
    if not runs:
        return None
    first_input = runs[0].get("input")
    if isinstance(first_input, str):
        return first_input
    if isinstance(first_input, dict):
        return json.dumps(first_input)
    name = workflow_data.get("name") if isinstance(workflow_data, dict) else None
    return f"New {name} Session" if name else ""


def _first_user_text(runs: list) -> str | None:
    """Agent/team sessions are named after the first non-empty user message, else the first stored input (None:
    no run names it)."""
    for run in runs:
        messages = run.get("messages")
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, dict) and message.get("role") == "user" and message.get("content"):
                return as_text(message["content"])
        if run.get("input") is not None:
            return as_text(stringify_input(run["input"]))
    return None


def _round_trip_input(stored: Any) -> Any:
    """The run input as RunInput.from_dict(...).to_dict() rewrites it before detail naming sees it."""
    if not stored or not isinstance(stored, dict):
        return stored or None
    out: dict[str, Any] = {}
    content = stored.get("input_content", "")
    if content is not None:
        out["input_content"] = content
    for key, kind in _INPUT_MEDIA:
        if stored.get(key) and isinstance(stored[key], list):
            out[key] = [reserialise_media(kind, item, run_input=True) for item in stored[key]]
    return out


def runs_kept_as(read_as: str, runs: list) -> list:
    """The runs a session deserialised as `read_as` holds: workflow sessions keep workflow runs; agent and team
    sessions keep agent/team-shaped runs, their inputs rewritten by RunInput's round trip."""
    runs = [run for run in runs if isinstance(run, dict)]
    if read_as == "workflow":
        return [run for run in runs if run_type_of(run) == "workflow"]
    kept = [run for run in runs if "agent_id" in run or "team_id" in run]
    return [{**run, "input": _round_trip_input(run.get("input"))} for run in kept]


def session_name(row: dict, runs: list, *, for_list: bool, as_type: str | None = None,
                 read_as: str | None = None) -> str:
    """The stored name when set (even ""), else one derived from the runs (contract §6.1).

    Detail reads name the session by `as_type`'s rule from the runs the session was read with (`read_as`,
    by default the same type): a PATCH with `?type=` reads as one type and answers in the row's own."""
    name = _stored_name(row)
    if name is None:
        name = _derived_name(row, runs, for_list=for_list, as_type=as_type, read_as=read_as)
    return "" if name is None else name


def _stored_name(row: dict) -> str | None:
    """session_data.session_name as text, None when it is not set."""
    session_data = _object(row.get("session_data"))
    if session_data is not None and session_data.get("session_name") is not None:
        return as_text(session_data["session_name"])
    return None


def name_decided(row: dict, runs: list, as_type: str) -> bool:
    """Whether the detail's session_name is known from these leading runs (or needs none): a reader that fetches
    runs in order stops once it is."""
    return _stored_name(row) is not None or _derived_name(row, runs, for_list=False, as_type=as_type,
                                                          read_as=None) is not None


def _derived_name(row: dict, runs: list, *, for_list: bool, as_type: str | None, read_as: str | None
                  ) -> str | None:
    """The name the runs give a session without a stored one, None when no run names it."""
    runs = [run for run in runs if isinstance(run, dict)]
    kind = row.get("session_type") if for_list else (as_type or detect_session_type(row))
    if not for_list:
        runs = runs_kept_as(read_as or kind, runs)
    if kind == "workflow":
        return _workflow_name(runs, row.get("workflow_data"))
    if kind == "team":
        runs = [run for run in runs if not run.get("agent_id")]
    return _first_user_text(runs)


# ---------------------------------------------------------------- list


def session_list_item(row: dict, name: str) -> dict:
    """One SessionSchema entry of GET /sessions, nulls already dropped."""
    session_data = _object(row.get("session_data")) or {}
    metrics = session_data.get("session_metrics")
    kind = detect_session_type(row)
    metadata = row.get("metadata")
    if kind == "agent":
        metadata = with_sdk(metadata, row.get("agent_data"))
    return drop_none(
        {
            "session_id": row.get("session_id", ""),
            "session_name": name,
            "session_state": session_data.get("session_state"),
            "created_at": iso_utc(row.get("created_at", 0)),
            "updated_at": iso_utc(row.get("updated_at")),
            "session_type": kind,
            "user_id": row.get("user_id"),
            "agent_id": row.get("agent_id"),
            "team_id": row.get("team_id"),
            "workflow_id": row.get("workflow_id"),
            "session_summary": row.get("summary"),
            "metrics": metrics,
            "total_tokens": _total_tokens(metrics) if metrics else None,
            "metadata": metadata,
        }
    )


# ---------------------------------------------------------------- detail


def _summary(stored: Any) -> dict | None:
    """SessionSummary.to_dict() of the stored summary, if it is an object."""
    return summary_dict(stored) if isinstance(stored, dict) else None


def _timestamps(row: dict, now_if_missing: int | None) -> tuple[str | None, str | None]:
    """created_at 0 is omitted; a missing updated_at falls back to created_at (workflows: to now)."""
    created_at = row.get("created_at")
    updated_at = row.get("updated_at")
    if updated_at is None and now_if_missing is not None:
        updated_at = now_if_missing  # WorkflowSession.__post_init__ stamps it
    created = iso_utc(created_at) if created_at else None
    return created, (iso_utc(updated_at) if updated_at else created)


def _metrics_fields(session_data: dict | None) -> tuple[Any, Any]:
    """(metrics, total_tokens); a JSON-null session_metrics counts as absent (AgentOS 500s on it)."""
    if not session_data:
        return None, None
    metrics = session_data.get("session_metrics")
    if not isinstance(metrics, dict):
        metrics = {}
    return metrics, _total_tokens(metrics)


def _agent_detail(row: dict, runs: list, read_as: str, now: int, history: list | None) -> dict:
    """AgentSessionDetailSchema."""
    session_data = _object(row.get("session_data"))
    metrics, total_tokens = _metrics_fields(session_data)
    created_at, updated_at = _timestamps(row, now_if_missing=None)
    summary = row.get("summary")
    return {
        "user_id": row.get("user_id"),
        "agent_session_id": row["session_id"],
        "session_id": row["session_id"],
        "session_name": session_name(row, runs, for_list=False, as_type="agent", read_as=read_as),
        "session_summary": _summary(summary),
        "session_state": session_data.get("session_state") if session_data else None,
        "agent_id": row.get("agent_id") or None,
        "total_tokens": total_tokens,
        "agent_data": row.get("agent_data"),
        "metrics": metrics,
        "metadata": with_sdk(row.get("metadata"), row.get("agent_data")),
        "chat_history": chat_history(runs_kept_as(read_as, runs), now) if history is None else history,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def _team_detail(row: dict, runs: list, read_as: str, now: int, history: list | None) -> dict:
    """TeamSessionDetailSchema (total_tokens last; an empty summary is null here, unlike agents)."""
    session_data = _object(row.get("session_data"))
    metrics, total_tokens = _metrics_fields(session_data)
    created_at, updated_at = _timestamps(row, now_if_missing=None)
    return {
        "session_id": row["session_id"],
        "session_name": session_name(row, runs, for_list=False, as_type="team", read_as=read_as),
        "user_id": row.get("user_id"),
        "team_id": row.get("team_id"),
        "session_summary": _summary(row.get("summary")) or None,
        "session_state": session_data.get("session_state") if session_data else None,
        "metrics": metrics,
        "team_data": row.get("team_data"),
        "metadata": row.get("metadata"),
        "chat_history": chat_history(runs_kept_as(read_as, runs), now) if history is None else history,
        "created_at": created_at,
        "updated_at": updated_at,
        "total_tokens": total_tokens,
    }


def _or_empty(value: Any) -> Any:
    """WorkflowSession turns null session_data/workflow_data/metadata into {}."""
    return {} if value is None else value


def _workflow_detail(row: dict, runs: list, read_as: str, now: int, history: list | None) -> dict:
    """WorkflowSessionDetailSchema (no summary, metrics or chat_history; workflow_name is never stored)."""
    session_data = _or_empty(_object(row.get("session_data")))
    created_at, updated_at = _timestamps(row, now_if_missing=now)
    return {
        "user_id": row.get("user_id"),
        "workflow_id": row.get("workflow_id"),
        "workflow_name": None,
        "session_id": row["session_id"],
        "session_name": session_name(row, runs, for_list=False, as_type="workflow", read_as=read_as),
        "session_data": session_data,
        "session_state": session_data.get("session_state") if session_data else None,
        "workflow_data": _or_empty(row.get("workflow_data")),
        "metadata": _or_empty(row.get("metadata")),
        "created_at": created_at,
        "updated_at": updated_at,
    }


_DETAILS = {"agent": _agent_detail, "team": _team_detail, "workflow": _workflow_detail}


def session_detail(row: dict, runs: list, as_type: str, *, now: int, read_as: str | None = None,
                   history: list | None = None) -> dict:
    """The detail shape of `as_type` (which need not be the row's type), every field present, from the runs a
    session read as `read_as` (default: `as_type`) keeps; `now` stands in for timestamps agno would take now.
    `history`, when given, is the chat_history already rendered (the history window's page)."""
    return _DETAILS[as_type](row, runs, read_as or as_type, now, history)

