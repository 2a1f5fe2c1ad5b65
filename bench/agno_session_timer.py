"""agno 3.1.10's own session writes, timed on command for bench/write_route_cost.py (which switches the change log's
triggers between batches): `upsert_session` of an existing agent session whose metrics and state moved on (what
agno's runtime writes after every run; in 3.1.10 it writes the session row only), and `after_run`, the runtime's
whole write after a run: `upsert_run` of a new completed run (bench/agno_run_writer.py's RunOutput) then that
`upsert_session`, each in its own transaction as agno commits them.

Run with the agno venv (it imports agno, not the project):
    python bench/agno_session_timer.py --url postgresql+psycopg://... --schema ai --sessions 200
Reads one JSON command per line on stdin, {"call": "upsert_session" | "after_run", "count": n}, and answers one
JSON line on stdout, {"us": [microseconds of each of the n calls]}. The sessions are created before the first answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from agno.db.postgres import PostgresDb
from agno.session.agent import AgentSession
from agno_run_writer import T0, run_output  # same directory: the run shape the run-write benchmark uses

AGENT_DATA = {"name": "Basic Agent", "agent_id": "basic-agent",
              "model": {"id": "gpt-4o", "name": "OpenAIChat", "provider": "OpenAI"}}


class Sessions:
    """agno's PostgresDb, the sessions it keeps writing and the runs it has appended to them."""

    def __init__(self, url: str, schema: str, count: int) -> None:
        self.db = PostgresDb(db_url=url, db_schema=schema)
        self.rng = random.Random(24)
        self.sessions = [self._new(f"agno-timer-{n}") for n in range(count)]
        self.runs = 0
        for session in self.sessions:
            self.db.upsert_session(session)

    @staticmethod
    def _new(session_id: str) -> AgentSession:
        """An agent session as the runtime keeps it: a name, a state, metrics and the agent's data."""
        metrics = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        return AgentSession(session_id=session_id, agent_id="basic-agent", user_id="u1", created_at=T0,
                            updated_at=T0, agent_data=AGENT_DATA, metadata={"channel": "web"},
                            session_data={"session_name": f"Support {session_id}", "session_metrics": metrics,
                                          "session_state": {"cart": [], "step": 0}})

    def _moved_on(self) -> AgentSession:
        """A session after one more run: its metrics and state changed, as the runtime leaves them."""
        session = self.rng.choice(self.sessions)
        data = session.session_data
        for key, add in (("input_tokens", 1200), ("output_tokens", 600), ("total_tokens", 1800)):
            data["session_metrics"][key] += add
        data["session_state"]["step"] += 1
        return session

    def upsert_session(self) -> float:
        """One upsert_session, timed (seconds)."""
        session = self._moved_on()
        started = time.perf_counter()
        self.db.upsert_session(session)
        return time.perf_counter() - started

    def after_run(self) -> float:
        """One run's writes, timed (seconds): upsert_run of a new run, then upsert_session."""
        session = self._moved_on()
        self.runs += 1
        run = run_output(f"agno-timer-run-{self.runs}", session.session_id, self.rng, T0 + self.runs)
        started = time.perf_counter()
        self.db.upsert_run(run, session.session_id, "u1", self.runs)
        self.db.upsert_session(session)
        return time.perf_counter() - started


def main() -> None:
    """Create the sessions, then answer timing commands until stdin ends."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="SQLAlchemy URL, postgresql+psycopg://...")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--sessions", type=int, default=200)
    args = ap.parse_args()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # agno's own output must not be taken for an answer
    sessions = Sessions(args.url, args.schema, args.sessions)
    calls = {"upsert_session": sessions.upsert_session, "after_run": sessions.after_run}
    for line in sys.stdin:
        command = json.loads(line)
        call = calls[command["call"]]
        out.write(json.dumps({"us": [call() * 1e6 for _ in range(command["count"])]}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
