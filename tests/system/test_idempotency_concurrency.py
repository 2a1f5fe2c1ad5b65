"""Idempotency-Key under real concurrency (extension `idempotency-keys`): 1,000 identical creates with one key sent at
once to a gunicorn with several workers and threads make one session, and every client gets the same answer."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from service.cli import migrate
from service.core.config import load_settings
from tests.support.rows import execute
from tests.support.servers import serving

REQUESTS = 1000
CLIENTS = 64  # far more than the server's 2 x 8 threads: requests queue at the server, many at once on the key


def test_a_thousand_concurrent_identical_creates_with_one_key_make_one_session(db_env, pg_dsn) -> None:
    body = {"session_name": "exactly once", "session_state": {"n": 1}}
    headers = {"Idempotency-Key": "one-create"}
    migrate(load_settings(db_env), idempotency=True)
    with serving(db_env, workers=2, threads=8) as server:
        def send(_: int) -> tuple[int, str | None, bytes]:
            status, got, data = server.request("POST", "/sessions", body, headers, timeout=120)
            return status, got.get("idempotent-replayed"), data

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            answers = list(pool.map(send, range(REQUESTS)))

    assert Counter(status for status, _, _ in answers) == {201: REQUESTS}
    assert len({data for _, _, data in answers}) == 1  # one body, byte for byte
    assert Counter(replayed for _, replayed, _ in answers) == {"true": REQUESTS - 1, None: 1}
    assert execute(pg_dsn, "SELECT count(*) FROM ai.agno_sessions") == [(1,)]
    assert execute(pg_dsn, "SELECT count(*), min(status) FROM ai.agno_sessions_svc_idempotency") == [(1, 201)]
