"""agno's SessionSummary: what a summary may hold, and the dict it writes back and answers with."""

from __future__ import annotations

from typing import Any

from service.rules.render.timestamps import from_iso
from service.rules.validation.errors import STRING, error

SUMMARY_KEYS = ("summary", "topics", "updated_at")


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
