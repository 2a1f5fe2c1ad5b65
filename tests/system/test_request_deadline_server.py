"""AGNO_REQUEST_TIMEOUT under a real gunicorn server: pool waits and statements share one deadline (issue 16: answers
came after 10-15 s with a 5 s timeout)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from tests.support.servers import serving


def test_pool_waits_and_statements_share_one_timeout(make_app, pg_dsn: str) -> None:
    """One pooled connection, four requests at once, the table locked by another session: each request waits for
    the connection, then for the lock. Each used to get the whole timeout for each wait (the fourth answered after
    ~4x it); now every one is 504 by about the timeout."""
    make_app()  # schema ai emptied, left for serve to migrate
    timeout = 3
    env = {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv", "AGNO_REQUEST_TIMEOUT": str(timeout), "AGNO_POOL_SIZE": "1"}
    with serving(env, workers=1, threads=4) as server:
        assert server.request("GET", "/sessions/warm")[0] == 404
        locker = psycopg2.connect(pg_dsn)
        try:
            with locker.cursor() as cur:
                cur.execute("LOCK TABLE ai.agno_sessions IN ACCESS EXCLUSIVE MODE")

            def call(i: int) -> tuple[int, bytes, float]:
                started = time.monotonic()
                status, _, body = server.request("GET", f"/sessions/s{i}", timeout=60)
                return status, body, time.monotonic() - started

            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(call, range(4)))
        finally:
            locker.rollback()
            locker.close()
        assert server.request("GET", "/sessions/warm")[0] == 404  # answering normally once the lock is gone
    for status, body, took in answers:
        assert (status, body) == (504, b'{"detail":"Request timed out"}')
        assert took < 2 * timeout, answers
