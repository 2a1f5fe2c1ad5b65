"""Extension `preconditions` under real gunicorn workers: 32 clients doing read-modify-write cycles with If-Match on
one session's counter lose no update; every write either takes effect (2xx) or is refused (412)."""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.support.servers import serving

CLIENTS = 32
CYCLES = 10_000
MERGE = "application/merge-patch+json"


class Client:
    """One keep-alive connection (what a UI holds); a read is retried on a dropped connection, a write never (it
    may have taken effect, which would break the count)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
             ) -> tuple[int, http.client.HTTPMessage, bytes]:
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.headers, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if method != "GET" or attempt:
                    raise
        raise AssertionError("unreachable")


def test_read_modify_write_cycles_with_if_match_lose_no_update(pg_dsn: str, rows) -> None:
    rows.session("counter", "agent", component_id="a", session_data={"session_state": {"n": 0}})
    tickets = itertools.count()
    lock = threading.Lock()
    with serving({"AGNO_PG_DSN": pg_dsn, "AGNO_DB_ID": "srv"}, workers=2, threads=8) as server:

        def client(index: int) -> Counter:
            statuses: Counter = Counter()
            http_client = Client(server.port)
            while True:
                with lock:
                    if next(tickets) >= CYCLES:
                        return statuses
                status, headers, body = http_client.send("GET", "/sessions/counter")
                assert status == 200, body
                n = json.loads(body)["session_state"]["n"]
                precondition = {"If-Match": headers["ETag"]}
                if index % 2:  # half the clients merge into the state, half PATCH it whole
                    status, headers, body = http_client.send(
                        "PATCH", "/sessions/counter/state", json.dumps({"n": n + 1}).encode(),
                        {"Content-Type": MERGE, **precondition})
                else:
                    status, headers, body = http_client.send(
                        "PATCH", "/sessions/counter", json.dumps({"session_state": {"n": n + 1}}).encode(),
                        {"Content-Type": "application/json", **precondition})
                assert status in (200, 412), (status, body)
                assert headers["ETag"] != precondition["If-Match"]
                statuses[status] += 1

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            totals = sum(pool.map(client, range(CLIENTS)), Counter())
        status, _, body = server.request("GET", "/sessions/counter")
    assert status == 200
    assert totals[200] + totals[412] == CYCLES
    assert totals[200] > 0
    assert json.loads(body)["session_state"]["n"] == totals[200]  # no lost update
