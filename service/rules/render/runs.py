"""Run projections of /sessions/{id}/runs, /run-previews and /runs/{run_id} (RunSchema and friends)."""

from __future__ import annotations

import json
from typing import Any

from service.rules.agno import detect_session_type
from service.rules.render.messages import PREVIEW_CHARS
from service.rules.render.timestamps import iso_utc
from service.rules.render.values import as_text, stringify_input, with_sdk

RUN_STATUSES = ("CANCELLED", "COMPLETED", "ERROR", "PAUSED", "PENDING", "REGENERATED", "RUNNING")
_INPUT_MEDIA_KEYS = ("images", "videos", "audios", "files")
# Trailing fields shared by RunSchema and TeamRunSchema, all read verbatim with a None default.
_FORK_FIELDS = (
    "followups",
    "forked_from_run_id",
    "forked_from_message_index",
    "forked_from_session_id",
    "regenerated_from",
    "last_checkpoint_at_message_index",
)


_NOT_FOUND = object()


def _last_user_content(messages: Any) -> Any:
    """Fallback input of a run: the content of its last user message (which may itself be null)."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            return message.get("content", "")
    return _NOT_FOUND


def run_input(run: dict, *, workflow: bool = False) -> str | None:
    """RunSchema.run_input as text (a null user message stays null)."""
    found = _raw_run_input(run, workflow)
    return None if found is None else as_text(found)


def _raw_run_input(run: dict, workflow: bool) -> Any:
    """The original input, else the last user message (contract §6.2)."""
    stored = run.get("input")
    if not workflow and isinstance(stored, dict) and stored.get("input_content") is not None:
        return stringify_input(stored["input_content"])
    if workflow:
        if stored is not None:
            return stringify_input(stored)
        executor_runs = run.get("step_executor_runs")
        if isinstance(executor_runs, list) and executor_runs and isinstance(executor_runs[0], dict):
            found = _last_user_content(executor_runs[0].get("messages"))
            if found is not _NOT_FOUND:
                return found
    found = _last_user_content(run.get("messages"))
    return "" if found is _NOT_FOUND else found


def input_media(run: dict) -> dict:
    """Media the caller attached to the run input, always with all four lists."""
    stored = run.get("input")
    media: dict[str, list] = {key: [] for key in _INPUT_MEDIA_KEYS}
    if isinstance(stored, dict):
        for key in _INPUT_MEDIA_KEYS:
            if isinstance(stored.get(key), list):  # AgentOS 500s on a non-list here
                media[key].extend(stored[key])
    return media


def _response_format(run: dict) -> str:
    """'text' for plain-string content (or no content_type at all), else 'json'."""
    return "text" if run.get("content_type", "str") == "str" else "json"


def _non_empty(run: dict, key: str) -> Any:
    """messages/tools/events collapse to null when empty."""
    return run[key] if run.get(key) else None


def agent_run(run: dict, row: dict | None = None) -> dict:
    """RunSchema; `row` only where AgentOS passes the session (sdk label of the session's own agent)."""
    agent_data = None
    own_agent = row is not None and run.get("agent_id") in (None, row.get("agent_id"))
    if own_agent and detect_session_type(row) == "agent":
        agent_data = row.get("agent_data")
    return {
        "run_id": run.get("run_id", ""),
        "parent_run_id": run.get("parent_run_id", ""),
        "agent_id": run.get("agent_id", ""),
        "user_id": run.get("user_id", ""),
        "status": run.get("status"),
        "cancellation_stage": run.get("cancellation_stage"),
        "run_input": run_input(run),
        "content": run.get("content", ""),
        "run_response_format": _response_format(run),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "metrics": run.get("metrics", {}),
        "metadata": with_sdk(run.get("metadata"), agent_data),
        "messages": _non_empty(run, "messages"),
        "tools": _non_empty(run, "tools"),
        "events": _non_empty(run, "events"),
        "created_at": iso_utc(run.get("created_at")),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "session_state": run.get("session_state"),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
        "input_media": input_media(run),
        **{key: run.get(key) for key in _FORK_FIELDS},
    }


def team_run(run: dict) -> dict:
    """TeamRunSchema (note: user_id defaults to null here, not "")."""
    return {
        "run_id": run.get("run_id", ""),
        "parent_run_id": run.get("parent_run_id", ""),
        "team_id": run.get("team_id", ""),
        "user_id": run.get("user_id"),
        "status": run.get("status"),
        "cancellation_stage": run.get("cancellation_stage"),
        "content": run.get("content", ""),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "run_input": run_input(run),
        "run_response_format": _response_format(run),
        "metrics": run.get("metrics", {}),
        "tools": _non_empty(run, "tools"),
        "messages": _non_empty(run, "messages"),
        "events": _non_empty(run, "events"),
        "created_at": iso_utc(run.get("created_at")),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "session_state": run.get("session_state"),
        "input_media": input_media(run),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
        **{key: run.get(key) for key in _FORK_FIELDS},
    }


def workflow_run(run: dict) -> dict:
    """WorkflowRunSchema: no parent_run_id/agent_id/messages; events default to []."""
    return {
        "run_id": run.get("run_id", ""),
        "run_input": run_input(run, workflow=True),
        "events": run.get("events", []),
        "workflow_id": run.get("workflow_id", ""),
        "user_id": run.get("user_id", ""),
        "content": run.get("content", ""),
        "content_type": run.get("content_type", ""),
        "status": run.get("status", ""),
        "cancellation_stage": run.get("cancellation_stage"),
        "step_results": run.get("step_results", []),
        "step_executor_runs": run.get("step_executor_runs", []),
        "step_requirements": run.get("step_requirements"),
        "pause_kind": run.get("pause_kind"),
        "paused_step_name": run.get("paused_step_name"),
        "paused_step_index": run.get("paused_step_index"),
        "metrics": run.get("metrics", {}),
        "created_at": iso_utc(run.get("created_at")),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
    }


def _classify(row: dict, run: dict, as_type: str) -> dict | None:
    """Per-run schema choice of the runs listing (contract §5.4); None means AgentOS drops the run."""
    if as_type == "agent":
        return agent_run(run, row)
    if as_type == "team":
        if run.get("agent_id") is not None:
            return agent_run(run)
        return team_run(run) if run.get("team_id") is not None else None
    if run.get("workflow_id") is not None:
        return workflow_run(run)
    return team_run(run) if run.get("team_id") is not None else agent_run(run)


def session_runs(row: dict, runs: list, as_type: str) -> list[dict]:
    """Every run of the session rendered with the schema its shape and the session type call for."""
    items = (_classify(row, run, as_type) for run in runs if isinstance(run, dict))
    return [item for item in items if item is not None]


def single_run(row: dict, run: dict) -> dict:
    """GET /runs/{run_id}: the schema follows the run itself, whatever the session type."""
    if run.get("workflow_id") is not None:
        return workflow_run(run)
    if run.get("team_id") is not None:
        return team_run(run)
    return agent_run(run, row)


def _preview(value: Any) -> str | None:
    """First 280 characters; structured values as default-separator JSON."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:PREVIEW_CHARS]


def run_preview(item: dict) -> dict:
    """SessionRunPreviewSchema of an already classified run item."""
    return {
        "run_id": item["run_id"],
        "parent_run_id": item.get("parent_run_id"),
        "agent_id": item.get("agent_id"),
        "team_id": item.get("team_id"),
        "workflow_id": item.get("workflow_id"),
        "user_id": item.get("user_id"),
        "status": item.get("status"),
        "run_input": _preview(item.get("run_input")),
        "content_preview": _preview(item.get("content")),
        "created_at": item.get("created_at"),
    }


def invalid_statuses(values: list[str]) -> str | None:
    """The 400 detail AgentOS gives for unknown ?status= values, checked before any lookup."""
    unknown = sorted({value.upper() for value in values} - set(RUN_STATUSES))
    if not unknown:
        return None
    return f"Invalid status value(s) {unknown}; expected one of {list(RUN_STATUSES)}"


def filter_runs(
    runs: list, *, statuses: list[str] | None, created_after: int | None, created_before: int | None
) -> list[dict]:
    """The runs listing's filters: inclusive created_at bounds, case-insensitive status set."""
    wanted = {value.upper() for value in statuses} if statuses else None
    kept = []
    for run in runs:
        if not isinstance(run, dict):
            continue
        created = run.get("created_at")
        if isinstance(created, (int, float)):  # runs without created_at are kept; AgentOS 500s on text
            if created_after is not None and created < created_after:
                continue
            if created_before is not None and created > created_before:
                continue
        status = run.get("status")
        if wanted is not None and not (isinstance(status, str) and status.upper() in wanted):
            continue
        kept.append(run)
    return kept
