"""`agno-session migrate --search` on a live database: AgentOS-style writers keep upserting sessions and runs, moving
runs' messages and deleting sessions across the whole key range while the real CLI installs the triggers and
backfills in batches; no writer fails (no deadlock, no lock error), migrate finishes, and searches see a full
re-extraction afterwards. Then the real server's drainer threads index what writers keep queueing, beside them:
again no writer fails, and once the writers stop the drained table itself equals a full re-extraction."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from tests.support.search_rows import INDEXED, PENDING, REEXTRACTED, SEARCHED
from tests.support.servers import serving

CLI = str(Path(sys.executable).parent / "agno-session")
SESSIONS, RUNS = "ai.agno_sessions", "ai.agno_runs"
SEEDED = 2500  # sessions: five backfill batches of 500
UPSERT_SESSION = (f"INSERT INTO {SESSIONS} (session_id, session_type, agent_id, user_id, session_data, created_at, "
                  "updated_at) VALUES (%s, 'agent', 'agent-1', %s, %s, 1, 1) ON CONFLICT (session_id) DO UPDATE SET "
                  "session_data = EXCLUDED.session_data, user_id = EXCLUDED.user_id, updated_at = 2")
UPSERT_RUN = (f"INSERT INTO {RUNS} (run_id, session_id, run_type, run_data, created_at) "
              "VALUES (%s, %s, 'agent', %s, 1) ON CONFLICT (run_id) DO UPDATE SET run_data = EXCLUDED.run_data")


def cli_env(pg_dsn: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
    return {**base, "AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "main"}


def run_data(run_id: str, words: str) -> str:
    return json.dumps({"run_id": run_id, "agent_id": "agent-1", "messages": [
        {"role": "user", "content": f"question {words}"}, {"role": "assistant", "content": f"answer {words}"}]})


class Writers:
    """Threads writing as agno does, each in its own transactions (one per statement), over the seeded sessions;
    any database error a writer meets is recorded (the test fails on it)."""

    def __init__(self, dsn: str, threads: int = 3) -> None:
        self.dsn, self.stop, self.errors = dsn, threading.Event(), []
        self.written = 0
        self.threads = [threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(threads)]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _write(self, n: int) -> None:
        rng = random.Random(n)
        conn = psycopg2.connect(self.dsn, application_name="agentos-writer")
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                i = 0
                while not self.stop.is_set():
                    sid = f"s{rng.randrange(n, SEEDED, len(self.threads)):05d}"  # its own sessions only
                    cur.execute(UPSERT_SESSION, (sid, f"u{i % 3}", json.dumps({"session_name": f"name {n} {i}"})))
                    cur.execute(UPSERT_RUN, (f"{sid}-w{n}-{i % 4}", sid, run_data(f"{sid}-w{n}", f"w{n} {i}")))
                    if i % 11 == 10:
                        cur.execute(f"DELETE FROM {SESSIONS} WHERE session_id = %s", (sid,))
                    if i % 5 == 4:  # one transaction holding a run then its session, as a runtime may
                        cur.execute("BEGIN")
                        cur.execute(f"UPDATE {RUNS} SET run_data = %s WHERE session_id = %s",
                                    (run_data("x", f"moved {i}"), sid))
                        cur.execute(f"UPDATE {SESSIONS} SET updated_at = 3, session_data = %s WHERE session_id = %s",
                                    (json.dumps({"session_name": f"renamed {i}"}), sid))
                        cur.execute("COMMIT")
                    self.written += 1
                    i += 1
        except psycopg2.Error as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()


@pytest.fixture
def live(make_app, pg_dsn: str) -> str:
    make_app()
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {SESSIONS} (session_id, session_type, agent_id, created_at) "
                    f"SELECT 's' || lpad(g::text, 5, '0'), 'agent', 'agent-1', 1 "
                    f"FROM generate_series(0, {SEEDED - 1}) g")
        cur.execute(f"INSERT INTO {RUNS} (run_id, session_id, run_type, run_data, created_at) "
                    f"SELECT 's' || lpad(g::text, 5, '0') || '-seed', 's' || lpad(g::text, 5, '0'), 'agent', "
                    "jsonb_build_object('run_id', 'x', 'agent_id', 'agent-1', 'messages', jsonb_build_array("
                    "jsonb_build_object('role', 'user', 'content', 'seeded words ' || g))), 1 "
                    f"FROM generate_series(0, {SEEDED - 1}) g")
    conn.close()
    return pg_dsn


def test_migrate_search_under_concurrent_writers(live):
    with Writers(live) as writers:
        done = subprocess.run([CLI, "migrate", "--search", "--lock-timeout", "2"], env=cli_env(live),
                              capture_output=True, text=True, timeout=600)
        written_during = writers.written
    assert done.returncode == 0, done.stderr
    assert "backfilled" in done.stdout and "marked complete" in done.stdout
    assert not writers.errors, writers.errors
    assert written_during > 0
    conn = psycopg2.connect(live)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(SEARCHED)
            searched = cur.fetchall()
            cur.execute(REEXTRACTED)
            assert searched == cur.fetchall()
            assert len(searched) > SEEDED
            with serving(cli_env(live)) as server, Writers(live) as writers:
                cur.execute(PENDING)
                queued = cur.fetchone()[0]
                while writers.written < 300 and not writers.errors:  # the drainers run beside them meanwhile
                    writers.stop.wait(0.2)
            assert not writers.errors, writers.errors
            assert queued > 0
            drained = False
            with serving(cli_env(live)) as server:
                for _ in range(600):  # the drainer takes its batches every second; a loaded machine is slow
                    cur.execute(PENDING)
                    if cur.fetchone()[0] == 0:
                        drained = True
                        break
                    time.sleep(0.5)
                assert drained, server.tail()
            cur.execute(INDEXED)
            indexed = cur.fetchall()
            cur.execute(REEXTRACTED)
            assert indexed == cur.fetchall()
    finally:
        conn.close()
