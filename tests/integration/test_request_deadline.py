"""AGNO_REQUEST_TIMEOUT bounds the whole request: pool waits and every statement share one deadline, on a real
PostgreSQL (issue 16: answers came after 10-15 s with a 5 s timeout; through gunicorn:
tests/system/test_request_deadline_server.py)."""

from __future__ import annotations

import time

import psycopg2
import pytest

from service.core.config import DatabaseConfig
from service.storage import deadline
from service.storage.errors import StorageTimeout
from service.storage.pool import Database


@pytest.fixture
def db(pg_dsn: str):
    database = Database(DatabaseConfig(db_id="t", dsn=pg_dsn), pool_max=1, timeout=5)
    yield database
    deadline.clear()
    database.close()


def test_statements_of_one_transaction_share_the_deadline(db: Database) -> None:
    """Six statements of 0.9 s each, every one within the 5 s per-statement limit: without a deadline they all
    run (5.4 s); with a 2 s one the statement running at the deadline is cancelled and no further one is sent."""
    deadline.start(2)
    started = time.monotonic()
    sent = 0
    with pytest.raises(StorageTimeout), db.transaction() as cur:
        for _ in range(6):
            cur.execute("SELECT pg_sleep(0.9)")
            sent += 1
    took = time.monotonic() - started
    assert sent == 2 and took < 2 * 2, (sent, took)  # the third was cut at the deadline, not a multiple of it
    deadline.clear()
    with db.transaction() as cur:  # the connection is usable again, with the per-statement limit
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone() == {"statement_timeout": "5s"}


def test_nothing_is_sent_once_the_deadline_has_passed(db: Database, pg_dsn: str) -> None:
    deadline.start(0.01)
    time.sleep(0.05)
    with pytest.raises(StorageTimeout, match="request deadline passed|no free connection"):
        db.read_one("ping", {})
    with pytest.raises(StorageTimeout):
        with db.transaction() as cur:
            cur.execute("SELECT 1")
    deadline.clear()
    assert db.read_one("ping", {}) is not None


def test_a_read_gets_what_the_request_has_left(make_app, db: Database, pg_dsn: str) -> None:
    """A one-statement read (autocommit) blocked by a lock runs behind the remaining time (1 s), not the 5 s
    per-statement limit."""
    from psycopg2 import sql

    make_app()  # the tables
    locker = psycopg2.connect(pg_dsn)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE ai.agno_sessions IN ACCESS EXCLUSIVE MODE")
        deadline.start(1.5)
        time.sleep(0.5)
        started = time.monotonic()
        with pytest.raises(StorageTimeout, match="statement timed out"):
            db.read_one("get_session", {"session_id": "x", "user_id": None}, lock=sql.SQL(""))
        assert time.monotonic() - started < 2.5
    finally:
        locker.rollback()
        locker.close()


def test_the_deadline_ends_with_the_request(client) -> None:
    assert client.get("/sessions").status_code == 200
    assert deadline.remaining(None) is None  # a library call on this thread afterwards has no deadline
