"""`agno-session webhooks dead-letters [--replay ID ... | --replay-all]`: what failed for a whole retry window, and
sending it again (the running deliverer picks replayed events up at once, each behind its session's waiting ones)."""

from __future__ import annotations

import json
import time
from typing import TextIO

from service.core.config import Settings
from service.storage import webhooks
from service.storage.registry import open_database


def dead_letters_command(settings: Settings, out: TextIO, err: TextIO, replay: list[int] | None, replay_all: bool,
                         subscription: str | None, limit: int, as_json: bool) -> int:
    """List (the default) or replay the dead letters of every database."""
    status = 0
    for config in settings.databases:
        db = open_database(config, 1, settings.request_timeout)
        try:
            if not webhooks.installed(db):
                print(f"{config.db_id}: webhook tables not installed (`agno-session migrate --webhooks`)", file=err)
                status = 1
                continue
            if replay is not None or replay_all:
                count = webhooks.replay(db, replay if not replay_all else None, subscription, time.time())
                print(f"{config.db_id}: {count} dead letters back in the queue", file=out, flush=True)
                continue
            for row in webhooks.dead_letters(db, subscription, limit):
                _show(config.db_id, row, out, as_json)
        finally:
            db.close()
    return status


def _show(db_id: str, row: dict, out: TextIO, as_json: bool) -> None:
    body = json.loads(row["body"])
    if as_json:
        print(json.dumps({"db_id": db_id, "id": row["id"], "subscription": row["subscription"],
                          "message_id": row["message_id"], "session_id": row["session_id"], "type": body.get("type"),
                          "attempts": row["attempts"], "first_attempt_at": row["first_attempt_at"].isoformat(),
                          "dead_at": row["dead_at"].isoformat(), "last_error": row["last_error"], "body": body}),
              file=out)
        return
    print(f"{db_id}: #{row['id']} {row['subscription']} {body.get('type')} session {row['session_id']} "
          f"({row['message_id']}): {row['attempts']} attempts, dead since {row['dead_at'].isoformat()}: "
          f"{row['last_error']}", file=out)
