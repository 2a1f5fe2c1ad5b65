"""Connection pools per db_id: a bounded pool per database, transactions with a statement timeout, one-statement reads.

Nothing here outlives a transaction on the server (no session SET, session advisory lock, prepared statement,
LISTEN or temporary table), so a transaction-mode pooler (PgBouncer) may run each transaction on any server
connection; tests/system/test_pgbouncer.py proves it.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

from service.core.config import DatabaseConfig
from service.core.json_codec import loads
from service.storage import deadline
from service.storage.cursor import TimedCursor, statement_ms
from service.storage.errors import StorageTimeout, translate
from service.storage.queries import Queries

PRIMARY, REPLICA = "primary", "replica"  # which of a database's pools: the metrics' `pool` label
# The transaction a request holds open on one database (joined_transaction): its other transactions and reads join it.
_joined: ContextVar[tuple[Database, psycopg2.extensions.cursor] | None] = ContextVar("joined", default=None)


class PoolObserver(Protocol):
    """Told of pool waits, slots in use, statement times (per database and pool) and reads a replica could not
    take (the metrics), without storage knowing who listens."""

    def pool_waiting_changed(self, db_id: str, pool: str, delta: int) -> None: ...

    def pool_in_use_changed(self, db_id: str, pool: str, delta: int) -> None: ...

    def query_finished(self, db_id: str, pool: str, seconds: float) -> None: ...

    def replica_fallback(self, db_id: str) -> None: ...


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


@contextmanager
def _savepoint(cur: psycopg2.extensions.cursor) -> Iterator[psycopg2.extensions.cursor]:
    """`cur`'s transaction with a savepoint: released on success, rolled back to on any error (the transaction stays
    usable, as if this part had never run)."""
    cur.execute("SAVEPOINT joined")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK TO SAVEPOINT joined")
        raise
    cur.execute("RELEASE SAVEPOINT joined")


def _end(conn: psycopg2.extensions.connection, command: str) -> None:
    """COMMIT or ROLLBACK, on a cursor of its own: the one handed out is the caller's."""
    with conn.cursor() as cur:
        cur.execute(command)


class Database(Queries):
    """One configured database: a bounded pool that waits for a free connection instead of failing; `replica` is
    its read replica's pool when it has one (set by registry.open_database; the primary still takes every write)."""

    pool = PRIMARY

    def __init__(self, config: DatabaseConfig, pool_max: int, timeout: float,
                 observer: PoolObserver | None = None) -> None:
        super().__init__(config)
        self.config = config
        self.timeout = timeout
        self.observer = observer
        self.primary = self  # where writes go; a Replica points at its primary
        self.replica: Database | None = None
        self._idle: list[tuple[psycopg2.extensions.connection, int]] = []  # with the generation it was opened in
        self._generation = 0  # bumped when a reused connection is found dead: older ones are suspect too
        self._pid = os.getpid()
        self._pool_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_max)

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

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor inside one transaction: committed on success, rolled back on any error; driver errors leave
        as storage errors. Inside a joined_transaction of this database it is a savepoint of that one."""
        held = self._held()
        try:
            if held is not None:
                with _savepoint(held) as cur:
                    yield cur
                return
            with self._transaction() as cur:
                yield cur
        except psycopg2.Error as exc:
            raise translate(exc, self.config.db_id) from exc

    @contextmanager
    def joined_transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """A transaction that every transaction and read of this database in the same context (a request's thread)
        joins until it ends, each as a savepoint: what is written with it commits, or not, all together (an
        Idempotency-Key's answer and its write), on one connection of the pool."""
        with self.transaction() as cur:
            token = _joined.set((self, cur))
            try:
                yield cur
            finally:
                _joined.reset(token)

    def _held(self) -> psycopg2.extensions.cursor | None:
        """The cursor of this database's joined transaction in this context, if one is open."""
        held = _joined.get()
        return held[1] if held is not None and held[0] is self else None

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

    def fetch_one_in_transaction(self, name: str, params: dict[str, Any], **fragments: sql.Composable
                                 ) -> dict | None:
        """Run one named query inside a transaction of its own (BEGIN, the query, COMMIT) and return its first row:
        for a write, where read_one would send it in autocommit."""
        with self.transaction() as cur:
            cur.execute(self.query(name, **fragments), params)
            return cur.fetchone()

    def fetch_all_in_transaction(self, name: str, params: dict[str, Any], **fragments: sql.Composable
                                 ) -> list[dict]:
        """Run one named query inside a transaction of its own and return every row (see fetch_one_in_transaction)."""
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
