"""Conversation memory in agno's tables: one agent session per user, one run per message."""

from __future__ import annotations

from typing import Any

from service.storage.binding import jsonb
from service.storage.errors import MemorySessionConflict
from service.storage.pool import Database


def add_message(db: Database, key: dict[str, Any], run_id: str, run_data: dict[str, Any], now: int,
                bound: int) -> None:
    """Append one run under the user's advisory lock and trim the session to `bound` messages, in one transaction.

    `key` names the memory session: user_id, agent_id and session_id."""
    with db.transaction() as cur:
        cur.execute(db.query("memory_lock"), key)
        cur.execute(db.query("memory_upsert_session"), {**key, "now": now})
        if cur.fetchone() is None:
            raise MemorySessionConflict(key["session_id"])
        cur.execute(db.query("memory_insert_run"), {**key, "now": now, "run_id": run_id,
                                                    "run_data": jsonb(run_data)})
        cur.execute(db.query("memory_trim"), {**key, "bound": bound})


def message_lists(db: Database, key: dict[str, Any]) -> list[Any]:
    """Each run's stored `messages` value, in agno's run order."""
    return [row["messages"] for row in db.fetch_all_in_transaction("memory_messages", key)]


def delete_user(db: Database, key: dict[str, Any]) -> None:
    """Delete one user's memory session and its runs, serialised with that user's adds."""
    with db.transaction() as cur:
        cur.execute(db.query("memory_lock"), key)
        cur.execute(db.query("memory_delete_user"), key)


def delete_agent(db: Database, agent_id: str) -> None:
    """Delete every memory session of `agent_id`, and nothing else."""
    with db.transaction() as cur:
        cur.execute(db.query("memory_delete_all"), {"agent_id": agent_id, "prefix": f"{agent_id}:"})


def message_count(db: Database, key: dict[str, Any]) -> int:
    """How many messages the user's memory session holds."""
    row = db.fetch_one_in_transaction("memory_size", key)
    return int(row["total"]) if row else 0
