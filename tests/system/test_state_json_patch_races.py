"""JSON Patch test-and-set (extension `json-patch`) under real gunicorn workers: clients that read a counter and
write `test` old + `replace` new lose no update, however their requests interleave."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.support.servers import serving

JSON_PATCH = {"Content-Type": "application/json-patch+json"}
OLD = 1767225600


def test_test_and_set_increments_lose_no_update(pg_dsn: str, rows) -> None:
    rows.session("counter", "agent", component_id="a", created_at=OLD,
                 session_data={"session_name": "keep", "session_state": {"step": 0, "other": "kept"}})
    clients, attempts = 16, 15
    with serving({"AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv"}, workers=2, threads=4) as server:
        def attempts_of_one_client(_: int) -> list[int]:
            statuses = []
            for _ in range(attempts):
                status, _, body = server.request("GET", "/sessions/counter", timeout=60)
                assert status == 200, body
                step = json.loads(body)["session_state"]["step"]
                patch = [{"op": "test", "path": "/step", "value": step},
                         {"op": "replace", "path": "/step", "value": step + 1}]
                status, _, body = server.request("PATCH", "/sessions/counter/state", patch, JSON_PATCH, timeout=60)
                if status == 409:
                    assert body == b'{"detail":"JSON Patch test failed at /step"}'
                statuses.append(status)
            return statuses

        with ThreadPoolExecutor(max_workers=clients) as pool:
            statuses = Counter(s for one in pool.map(attempts_of_one_client, range(clients)) for s in one)
    assert set(statuses) <= {200, 409} and sum(statuses.values()) == clients * attempts, statuses
    assert statuses[200] >= 1  # the first PATCH the database serves tests the value every reader saw before it
    stored = rows.session_row("counter")["session_data"]
    assert stored == {"session_name": "keep", "session_state": {"step": statuses[200], "other": "kept"}}, statuses
