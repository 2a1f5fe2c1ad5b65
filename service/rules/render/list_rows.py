"""List rows reshaped on request (extension `list-shape`): `fields` keeps only some of SessionSchema's keys and
`include` adds computed ones, so a UI draws a row without reading the session's detail."""

from __future__ import annotations

from typing import Any

from service.rules.render.messages import history_messages, message_preview
from service.rules.render.timestamps import iso_utc


def _last_message(runs: list) -> dict | None:
    """A preview of the last message the detail's chat_history would show, from runs in agno's order."""
    for run in reversed(runs):
        shown = history_messages(run)
        if shown:
            return message_preview(shown[-1][1], run.get("created_at"))
    return None


def _from_columns(row: dict) -> dict[str, Any]:
    """The included values the list's statement computed (storage/list_extras.py)."""
    message = row.get("last_message_raw")
    return {
        "run_count": row.get("run_count"),
        "last_run_at": iso_utc(row.get("last_run_created_at")),
        "last_run_status": row.get("last_run_status"),
        # The statement chose the message (the last chat_history shows) and sent it alone.
        "last_message": message_preview(message, row.get("last_message_run_at")) if isinstance(message, dict)
        else None,
    }


def _from_runs(runs: list) -> dict[str, Any]:
    """The same values from a session's complete runs (a legacy table, whose 2.x blob only Python can merge)."""
    last = runs[-1] if runs and isinstance(runs[-1], dict) else {}
    return {
        "run_count": len(runs),
        "last_run_at": iso_utc(last.get("created_at")),
        "last_run_status": last.get("status"),
        "last_message": _last_message(runs),
    }


def shaped_list_item(row: dict, item: dict, fields: tuple[str, ...] | None, include: tuple[str, ...]) -> dict:
    """A rendered list item (`item`, of `row`) with only `fields` (None: all; session_id always kept), then the
    `include` keys in their order, each present (null when there is nothing; total_tokens as AgentOS's row has
    it, from session_metrics)."""
    extra: dict[str, Any] = {}
    if include:
        values = _from_runs(row["runs"]) if row.get("runs_complete") else _from_columns(row)
        values["total_tokens"] = item.get("total_tokens")
        extra = {name: values[name] for name in include}
    if fields is not None:
        item = {k: v for k, v in item.items() if k == "session_id" or k in fields}
    return {**item, **extra} if extra else item
