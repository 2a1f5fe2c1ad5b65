"""Connection pools per db_id, transactions with a statement timeout, and the SQL files they run.

Nothing here outlives a transaction on the server (no session SET, session advisory lock, prepared statement,
LISTEN or temporary table), so a transaction-mode pooler (PgBouncer) may run each transaction on any server
connection; tests/test_pgbouncer.py proves it.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any, Protocol

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

from service.core.config import DatabaseConfig
from service.core.json_codec import loads
from service.core.logs import LOGGER
from service.storage import deadline
from service.storage.errors import (
    DatabaseUnavailable,
    StorageError,
    StorageTimeout,
    TablesMissing,
    ValueNotStorable,
)

_UNSTORABLE = (
    psycopg2.errors.ProgramLimitExceeded,
    psycopg2.errors.NumericValueOutOfRange,
    psycopg2.errors.CharacterNotInRepertoire,
    psycopg2.errors.UntranslatableCharacter,
)
PRIMARY, REPLICA = "primary", "replica"  # which of a database's pools: the metrics' `pool` label
REPLICA_RETRY_SECONDS = 5.0  # a replica that could not be reached is tried again by one read after this long
log = logging.getLogger(LOGGER)


@cache
def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql`, shipped inside the package (the top-level `sql/` in a checkout); read once."""
    return resources.files("service.storage").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


class DeadlinePassed(psycopg2.errors.QueryCanceled):
    """The request's deadline passed before this statement was sent: it is not sent (a 504, like a server-side
    cancel)."""


def translate(exc: psycopg2.Error, db_id: str) -> StorageError:
    """The storage error a driver error means; the caller raises it `from` the driver's."""
    if isinstance(exc, DeadlinePassed):
        return StorageTimeout(db_id, "request deadline passed")
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return StorageTimeout(db_id, "statement timed out")
    if isinstance(exc, _UNSTORABLE):
        return ValueNotStorable(db_id, exc.diag.message_primary or type(exc).__name__)
    if isinstance(exc, psycopg2.errors.UndefinedTable):
        return TablesMissing(db_id, exc.diag.message_primary or "undefined table")
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return DatabaseUnavailable(db_id, str(exc).strip())
    return StorageError(db_id, f"{type(exc).__name__}: {str(exc).strip()}")


class PoolObserver(Protocol):
    """Told of pool waits, slots in use, statement times (per database and pool) and reads a replica could not
    take (the metrics), without storage knowing who listens."""

    def pool_waiting_changed(self, db_id: str, pool: str, delta: int) -> None: ...

    def pool_in_use_changed(self, db_id: str, pool: str, delta: int) -> None: ...

    def query_finished(self, db_id: str, pool: str, seconds: float) -> None: ...

    def replica_fallback(self, db_id: str) -> None: ...


class _RenderedOnce(sql.Composed):
    """A composed query that becomes text once: psycopg2 calls as_string on every execute, quoting each identifier
    again. Every connection of a Database has the same server and encoding, so the text never differs."""

    _text: str | None = None

    def as_string(self, context: Any) -> str:
        if self._text is None:
            self._text = super().as_string(context)
        return self._text


def statement_ms(default: float) -> int:
    """Milliseconds the next statement may run: what the request has left, else `default` seconds; DeadlinePassed
    once nothing is left (0 would mean no limit at all to PostgreSQL)."""
    ms = int(deadline.remaining(default) * 1000)
    if ms <= 0:
        raise DeadlinePassed("request deadline passed")
    return ms


def _limited(query: Any, ms: int, context: Any) -> str | bytes:
    """`query` behind `SET LOCAL statement_timeout`, in the same message: one implicit transaction outside a
    transaction block, the current one inside; psycopg2 answers with the last statement's result."""
    prefix = f"SET LOCAL statement_timeout = {ms};\n"
    if isinstance(query, bytes):  # execute_values composes bytes
        return prefix.encode("ascii") + query
    return prefix + (query if isinstance(query, str) else query.as_string(context))


class TimedCursor(psycopg2.extensions.cursor):
    """A cursor whose rows are plain dicts, reporting each statement's round trip once `observed` is set.

    Each statement is sent behind the statement timeout it may still use: with `statement_timeout` (seconds, a
    read outside a transaction) always, at most that long; in a transaction (its BEGIN set the limit) only while a
    request deadline is set, so each statement gets what the request has left, not the whole budget again.

    Rows are built with dict(zip()) in C: psycopg2's RealDictCursor fills each row key by key in Python, which
    cost more than the rest of rendering a 20-session list page."""

    observed: Any = None  # (seconds) -> None
    statement_timeout: float | None = None

    def _names(self) -> list[str]:
        return [column[0] for column in self.description]

    def fetchone(self) -> dict | None:
        row = super().fetchone()
        return None if row is None else dict(zip(self._names(), row, strict=True))

    def fetchmany(self, size: int | None = None) -> list[dict]:
        names = self._names()
        return [dict(zip(names, row, strict=True)) for row in super().fetchmany(size or self.arraysize)]

    def fetchall(self) -> list[dict]:
        names = self._names()
        return [dict(zip(names, row, strict=True)) for row in super().fetchall()]

    def __iter__(self) -> Iterator[dict]:
        names = self._names()
        return (dict(zip(names, row, strict=True)) for row in super().__iter__())

    def execute(self, query: Any, vars: Any = None) -> None:  # noqa: A002 - psycopg2's parameter name
        left = deadline.remaining(self.statement_timeout)
        if left is not None:
            query = _limited(query, statement_ms(left), self)
        if self.observed is None:
            return super().execute(query, vars)
        started = time.perf_counter()
        try:
            return super().execute(query, vars)
        finally:
            self.observed(time.perf_counter() - started)


def _begun(conn: psycopg2.extensions.connection, begin: str) -> psycopg2.extensions.cursor:
    """A dict cursor on `conn` (in autocommit mode) that has begun a transaction with the `begin` statements."""
    cur = conn.cursor(cursor_factory=TimedCursor)
    psycopg2.extensions.cursor.execute(cur, begin)  # sent as is: it sets the limits itself
    return cur


def _wait(conn: psycopg2.extensions.connection, deadline: float) -> None:
    """Drive an asynchronous connection's pending work (connecting, a query) to its end, or fail at `deadline`: a
    pooler may accept a connection and then hold its query indefinitely (PgBouncer's PAUSE)."""
    while (state := conn.poll()) != psycopg2.extensions.POLL_OK:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise psycopg2.OperationalError("no answer in time")
        poller = select.poll()  # not select(): a busy process may hold file descriptors beyond FD_SETSIZE
        poller.register(conn.fileno(), select.POLLIN if state == psycopg2.extensions.POLL_READ else select.POLLOUT)
        poller.poll(remaining * 1000)


def _end(conn: psycopg2.extensions.connection, command: str) -> None:
    """COMMIT or ROLLBACK, on a cursor of its own: the one handed out is the caller's."""
    with conn.cursor() as cur:
        cur.execute(command)


class Database:
    """One configured database: a bounded pool that waits for a free connection instead of failing; with a
    `replica_dsn`, `replica` is its read replica's pool (the primary's own pool still takes every write)."""

    pool = PRIMARY

    def __init__(self, config: DatabaseConfig, pool_max: int, timeout: float,
                 observer: PoolObserver | None = None) -> None:
        self.config = config
        self.timeout = timeout
        self.observer = observer
        self.primary = self  # where writes go; a Replica points at its primary
        self.replica = Replica(self, pool_max) if config.replica_dsn else None
        self._idle: list[tuple[psycopg2.extensions.connection, int]] = []  # with the generation it was opened in
        self._generation = 0  # bumped when a reused connection is found dead: older ones are suspect too
        self._pid = os.getpid()
        self._pool_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_max)
        self._queries: dict[tuple, sql.Composed] = {}
        self.identifiers = {
            "schema": sql.Identifier(config.schema),
            "sessions": sql.Identifier(config.schema, config.session_table),
            "runs": sql.Identifier(config.schema, config.runs_table),
        }

    def _connect(self) -> psycopg2.extensions.connection:
        """A new session with this service's name and JSON decoding (client-side only); transactions are begun
        explicitly, with their time limits (_begin)."""
        conn = psycopg2.connect(
            self.config.dsn,
            application_name="agno-session",
            connect_timeout=max(1, int(min(deadline.remaining(self.timeout), 10))),
        )
        psycopg2.extras.register_default_jsonb(conn, loads=loads)
        psycopg2.extras.register_default_json(conn, loads=loads)
        conn.autocommit = True
        return conn

    def _checkout(self) -> tuple[psycopg2.extensions.connection, int] | None:
        """The most recently returned idle connection that is not known closed, or None."""
        if self._pid != os.getpid():  # forked: never share the parent's sockets
            self._idle, self._pid = [], os.getpid()
        with self._pool_lock:
            while self._idle:
                conn, generation = self._idle.pop()
                if not conn.closed:
                    return conn, generation
        return None

    def _checkin(self, conn: psycopg2.extensions.connection, generation: int, broken: bool) -> None:
        """Keep a healthy connection, outside any transaction, for the next request; drop any other."""
        idle = psycopg2.extensions.TRANSACTION_STATUS_IDLE
        if broken or conn.closed or conn.info.transaction_status != idle:
            conn.close()
            return
        with self._pool_lock:
            self._idle.append((conn, generation))

    def _retire(self, generation: int) -> None:
        """A connection of `generation` died while idle (a restart, a failover, a terminated backend, which
        usually take every session at once): drop the idle connections opened no later than it."""
        with self._pool_lock:
            self._generation = max(self._generation, generation + 1)
            stale = [conn for conn, g in self._idle if g <= generation]
            self._idle = [(conn, g) for conn, g in self._idle if g > generation]
        for conn in stale:
            conn.close()

    def _begin_sql(self) -> str:
        """BEGIN with the transaction's time limits: what the request has left (else the timeout).

        Per transaction, never per session: a transaction-mode pooler runs each transaction on any server
        connection, and PgBouncer refuses the `options` startup parameter that would set them per session."""
        ms = statement_ms(self.timeout)
        return f"BEGIN; SET LOCAL statement_timeout = {ms}; SET LOCAL idle_in_transaction_session_timeout = {ms}"

    def _begin(self) -> tuple[psycopg2.extensions.connection, psycopg2.extensions.cursor, int]:
        """A dict cursor inside a new transaction, on an idle connection when there is one.

        Its BEGIN is the round trip psycopg2 would send before the first statement anyway, so it doubles as the
        liveness check at no cost. A reused connection that fails it and is closed by the failure had died while
        idle: only BEGIN was sent, nothing can have been written, so the transaction begins once more on a new
        connection. A new connection that fails, or any later failure, is the caller's error (503), never retried.
        """
        begin = self._begin_sql()
        reused = self._checkout()
        if reused is not None:
            conn, generation = reused
            try:
                return conn, _begun(conn, begin), generation
            except BaseException as exc:
                dead = isinstance(exc, psycopg2.Error) and conn.closed != 0
                conn.close()
                if not dead:
                    raise
                self._retire(generation)
        generation = self._generation
        conn = self._connect()
        try:
            return conn, _begun(conn, begin), generation
        except BaseException:
            conn.close()
            raise

    def query(self, name: str, **fragments: sql.Composable) -> sql.Composed:
        """`sql/<name>.sql` with this database's identifiers and the given fragments composed in (cached)."""
        key = (name, *sorted((k, repr(v)) for k, v in fragments.items()))
        composed = self._queries.get(key)
        if composed is None:
            body = sql.SQL(sql_text(name)).format(**self.identifiers, **fragments)
            composed = self._queries[key] = _RenderedOnce(body.seq)
        return composed

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor inside one transaction: committed on success, rolled back on any error; driver errors leave
        as storage errors."""
        try:
            with self._transaction() as cur:
                yield cur
        except psycopg2.Error as exc:
            raise translate(exc, self.config.db_id) from exc

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """One of the pool's connections for the caller, waiting for it within the time budget (observed)."""
        observer, db_id, pool = self.observer, self.config.db_id, self.pool
        if observer is not None:
            observer.pool_waiting_changed(db_id, pool, 1)
        try:
            left = deadline.remaining(self.timeout)
            acquired = left > 0 and self._slots.acquire(timeout=left)
        finally:
            if observer is not None:
                observer.pool_waiting_changed(db_id, pool, -1)
        if not acquired:
            raise StorageTimeout(db_id, "no free connection")
        if observer is not None:
            observer.pool_in_use_changed(db_id, pool, 1)
        try:
            yield
        finally:
            self._slots.release()
            if observer is not None:
                observer.pool_in_use_changed(db_id, pool, -1)

    def _timed(self, cur: TimedCursor) -> TimedCursor:
        """The cursor, reporting each statement's duration to the observer when there is one."""
        observer, db_id, pool = self.observer, self.config.db_id, self.pool
        if observer is not None:
            cur.observed = lambda seconds: observer.query_finished(db_id, pool, seconds)
        return cur

    @contextmanager
    def _transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """The pooled connection's transaction, untranslated."""
        with self._slot():
            conn, cur, generation = self._begin()
            self._timed(cur)
            broken = False
            try:
                with cur:
                    yield cur
                _end(conn, "COMMIT")  # a failure here is never retried: the write may have landed
            except BaseException:
                broken = conn.closed != 0
                if not broken:
                    try:
                        _end(conn, "ROLLBACK")
                    except psycopg2.Error:
                        broken = True
                raise
            finally:
                self._checkin(conn, generation, broken)

    def read_all(self, name: str, params: dict[str, Any], **fragments: sql.Composable) -> list[dict]:
        """Every row of one read-only query, sent alone: one statement sees one snapshot, so autocommit saves the
        BEGIN and COMMIT round trips a transaction would cost.

        A reused connection that fails it and is closed by the failure had died while idle: a read changes
        nothing, so it runs once more on a new connection (as `_begin` does for BEGIN). Never use it for a write.
        """
        try:
            with self._slot():
                query = self.query(name, **fragments)
                reused = self._checkout()
                if reused is not None:
                    try:
                        return self._read(*reused, query, params)
                    except psycopg2.Error:
                        if not reused[0].closed:
                            raise
                        self._retire(reused[1])
                return self._read(self._connect(), self._generation, query, params)
        except psycopg2.Error as exc:
            raise translate(exc, self.config.db_id) from exc

    def read_one(self, name: str, params: dict[str, Any], **fragments: sql.Composable) -> dict | None:
        """The first row of one read-only query (see read_all)."""
        rows = self.read_all(name, params, **fragments)
        return rows[0] if rows else None

    def _read(self, conn: psycopg2.extensions.connection, generation: int, query: sql.Composed,
              params: dict[str, Any]) -> list[dict]:
        """Run `query` on `conn` outside any explicit transaction, behind the statement timeout (TimedCursor); the
        connection goes back to the pool unless closed."""
        try:
            with self._timed(conn.cursor(cursor_factory=TimedCursor)) as cur:
                cur.statement_timeout = self.timeout
                cur.execute(query, params)
                return cur.fetchall()
        finally:
            self._checkin(conn, generation, conn.closed != 0)

    def fetch_one(self, name: str, params: dict[str, Any], **fragments: sql.Composable) -> dict | None:
        """Run one named query in its own transaction and return its first row."""
        with self.transaction() as cur:
            cur.execute(self.query(name, **fragments), params)
            return cur.fetchone()

    def fetch_all(self, name: str, params: dict[str, Any], **fragments: sql.Composable) -> list[dict]:
        """Run one named query in its own transaction and return every row."""
        with self.transaction() as cur:
            cur.execute(self.query(name, **fragments), params)
            return cur.fetchall()

    def ping(self, timeout: float = 3.0) -> None:
        """Readiness round trip on its own short-lived connection (a busy pool must not read as a dead database),
        answered within `timeout` however long a pooler holds it, and in autocommit: PgBouncer closes the server
        connection of a client that leaves inside a transaction."""
        deadline = time.monotonic() + timeout
        try:
            conn = psycopg2.connect(self.config.dsn, application_name="agno-session-probe", async_=True)
            try:
                _wait(conn, deadline)
                with conn.cursor() as cur:
                    cur.execute(self.query("ping"))
                    _wait(conn, deadline)
                    cur.fetchone()
            finally:
                conn.close()
        except psycopg2.Error as exc:
            raise translate(exc, self.config.db_id) from exc

    def close(self) -> None:
        """Close every idle connection, the replica's too (shutdown, tests)."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()
        if self.replica is not None:
            self.replica.close()


class Replica(Database):
    """A database's read replica (a hot standby): its own pool, same size, for single-statement reads only.

    A read the replica cannot take (unreachable, shutting down: `DatabaseUnavailable`) is answered from the primary,
    and so is every read for the next REPLICA_RETRY_SECONDS; then one read tries the replica again while the others
    keep going to the primary. Going down and coming back are logged once each, per process; each read the primary
    serves instead is counted (`replica_fallback`). Any other error is the read's own and is not retried.
    """

    pool = REPLICA

    def __init__(self, primary: Database, pool_max: int) -> None:
        super().__init__(replace(primary.config, dsn=primary.config.replica_dsn, replica_dsn=None), pool_max,
                         primary.timeout, primary.observer)
        self.primary = primary
        self._state_lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0

    def read_all(self, name: str, params: dict[str, Any], **fragments: sql.Composable) -> list[dict]:
        """Every row of one read-only query, from the replica while it answers, else from the primary."""
        if self._worth_trying():
            try:
                rows = super().read_all(name, params, **fragments)
            except DatabaseUnavailable as exc:
                self._went_down(exc)
            else:
                self._answered()
                return rows
        if self.observer is not None:
            self.observer.replica_fallback(self.config.db_id)
        return self.primary.read_all(name, params, **fragments)

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """Never: writes, and the reads made inside a write's transaction, belong to the primary."""
        raise RuntimeError(f"database {self.config.db_id!r}: a transaction was asked of the read replica")
        yield  # a generator, for contextmanager

    def _worth_trying(self) -> bool:
        """Up, or down long enough that this read may probe it (pushing the next probe REPLICA_RETRY_SECONDS on)."""
        with self._state_lock:
            if not self._down:
                return True
            now = time.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + REPLICA_RETRY_SECONDS
            return True

    def _went_down(self, exc: DatabaseUnavailable) -> None:
        """Send reads to the primary for a while; say so once when the replica was up."""
        with self._state_lock:
            was_up, self._down = not self._down, True
            self._retry_at = time.monotonic() + REPLICA_RETRY_SECONDS
        if was_up:
            log.warning("read replica unavailable: reads go to the primary",
                        extra={"fields": {"db_id": self.config.db_id, "error": exc.message,
                                          "retry_seconds": REPLICA_RETRY_SECONDS}})

    def _answered(self) -> None:
        """The replica took a read: if it was down, it is back (said once)."""
        if not self._down:
            return
        with self._state_lock:
            was_down, self._down = self._down, False
        if was_down:
            log.info("read replica answering again", extra={"fields": {"db_id": self.config.db_id}})


class Registry:
    """Every configured database by db_id, in configuration order."""

    def __init__(self, configs: tuple[DatabaseConfig, ...], pool_max: int, timeout: float,
                 observer: PoolObserver | None = None) -> None:
        self.by_id = {c.db_id: Database(c, pool_max, timeout, observer) for c in configs}

    def __iter__(self) -> Iterator[Database]:
        return iter(self.by_id.values())

    def get(self, db_id: str) -> Database | None:
        """The database configured under `db_id`, if any."""
        return self.by_id.get(db_id)

    def close(self) -> None:
        """Close all pools."""
        for db in self:
            db.close()
