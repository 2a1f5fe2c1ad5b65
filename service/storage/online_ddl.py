"""DDL on a live database: one connection of its own with a time limit for the whole run, lock requests that give
up after a short lock timeout and are retried with backoff, and index builds CONCURRENTLY outside a transaction.

Writers queue behind a lock request that waits; the lock timeout is therefore the longest any writer waits behind
migrate. Every failure becomes one `MigrationFailed` line saying what failed and what to do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg2
import psycopg2.errors
import psycopg2.extras

from service.storage.errors import StorageError

LOCK_ATTEMPTS = 5  # lock requests per step before migrate gives up
FIRST_BACKOFF = 0.5  # seconds before the second attempt; doubled after each failed one
_LOCK_FAILURES = (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)
T = TypeVar("T")


class MigrationFailed(StorageError):
    """A migration step could not be done; the message is one line: what failed, and what to do."""


class DdlConnection:
    """A dedicated autocommit session (never the service's pool: index builds cannot run inside a transaction, and
    their time limit is the migration's, not a request's)."""

    def __init__(self, dsn: str, db_id: str, timeout: float, lock_timeout: float,
                 deadline: float | None = None) -> None:
        self.db_id = db_id
        self.timeout = timeout  # the run's limit, named in errors; `deadline` is when it passes (monotonic)
        self.lock_timeout = lock_timeout
        self.deadline = time.monotonic() + timeout if deadline is None else deadline
        self._left_ms("connecting")
        try:
            self.conn = psycopg2.connect(dsn, application_name="agno-session-migrate",
                                         connect_timeout=max(1, int(min(self.deadline - time.monotonic(), 10))))
        except psycopg2.Error as exc:
            raise MigrationFailed(db_id, f"cannot connect: {_first_line(exc)}") from exc
        self.conn.autocommit = True

    def close(self) -> None:
        """Close the session (anything it began has ended)."""
        self.conn.close()

    def _left_ms(self, what: str) -> int:
        """Milliseconds the run has left for its next statement; failing once none are left (0 means no limit)."""
        ms = int((self.deadline - time.monotonic()) * 1000)
        if ms <= 0:
            raise MigrationFailed(self.db_id, f"{what}: the migration's time limit ({self.timeout:g} s) passed; "
                                              "run it again, or give it more with --timeout / AGNO_MIGRATE_TIMEOUT")
        return ms

    def _begin(self, cur: Any, what: str, lock_ms: int) -> None:
        """A transaction with the run's remaining time and the given lock timeout, both SET LOCAL: nothing stays on
        the session (a pooler may hand its server connection to someone else)."""
        cur.execute(f"BEGIN; SET LOCAL statement_timeout = {self._left_ms(what)}; SET LOCAL lock_timeout = {lock_ms}")

    def rows(self, what: str, table: str, query: Any, params: Any = None) -> list[dict]:
        """Every row of one read, retried like a lock request (a read waits only behind an exclusive lock)."""
        def read(cur: Any) -> list[dict]:
            cur.execute(query, params)
            return [dict(row) for row in cur.fetchall()]
        return self._attempts(what, table, read, "COMMIT")

    def locked(self, what: str, table: str, work: Callable[[Any], T]) -> T:
        """`work` in one transaction whose lock requests give up after the lock timeout; the whole transaction is
        retried with backoff, LOCK_ATTEMPTS times at most."""
        return self._attempts(what, table, work, "COMMIT")

    def probe(self, what: str, table: str, work: Callable[[Any], T]) -> T:
        """`work` in a transaction that is always rolled back: what a change would look like, changing nothing."""
        return self._attempts(what, table, work, "ROLLBACK")

    def concurrently(self, what: str, statement: Any) -> float:
        """One CREATE/DROP INDEX CONCURRENTLY, outside any transaction; returns its seconds. It never blocks
        writers, so it may wait for older transactions as long as the run has time (lock_timeout 0: no limit);
        watch it in pg_stat_progress_create_index. Its limits are set on the session (it cannot run in a
        transaction block) and reset after it."""
        started = time.monotonic()
        try:
            with self.conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {self._left_ms(what)}; SET lock_timeout = 0")
                try:
                    cur.execute(statement)
                finally:
                    if not self.conn.closed:
                        cur.execute("RESET statement_timeout; RESET lock_timeout")
        except psycopg2.errors.QueryCanceled as exc:
            raise MigrationFailed(self.db_id, f"{what}: not finished within the migration's time limit "
                                              f"({self.timeout:g} s; an index build waits for older transactions "
                                              "to end, then reads the whole table); the invalid index it left is "
                                              "rebuilt by the next run: run again with a larger --timeout") from exc
        except psycopg2.Error as exc:
            raise self._failed(what, exc) from exc
        return time.monotonic() - started

    def _attempts(self, what: str, table: str, work: Callable[[Any], T], end: str) -> T:
        lock_ms = max(1, int(self.lock_timeout * 1000))
        backoff = FIRST_BACKOFF
        for attempt in range(1, LOCK_ATTEMPTS + 1):
            try:
                with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    self._begin(cur, what, lock_ms)
                    try:
                        done = work(cur)
                    except BaseException:
                        if not self.conn.closed:
                            cur.execute("ROLLBACK")
                        raise
                    cur.execute(end)
                    return done
            except _LOCK_FAILURES as exc:
                if attempt == LOCK_ATTEMPTS:
                    raise MigrationFailed(self.db_id, f"{what}: {self._holders(table)} {table}: tried {attempt} "
                                                      f"times, waiting at most {self.lock_timeout:g} s each; run "
                                                      "again when it has ended, or raise --lock-timeout / "
                                                      "AGNO_MIGRATE_LOCK_TIMEOUT") from exc
                time.sleep(max(0.0, min(backoff, self.deadline - time.monotonic())))
                backoff *= 2
            except psycopg2.errors.QueryCanceled as exc:
                raise MigrationFailed(self.db_id, f"{what}: the migration's time limit ({self.timeout:g} s) "
                                                  "passed; run it again with a larger --timeout") from exc
            except psycopg2.Error as exc:
                raise self._failed(what, exc) from exc
        raise AssertionError("unreachable")

    def _holders(self, table: str) -> str:
        """Who holds `table` (the longest-open transaction among them), for the error an operator acts on."""
        query = ("SELECT a.pid, a.application_name, round(extract(epoch FROM now() - a.xact_start)) AS seconds "
                 "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                 "WHERE l.relation = to_regclass(%s) AND l.granted AND l.pid <> pg_backend_pid() "
                 "ORDER BY a.xact_start LIMIT 1")
        try:
            with self.conn.cursor() as cur:
                cur.execute("BEGIN; SET LOCAL statement_timeout = 2000; SET LOCAL lock_timeout = 1000")
                cur.execute(query, (table,))
                found = cur.fetchone()
                cur.execute("COMMIT")
        except psycopg2.Error:
            found = None
        if not found:
            return "other transactions kept locking"
        pid, app, seconds = found
        return f"a long transaction (pid {pid}{f' {app!r}' if app else ''}, open {seconds} s) holds"

    def _failed(self, what: str, exc: psycopg2.Error) -> MigrationFailed:
        if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) and self.conn.closed:
            return MigrationFailed(self.db_id, f"{what}: the connection was lost ({_first_line(exc)}); run again")
        hint = " (the migration's role needs to own agno's tables, or be allowed to create in the schema)" if \
            isinstance(exc, psycopg2.errors.InsufficientPrivilege) else ""
        return MigrationFailed(self.db_id, f"{what}: {_first_line(exc)}{hint}")


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    text = (diag.message_primary if diag is not None and diag.message_primary else str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
