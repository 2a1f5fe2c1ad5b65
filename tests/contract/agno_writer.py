"""Write sessions and runs through agno 3.1.10's own PostgresDb API on command, so paging tests can change the data
between pages exactly as agno does, without starting a process per write.

Run with the agno venv (it imports agno, not the project), like seed.py:
    python tests/contract/agno_writer.py --dsn postgresql+psycopg://postgres@/contract?host=...

Reads one JSON command per line on stdin and answers one JSON line per command on stdout ({"ok": true} or
{"ok": false, "error": "..."}), so the caller knows each write is committed before it asks for the next page:
    {"op": "upsert_session", "session_id": "s", "user_id": "u", "created_at": 1767225600, "name": "optional"}
    {"op": "upsert_run", "session_id": "s", "user_id": "u", "run_id": "r", "index": 0, "created_at": 1767225610}
    {"op": "delete_session", "session_id": "s"}
    {"op": "upsert_memory", "memory_id": "m", "user_id": "u", "memory": "likes tea"}
    {"op": "side_rows", "session_id": "s", "user_id": "u"}   (a tool result with payload, transcripts, a compaction)
    {"op": "upsert_runs", "session_id": "s", "user_id": "u", "start": 0, "count": 2000, "created_at": 1767225610}
Whatever agno itself prints goes to stderr: stdout carries only the answers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from agno.db.postgres import PostgresDb
from agno.db.schemas.memory import UserMemory
from seed import agent_run, agent_sess, side_rows_of  # the seed's builders: the same stored shapes as the dataset


def upsert_session(db: PostgresDb, cmd: dict) -> dict:
    """An agent session as agno creates it when a conversation starts (created_at = updated_at)."""
    stored = db.upsert_session(agent_sess(cmd["session_id"], cmd.get("user_id"), cmd["created_at"],
                                          name=cmd.get("name")))
    if stored is None:
        raise RuntimeError(f"upsert_session stored nothing for {cmd['session_id']}")
    return {}


def upsert_run(db: PostgresDb, cmd: dict) -> dict:
    """One completed run at the given run_index, as agno appends each run of a conversation."""
    run = agent_run(cmd["run_id"], cmd["session_id"], cmd.get("user_id"), cmd["created_at"],
                    cmd.get("prompt", f"question {cmd['index']}"), cmd.get("answer", f"answer {cmd['index']}"))
    db.upsert_run(run, cmd["session_id"], cmd.get("user_id"), cmd["index"])
    return {}


def upsert_runs(db: PostgresDb, cmd: dict) -> dict:
    """`count` runs at run_index `start` (default 0), `start` + 1, …, each appended by agno's upsert_run (a long
    conversation, without a pipe round trip per run)."""
    for index in range(cmd.get("start", 0), cmd.get("start", 0) + cmd["count"]):
        upsert_run(db, {**cmd, "run_id": f"{cmd['session_id']}-r{index}", "index": index,
                        "created_at": cmd["created_at"] + index})
    return {}


def delete_session(db: PostgresDb, cmd: dict) -> dict:
    """agno's delete_session: the row, its runs and what agno keeps beside it."""
    return {"deleted": db.delete_session(cmd["session_id"])}


def upsert_memory(db: PostgresDb, cmd: dict) -> dict:
    """A user memory as agno's memory manager stores it (agno_memories, created on first use)."""
    stored = db.upsert_user_memory(UserMemory(memory=cmd["memory"], memory_id=cmd["memory_id"],
                                              user_id=cmd.get("user_id"), topics=cmd.get("topics")))
    if stored is None:
        raise RuntimeError(f"upsert_user_memory stored nothing for {cmd['memory_id']}")
    return {}


def side_rows(db: PostgresDb, cmd: dict) -> dict:
    """What agno keeps beside a session: an offloaded tool result with its payload, transcripts, a compaction."""
    side_rows_of(db, cmd["session_id"], cmd.get("user_id"), ("tool_results", "transcripts", "compactions"))
    return {}


OPS: dict[str, Callable[[PostgresDb, dict], dict]] = {
    "upsert_session": upsert_session, "upsert_run": upsert_run, "upsert_runs": upsert_runs,
    "delete_session": delete_session, "upsert_memory": upsert_memory, "side_rows": side_rows}


def serve(db: PostgresDb, commands: TextIO, answers: TextIO) -> None:
    """Perform each command line, answering one line each, until stdin closes."""
    for line in commands:
        if not line.strip():
            continue
        try:
            cmd: dict[str, Any] = json.loads(line)
            answer = {"ok": True, **OPS[cmd["op"]](db, cmd)}
        except Exception as exc:  # every failure is reported to the caller, who fails the test
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def main() -> None:
    """Open agno's PostgresDb on the given tables and serve commands."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True, help="SQLAlchemy URL, e.g. postgresql+psycopg://...")
    ap.add_argument("--schema", default="ai")
    args = ap.parse_args()
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # agno's own output must not be taken for an answer
    os.dup2(sys.stderr.fileno(), 1)
    serve(PostgresDb(db_url=args.dsn, db_schema=args.schema), sys.stdin, answers)


if __name__ == "__main__":
    main()
