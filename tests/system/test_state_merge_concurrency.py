"""PATCH /sessions/{id}/state under real gunicorn workers: concurrent merges into one session lose nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.support.servers import serving

MERGE = "application/merge-patch+json"
OLD = 1767225600


def test_concurrent_merges_lose_nothing(make_app, pg_dsn: str, rows) -> None:
    rows.session("busy", "agent", component_id="a", created_at=OLD,
                 session_data={"session_name": "keep", "session_state": {"base": 1, "shared": {"seed": 0}}})
    count = 200
    with serving({"AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv"}, workers=2, threads=4) as server:
        def one(i: int) -> int:
            patch: dict = {f"k{i}": i}
            if i % 3 == 0:
                patch["shared"] = {f"s{i}": i}
            status, _, _ = server.request("PATCH", "/sessions/busy/state", patch,
                                          headers={"Content-Type": MERGE}, timeout=60)
            return status

        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(one, range(count)))
        assert statuses == [200] * count
        status, _, body = server.request("GET", "/sessions/busy")
    assert status == 200
    state = json.loads(body)["session_state"]
    expected = {"base": 1, **{f"k{i}": i for i in range(count)},
                "shared": {"seed": 0, **{f"s{i}": i for i in range(0, count, 3)}}}
    assert state == expected
    assert rows.session_row("busy")["session_data"]["session_name"] == "keep"
