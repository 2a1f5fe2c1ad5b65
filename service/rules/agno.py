"""The shapes agno stores, shared by validation, writes and render: session types, reserved metadata, summaries."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from service.rules.validation.errors import STRING, error

SESSION_TYPES = ("agent", "team", "workflow")
RESERVED_METADATA_KEYS = frozenset({"agno_component_version", "agno_dispatch_chain", "agno_dispatch_depth"})
SUMMARY_KEYS = ("summary", "topics", "updated_at")


def detect_session_type(row: dict) -> str:
    """Stored session_type, else inferred from which component id is set (agent by default)."""
    stored = row.get("session_type")
    if stored:
        return stored
    for kind in SESSION_TYPES:
        if row.get(f"{kind}_id"):
            return kind
    return "agent"


def run_type_of(run: dict[str, Any]) -> str:
    """agno's get_run_type for a run stored as a dict: agent, else team, else workflow."""
    if run.get("agent_id") or run.get("agent_name"):
        return "agent"
    if run.get("team_id") or run.get("team_name"):
        return "team"
    return "workflow"


def strip_reserved_metadata(meta: Any) -> Any:
    """Runtime-owned keys never enter through the API; metadata of only such keys becomes null."""
    if not isinstance(meta, dict) or not RESERVED_METADATA_KEYS.intersection(meta):
        return meta
    cleaned = {key: value for key, value in meta.items() if key not in RESERVED_METADATA_KEYS}
    return cleaned or None


def from_iso(text: str) -> datetime:
    """Parse like Python 3.11's datetime.fromisoformat, which is what AgentOS runs on."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        if sys.version_info < (3, 11) and text.endswith("Z"):
            return datetime.fromisoformat(text[:-1] + "+00:00")
        raise


# ---------------------------------------------------------------- SessionSummary


def summary_errors(summary: dict | None, loc: tuple) -> list[dict]:
    """SessionSummary.from_dict's rules: `summary` required, only summary/topics/updated_at, ISO updated_at."""
    if summary is None:
        return []
    errors = [] if "summary" in summary else [error("missing", (*loc, "summary"), "Field required", summary)]
    for key, value in summary.items():
        if key not in SUMMARY_KEYS:
            errors.append(error("extra_forbidden", (*loc, key), "Extra inputs are not permitted", value))
        elif key == "updated_at" and value:
            if not isinstance(value, str):
                errors.append(error("string_type", (*loc, key), STRING, value))
                continue
            try:
                from_iso(value)
            except ValueError as exc:
                msg = f"Input should be a valid datetime, {exc}"
                errors.append(error("datetime_parsing", (*loc, key), msg, value, {"error": str(exc)}))
    return errors


def summary_dict(summary: dict[str, Any]) -> dict[str, Any]:
    """SessionSummary.to_dict(): summary, topics, updated_at re-emitted via isoformat, None-valued keys dropped.

    An unparsable stored date is kept as stored (AgentOS 500s on it)."""
    out = {key: summary.get(key) for key in SUMMARY_KEYS}
    stamp = out["updated_at"]
    if not stamp:
        out["updated_at"] = None
    elif isinstance(stamp, str):
        try:
            out["updated_at"] = from_iso(stamp).isoformat()
        except ValueError:
            pass
    return {key: value for key, value in out.items() if value is not None}
