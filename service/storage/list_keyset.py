"""Keyset positions for the list's cursor pages: the rows after a (sort key, session_id) position in the list's own
order (`sessions.order_clause`), as one condition an index on the sort key can start its scan from."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

# Sort keys a position can hold (a value that fits a cursor), and the SQL each one orders by. The JSON columns are
# not among them: a position would have to carry a whole document.
_KEYS = {
    "created_at": "created_at",
    "updated_at": "COALESCE(updated_at, created_at)",
    "session_type": "session_type",
    "user_id": "user_id",
    "agent_id": "agent_id",
    "team_id": "team_id",
    "workflow_id": "workflow_id",
}
_NOT_NULL = {"created_at", "updated_at", "session_type"}  # NOT NULL in agno's DDL (updated_at falls back)
_INTEGER = {"created_at", "updated_at"}


def keyed_by(sort_by: str) -> str | None:
    """The sort key a position holds beside session_id; None when the list is ordered by session_id alone."""
    return sort_by if sort_by in _KEYS else None


def position_of(row: dict, sort_by: str) -> dict[str, Any]:
    """The position of a listed row: its sort key's value (`k`, absent when ordered by session_id) and its id."""
    key = keyed_by(sort_by)
    position: dict[str, Any] = {"id": row["session_id"]}
    if key == "updated_at":
        position["k"] = row["updated_at"] if row["updated_at"] is not None else row["created_at"]
    elif key is not None:
        position["k"] = row[key]
    return position


def valid_position(position: dict[str, Any], sort_by: str) -> bool:
    """Whether a position (from a sealed cursor) has the shape this sort's positions have."""
    key = keyed_by(sort_by)
    if not isinstance(position.get("id"), str):
        return False
    if key is None:
        return "k" not in position
    value = position.get("k", ...)
    if value is None:
        return key not in _NOT_NULL
    if key in _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    return isinstance(value, str)


def after_condition(sort_by: str, sort_order: str, position: dict[str, Any]) -> tuple[sql.Composable, dict]:
    """`WHERE <rows after position>` for the page, and its parameters. Ascending puts NULL keys last and descending
    first, as PostgreSQL orders them; a bound on the key itself leads, so the scan starts at the position."""
    ascending = sort_order == "asc"
    op = ">" if ascending else "<"
    params: dict[str, Any] = {"after_id": position["id"]}
    key = keyed_by(sort_by)
    if key is None:
        return sql.SQL(f"WHERE session_id {op} %(after_id)s"), params
    expression = _KEYS[key]
    cast = "bigint" if key in _INTEGER else "text"
    params["after_key"] = position["k"]
    if position["k"] is None:  # only nullable keys get here
        text = (f"WHERE {expression} IS NULL AND session_id {op} %(after_id)s" if ascending else
                f"WHERE ({expression} IS NULL AND session_id {op} %(after_id)s) OR {expression} IS NOT NULL")
        return sql.SQL(text), params
    bound = f"%(after_key)s::{cast}"
    text = f"WHERE ({expression} {op}= {bound} AND ({expression} {op} {bound} OR session_id {op} %(after_id)s))"
    if ascending and key not in _NOT_NULL:
        text += f" OR {expression} IS NULL"
    return sql.SQL(text), params
