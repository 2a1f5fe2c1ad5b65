"""The archive's and legal holds' answers (extensions `archive` and `legal-holds`), worded once."""

from __future__ import annotations

HELD = "Session is under legal hold"
UNAVAILABLE = "Archive and legal holds are not available on this database"


def id_taken(session_id: str) -> str:
    """409 of a restore whose id a live session took meanwhile."""
    return f"Session with id '{session_id}' already exists"


def not_archived(session_id: str) -> str:
    """404 of a restore or purge of an id the archive does not hold (for this caller)."""
    return f"Archived session with id '{session_id}' not found"


def no_hold(session_id: str) -> str:
    """404 of a hold release where there is none."""
    return f"No legal hold on session with id '{session_id}'"
