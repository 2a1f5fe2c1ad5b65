"""Timestamps as AgentOS serialises them (pydantic datetimes), read the way agno reads them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from service.rules.agno import from_iso


def to_datetime(value: Any) -> datetime | None:
    """Mirror agno's to_utc_datetime: epochs become UTC, ISO strings parse, junk becomes None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            return from_iso(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            return None
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError, TypeError):
        # AgentOS answers 500 here; an unrepresentable timestamp is simply left out instead.
        return None


def pydantic_iso(moment: datetime) -> str:
    """pydantic-core writes UTC as 'Z' and microseconds only when non-zero."""
    text = moment.isoformat()
    if moment.tzinfo is not None and moment.utcoffset() == timedelta(0):
        text = text[: -len("+00:00")] + "Z"
    return text


def iso_utc(epoch: Any) -> str | None:
    """Stored epoch seconds are emitted as ISO-8601 UTC strings by every /sessions route."""
    moment = to_datetime(epoch)
    return None if moment is None else pydantic_iso(moment)
