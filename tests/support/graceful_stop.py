"""A request in flight when SIGTERM arrives, for the tests that check a graceful stop answers it (bare and fronted)."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from tests.support.rows import Rows
from tests.support.servers import AgnoSession


def patch_during_sigterm(server: AgnoSession, pg_dsn: str) -> tuple[int, bytes]:
    """A PATCH waiting on a row lock when SIGTERM arrives; the lock is released after it: its status and body."""
    rows = Rows(pg_dsn)
    rows.session("busy", "agent", component_id="a")
    locker = psycopg2.connect(pg_dsn)
    try:
        with locker.cursor() as cur:
            cur.execute("SELECT 1 FROM ai.agno_sessions WHERE session_id = 'busy' FOR UPDATE")
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(server.request, "PATCH", "/sessions/busy", {"session_name": "late"})
            time.sleep(0.5)
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            locker.rollback()
            status, _, body = pending.result(20)
        return status, body
    finally:
        locker.close()
        rows.close()
