"""Connection pools per db_id, transactions with a statement timeout, and the SQL files they run."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql

from service.config import DatabaseConfig
from service.json_codec import loads
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


@cache
def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql`, shipped inside the package (the top-level `sql/` in a checkout); read once."""
    return resources.files("service.storage").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def translate(exc: psycopg2.Error, db_id: str) -> StorageError:
    """The storage error a driver error means; the caller raises it `from` the driver's."""
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return StorageTimeout(db_id, "statement timed out")
    if isinstance(exc, _UNSTORABLE):
        return ValueNotStorable(db_id, exc.diag.message_primary or type(exc).__name__)
    if isinstance(exc, psycopg2.errors.UndefinedTable):
        return TablesMissing(db_id, exc.diag.message_primary or "undefined table")
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return DatabaseUnavailable(db_id, str(exc).strip())
    return StorageError(db_id, f"{type(exc).__name__}: {str(exc).strip()}")


class Database:
    """One configured database: a bounded pool that waits for a free connection instead of failing."""

    def __init__(self, config: DatabaseConfig, pool_max: int, timeout: float) -> None:
        self.config = config
        self.timeout = timeout
        self._idle: list[psycopg2.extensions.connection] = []
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
        """A new session with this service's name, time limits and JSON decoding."""
        ms = int(self.timeout * 1000)
        conn = psycopg2.connect(
            self.config.dsn,
            application_name="agno-session",
            options=f"-c statement_timeout={ms} -c idle_in_transaction_session_timeout={ms}",
            connect_timeout=max(1, int(min(self.timeout, 10))),
        )
        psycopg2.extras.register_default_jsonb(conn, loads=loads)
        psycopg2.extras.register_default_json(conn, loads=loads)
        return conn

    def _checkout(self) -> psycopg2.extensions.connection:
        """Reuse the most recently returned connection, or open one (the semaphore bounds the total)."""
        if self._pid != os.getpid():  # forked: never share the parent's sockets
            self._idle, self._pid = [], os.getpid()
        with self._pool_lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _checkin(self, conn: psycopg2.extensions.connection, broken: bool) -> None:
        """Keep a healthy idle connection for the next request; drop a broken one."""
        if broken or conn.closed:
            conn.close()
            return
        with self._pool_lock:
            self._idle.append(conn)

    def query(self, name: str, **fragments: sql.Composable) -> sql.Composed:
        """`sql/<name>.sql` with this database's identifiers and the given fragments composed in (cached)."""
        key = (name, *sorted((k, repr(v)) for k, v in fragments.items()))
        composed = self._queries.get(key)
        if composed is None:
            composed = sql.SQL(sql_text(name)).format(**self.identifiers, **fragments)
            self._queries[key] = composed
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
    def _transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """The pooled connection's transaction, untranslated."""
        if not self._slots.acquire(timeout=self.timeout):
            raise StorageTimeout(self.config.db_id, "no free connection")
        try:
            conn = self._checkout()
            broken = False
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    yield cur
                conn.commit()
            except BaseException:
                broken = conn.closed != 0
                if not broken:
                    try:
                        conn.rollback()
                    except psycopg2.Error:
                        broken = True
                raise
            finally:
                self._checkin(conn, broken)
        finally:
            self._slots.release()

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
        """Readiness round trip on its own short-lived connection: a busy pool must not read as a dead database."""
        try:
            conn = psycopg2.connect(self.config.dsn, application_name="agno-session-probe",
                                    connect_timeout=int(timeout), options=f"-c statement_timeout={int(timeout * 1000)}")
            try:
                with conn.cursor() as cur:
                    cur.execute(self.query("ping"))
                    cur.fetchone()
            finally:
                conn.close()
        except psycopg2.Error as exc:
            raise translate(exc, self.config.db_id) from exc

    def close(self) -> None:
        """Close every idle connection (shutdown, tests)."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class Registry:
    """Every configured database by db_id, in configuration order."""

    def __init__(self, configs: tuple[DatabaseConfig, ...], pool_max: int, timeout: float) -> None:
        self.by_id = {c.db_id: Database(c, pool_max, timeout) for c in configs}

    def __iter__(self) -> Iterator[Database]:
        return iter(self.by_id.values())

    def get(self, db_id: str) -> Database | None:
        """The database configured under `db_id`, if any."""
        return self.by_id.get(db_id)

    def close(self) -> None:
        """Close all pools."""
        for db in self:
            db.close()
