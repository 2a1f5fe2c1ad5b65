"""`agno-session migrate --indexes` on a live database (issue 17): AgentOS-style writers keep writing, a long write
transaction holds agno's sessions table, and no writer waits on migrate longer than its lock timeout; a second run
changes nothing, --dry-run changes nothing, an invalid index left by an interrupted build is rebuilt."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.extras
import pytest

CLI = str(Path(sys.executable).parent / "agno-session")
SESSIONS = "ai.agno_sessions"
LOCK_TIMEOUT = 1.0  # seconds: the longest a writer may wait behind one of migrate's lock requests
MARGIN = 4.0  # seconds on top of it for a statement on a loaded 2-core machine (the broken migrate: 30 s and more)
HOLD_AT_MOST = 45.0  # the long transaction ends by then whatever migrate does (a broken migrate must not hang)
# agno's PostgresDb.upsert_session: one INSERT … ON CONFLICT DO UPDATE of the whole row, RETURNING it.
UPSERT = (f"INSERT INTO {SESSIONS} (session_id, session_type, agent_id, user_id, session_data, agent_data, "
          "metadata, summary, created_at, updated_at) VALUES (%s, 'agent', 'agent-1', %s, %s, %s, %s, NULL, %s, %s) "
          "ON CONFLICT (session_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, user_id = EXCLUDED.user_id, "
          "agent_data = EXCLUDED.agent_data, session_data = EXCLUDED.session_data, summary = EXCLUDED.summary, "
          "metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at RETURNING *")


def cli_env(pg_dsn: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
    return {**base, "AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "main"}


def migrate(pg_dsn: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "migrate", "--indexes", "--lock-timeout", str(LOCK_TIMEOUT), *args],
                          env=cli_env(pg_dsn), capture_output=True, text=True, timeout=300)


class Writers:
    """Threads writing sessions as AgentOS does (upsert, change of type, delete), each on its own connection and
    its own ids, timing every statement: how long a writer waited is what migrate cost it."""

    def __init__(self, dsn: str, threads: int = 4) -> None:
        self.dsn = dsn
        self.stop = threading.Event()
        self.waits: list[float] = []
        self.errors: list[str] = []
        self.written = [0] * threads  # statements per thread
        self.threads = [threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(threads)]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        self.each_writes_once_more()  # all writing before migrate starts
        return self

    def each_writes_once_more(self) -> None:
        """Wait until every writer has finished one more statement: they were writing at this point."""
        seen = list(self.written)
        deadline = time.monotonic() + HOLD_AT_MOST
        while any(now <= then for now, then in zip(self.written, seen, strict=True)) and not self.errors:
            assert time.monotonic() < deadline, "a writer is stuck"
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.each_writes_once_more()  # and still writing after migrate ended
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=HOLD_AT_MOST + 30)

    def _timed(self, n: int, cur, statement: str, params: tuple) -> None:
        started = time.monotonic()
        cur.execute(statement, params)
        self.waits.append(time.monotonic() - started)
        self.written[n] += 1

    def _write(self, n: int) -> None:
        conn = psycopg2.connect(self.dsn, application_name="agentos-writer")
        conn.autocommit = True
        i = 0
        try:
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    sid, now = f"w{n}-{i % 20}", int(time.time())
                    data = psycopg2.extras.Json({"session_name": sid, "session_state": {"i": i}})
                    self._timed(n, cur, UPSERT, (sid, f"user-{n}", data, psycopg2.extras.Json({"name": "a"}),
                                              psycopg2.extras.Json({}), now, now))
                    if i % 5 == 4:
                        self._timed(n, cur, f"UPDATE {SESSIONS} SET session_type = 'team' WHERE session_id = %s",
                                    (sid,))
                    if i % 7 == 6:
                        self._timed(n, cur, f"DELETE FROM {SESSIONS} WHERE session_id = %s", (sid,))
                    i += 1
                    time.sleep(0.01)
        except psycopg2.Error as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()


@pytest.fixture
def live(make_app, pg_dsn: str) -> Iterator[str]:
    """agno's tables with some sessions (no indexes or counts of this service yet)."""
    make_app()
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {SESSIONS} (session_id, session_type, created_at) "
                    "SELECT 'seed-' || g, (ARRAY['agent', 'team', 'workflow'])[g % 3 + 1], g "
                    "FROM generate_series(1, 300) g")
    conn.close()
    yield pg_dsn


class LongTransaction:
    """A write transaction left open on the sessions table (a row lock, and the table's ROW EXCLUSIVE lock), ended
    by `end()` or at the latest after HOLD_AT_MOST seconds."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg2.connect(dsn, application_name="slow-writer")
        with self.conn.cursor() as cur:
            cur.execute(UPSERT, ("long-held", "slow", psycopg2.extras.Json({}), psycopg2.extras.Json({}),
                                 psycopg2.extras.Json({}), 1, 1))
        self.guard = threading.Timer(HOLD_AT_MOST, self.end)
        self.guard.start()
        self._lock = threading.Lock()

    def end(self) -> None:
        with self._lock:
            if not self.conn.closed:
                self.conn.commit()
                self.conn.close()
        self.guard.cancel()


def migrate_waits_for_a_lock(dsn: str) -> bool:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'agno-session-migrate' "
                        "AND wait_event_type = 'Lock'")
            return cur.fetchone()[0] > 0
    finally:
        conn.close()


def error_line(result: subprocess.CompletedProcess) -> str:
    """The failure's one line: everything else on stderr is JSON log lines (progress of the index builds)."""
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    return line


def assert_writers_never_waited_long(writers: Writers) -> None:
    assert writers.errors == []  # no deadlock, no failure of any kind
    assert max(writers.waits) < LOCK_TIMEOUT + MARGIN, sorted(writers.waits)[-5:]


def test_a_long_transaction_makes_migrate_fail_in_one_line_and_writers_never_wait_behind_it(live: str) -> None:
    long = LongTransaction(live)
    try:
        with Writers(live) as writers:
            time.sleep(0.5)
            result = migrate(live)
            long.end()
    finally:
        long.end()
    assert_writers_never_waited_long(writers)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Deadlock" not in result.stderr
    line = error_line(result)
    assert line.startswith("agno-session migrate: main: installing the session counts' triggers on ai.agno_sessions:")
    assert "a long transaction (pid " in line and "'slow-writer'" in line and "tried 5 times" in line
    assert "raise --lock-timeout" in line


def test_migrate_completes_under_writers_once_the_long_transaction_ends(live: str) -> None:
    long = LongTransaction(live)
    try:
        with Writers(live) as writers:
            done: list[subprocess.CompletedProcess] = []
            runner = threading.Thread(target=lambda: done.append(migrate(live)))
            runner.start()
            deadline = time.monotonic() + HOLD_AT_MOST
            while not migrate_waits_for_a_lock(live) and runner.is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            long.end()  # ends while migrate waits for its lock (or retries it)
            runner.join()
    finally:
        long.end()
    (result,) = done
    assert result.returncode == 0, result.stdout + result.stderr
    assert "main: triggers agno_sessions_svc_count_{insert,delete,retype,truncate} on ai.agno_sessions: created" \
        in result.stdout
    assert "main: index ai.agno_sessions_svc_user_id: created concurrently in" in result.stdout
    assert "main: index ai.agno_sessions_svc_metadata: created concurrently in" in result.stdout  # GIN too
    assert_writers_never_waited_long(writers)
    check = subprocess.run([CLI, "check"], env=cli_env(live), capture_output=True, text=True, timeout=60)
    assert "main: session counts ok" in check.stdout, check.stdout  # not a delta lost or counted twice


def catalog(dsn: str) -> dict:
    """Everything migrate could change: relations, index validity and definitions, functions' bodies, triggers'
    definitions and states, the counts' rows."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            def rows(query: str) -> list[tuple]:
                cur.execute(query)
                return sorted(map(tuple, cur.fetchall()))
            found = {
                "relations": rows("SELECT c.relname, c.relkind, c.oid FROM pg_class c JOIN pg_namespace n "
                                  "ON n.oid = c.relnamespace WHERE n.nspname = 'ai'"),
                "indexes": rows("SELECT indexrelid::regclass::text, indisvalid, pg_get_indexdef(indexrelid) "
                                "FROM pg_index WHERE indrelid = to_regclass('ai.agno_sessions')"),
                "functions": rows("SELECT p.oid, proname, prosrc FROM pg_proc p JOIN pg_namespace n "
                                  "ON n.oid = p.pronamespace WHERE n.nspname = 'ai'"),
                "triggers": rows("SELECT oid, tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger "
                                 "WHERE tgrelid = to_regclass('ai.agno_sessions')"),
                "extensions": rows("SELECT extname FROM pg_extension"),
            }
            cur.execute("SELECT to_regclass('ai.agno_sessions_svc_counts') IS NOT NULL")
            if cur.fetchone()[0]:
                found["counts"] = rows("SELECT session_type, delta FROM ai.agno_sessions_svc_counts")
            return found
    finally:
        conn.close()


def test_a_second_run_changes_nothing_and_takes_no_lock_writers_would_wait_for(live: str) -> None:
    assert migrate(live).returncode == 0
    before = catalog(live)
    long = LongTransaction(live)  # any lock migrate asked for on the table would now fail, 5 times
    try:
        again = migrate(live)
    finally:
        long.end()
    assert again.returncode == 0, again.stderr
    # pg_trgm: installed where this server has it, else skipped (with a warning) on every run
    assert all(": left as it was" in line or ": skipped" in line for line in again.stdout.splitlines()[:-1]), \
        again.stdout
    assert again.stdout.splitlines()[-1] in ("main: 0 changed, 25 left as they were",
                                             "main: 0 changed, 23 left as they were, 2 skipped")
    after = catalog(live)
    after["counts"] = [row for row in after["counts"] if row != ("agent", 1)]  # the long transaction's own session
    assert after == before


def invalid_index(dsn: str, name: str) -> None:
    """What an interrupted CREATE INDEX CONCURRENTLY leaves behind: an index of that name marked invalid."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP INDEX IF EXISTS ai.{name}")
        with pytest.raises(psycopg2.errors.UniqueViolation):  # duplicate session types: the build fails
            cur.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {SESSIONS} (session_type)")
    conn.close()


def test_dry_run_prints_the_plan_and_changes_nothing(live: str) -> None:
    before = catalog(live)
    dry = migrate(live, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "main: index ai.agno_sessions_svc_user_id: would create" in dry.stdout
    assert "main: triggers agno_sessions_svc_count_{insert,delete,retype,truncate} on ai.agno_sessions: would create" \
        in dry.stdout
    assert dry.stdout.splitlines()[-1].startswith("main: dry run, nothing changed: ")
    assert catalog(live) == before
    # Installed, then damaged: the plan names each repair, and still changes nothing.
    assert migrate(live).returncode == 0
    invalid_index(live, "agno_sessions_svc_agent_id")
    conn = psycopg2.connect(live)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"ALTER TABLE {SESSIONS} DISABLE TRIGGER agno_sessions_svc_count_delete")
    conn.close()
    before = catalog(live)
    dry = migrate(live, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "main: index ai.agno_sessions_svc_agent_id: would rebuild (it is invalid)" in dry.stdout
    assert "on ai.agno_sessions: would replace (it differs from this version's)" in dry.stdout
    assert "main: session counts ai.agno_sessions_svc_counts: would recount with the triggers" in dry.stdout
    assert catalog(live) == before


def test_an_invalid_index_is_rebuilt_and_a_changed_function_replaced(live: str) -> None:
    assert migrate(live).returncode == 0
    invalid_index(live, "agno_sessions_svc_agent_id")
    conn = psycopg2.connect(live)
    conn.autocommit = True
    with conn.cursor() as cur:  # an older version's body: counts nothing
        cur.execute("CREATE OR REPLACE FUNCTION ai.agno_sessions_svc_count_change() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
        cur.execute(f"INSERT INTO {SESSIONS} (session_id, session_type, created_at) VALUES ('uncounted', 'agent', 1)")
    result = migrate(live)
    assert result.returncode == 0, result.stderr
    assert "main: index ai.agno_sessions_svc_agent_id: rebuilt (it was invalid) concurrently in" in result.stdout
    assert ("main: function ai.agno_sessions_svc_count_change: replaced (it differed from this version's)"
            in result.stdout)
    assert "main: session counts ai.agno_sessions_svc_counts: recounted" in result.stdout
    with conn.cursor() as cur:
        cur.execute("SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indexrelid = 'ai.agno_sessions_svc_agent_id'::regclass")
        assert cur.fetchone() == (True, f"CREATE INDEX agno_sessions_svc_agent_id ON {SESSIONS} USING btree (agent_id)")
    conn.close()
    check = subprocess.run([CLI, "check"], env=cli_env(live), capture_output=True, text=True, timeout=60)
    assert "main: session counts ok" in check.stdout, check.stdout


def test_the_start_up_migration_logs_what_is_installed(live: str) -> None:
    """`serve` runs `migrate` without --indexes at start: its log says what exists, not what that run did."""
    plain = subprocess.run([CLI, "migrate"], env=cli_env(live), capture_output=True, text=True, timeout=60)
    assert '"service_indexes":[]' in plain.stderr and '"session_counts":"not installed' in plain.stderr
    assert migrate(live).returncode == 0
    plain = subprocess.run([CLI, "migrate"], env=cli_env(live), capture_output=True, text=True, timeout=60)
    assert '"service_indexes":["agno_sessions_svc_user_id",' in plain.stderr
    assert '"missing_indexes":[]' in plain.stderr or '"missing_indexes":["agno_sessions_svc_name_trgm"]' in plain.stderr
    assert '"session_counts":"enabled"' in plain.stderr


def test_an_index_build_waits_for_a_long_transaction_without_holding_writers_up_to_its_time_limit(live: str) -> None:
    assert migrate(live).returncode == 0
    conn = psycopg2.connect(live)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP INDEX ai.agno_sessions_svc_team_id")
    conn.close()
    long = LongTransaction(live)  # CREATE INDEX CONCURRENTLY waits for it to end; writers must not
    try:
        with Writers(live) as writers:
            result = migrate(live, "--timeout", "15")
    finally:
        long.end()
    assert_writers_never_waited_long(writers)
    assert result.returncode == 1, result.stdout + result.stderr
    line = error_line(result)
    assert line.startswith("agno-session migrate: main: building index ai.agno_sessions_svc_team_id: not finished "
                           "within the migration's time limit (15 s;")
    assert "rebuilt by the next run" in line
    again = migrate(live)
    assert again.returncode == 0, again.stderr
    assert "main: index ai.agno_sessions_svc_team_id: rebuilt (it was invalid) concurrently in" in again.stdout
