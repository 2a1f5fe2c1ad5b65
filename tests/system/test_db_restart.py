"""PostgreSQL restarts and terminated backends under the real gunicorn server: 503 while down, no failure after.

These tests always start their own server on 127.0.0.1 (whatever AGNO_TEST_PG_DSN says): they stop and start it.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from service.core.config import DatabaseConfig
from service.storage.errors import DatabaseUnavailable
from service.storage.pool import Database
from tests.support.restartable_postgres import Postgres
from tests.support.servers import AgnoSession, serving

UNAVAILABLE = b"{\"detail\":\"Database 'srv' is unavailable\"}"
EXPECTED = {"create": 201, "patch": 200, "get": 200, "list": 200}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with tempfile.TemporaryDirectory(prefix="agno-session-restart-") as tmp:
        server = Postgres(Path(tmp))
        server.start()
        try:
            yield server
        finally:
            if server.running():
                server.stop("immediate")


@pytest.fixture
def pg(postgres: Postgres) -> Postgres:
    """The controlled server, running (a failed test may have left it stopped), schema `ai` dropped."""
    if not postgres.running():
        postgres.start()
    postgres.execute("DROP SCHEMA IF EXISTS ai CASCADE")
    return postgres


@dataclass
class Outcome:
    op: str
    key: str
    value: int | None
    status: int | None  # None: no answer (timeout, connection error)
    body: bytes
    started: float
    ended: float


class Load:
    """Client threads creating (unique ids), PATCHing their own counter session and reading, until finished.

    Each client `i` cycles create `made-<i>-<n>` → PATCH `ctr-<i>` with session_state {"n": v} (v counts attempts)
    → GET its last created session (or the list). After a 503 a client backs off briefly, as a client would.
    """

    def __init__(self, server: AgnoSession, clients: int) -> None:
        self.server = server
        self.outcomes: list[Outcome] = []
        self._cond = threading.Condition()
        self._running = False
        self._finished = False
        self._in_flight = 0
        for i in range(clients):
            status, _, body = server.request("POST", "/sessions?type=agent",
                                             {"session_id": f"ctr-{i}", "session_state": {"n": 0}})
            assert status == 201, body
        self._threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(clients)]
        for thread in self._threads:
            thread.start()

    def _admit(self) -> bool:
        with self._cond:
            while not (self._running or self._finished):
                self._cond.wait()
            if self._finished:
                return False
            self._in_flight += 1
            return True

    def _done(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def _client(self, i: int) -> None:
        created = n = v = step = 0
        last = None
        while self._admit():
            try:
                kind = ("create", "patch", "read")[step % 3]
                step += 1
                if kind == "create":
                    key, value = f"made-{i}-{n}", None
                    n += 1
                    call = ("POST", "/sessions?type=agent", {"session_id": key, "session_name": f"client {i}"})
                elif kind == "patch":
                    v += 1
                    key, value = f"ctr-{i}", v
                    call = ("PATCH", f"/sessions/{key}", {"session_state": {"n": v}})
                elif last is not None:
                    kind, key, value, call = "get", last, None, ("GET", f"/sessions/{last}", None)
                else:
                    kind, key, value, call = "list", "", None, ("GET", "/sessions?limit=5", None)
                started = time.monotonic()
                try:
                    status, _, body = self.server.request(*call, timeout=10)
                except OSError as exc:
                    status, body = None, repr(exc).encode()
                self.outcomes.append(Outcome(kind, key, value, status, body, started, time.monotonic()))
                if kind == "create" and status == 201:
                    last, created = key, created + 1
            finally:
                self._done()
            if status == 503:
                time.sleep(0.05)

    def resume(self) -> None:
        with self._cond:
            self._running = True
            self._cond.notify_all()

    def pause(self) -> None:
        """Stop admitting requests and wait for those in flight: every pooled connection is idle after this."""
        with self._cond:
            self._running = False
            while self._in_flight:
                self._cond.wait()

    def finish(self) -> None:
        with self._cond:
            self._finished = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(30)
        assert not any(t.is_alive() for t in self._threads)


def check_outcomes(load: Load, windows: list[tuple[float, float]]) -> dict[str, int]:
    """Every answer outside the outage windows is the success; inside them it is that or the 503, nothing else."""
    counts = {"requests": len(load.outcomes), "503": 0, "after_restart": 0}
    wrong = []
    for o in load.outcomes:
        overlapping = any(o.started < up and o.ended > down for down, up in windows)
        if o.status == 503 and overlapping and o.body == UNAVAILABLE:
            counts["503"] += 1
        elif o.status != EXPECTED[o.op]:
            wrong.append(o)
        if windows and o.started >= windows[-1][1]:
            counts["after_restart"] += 1
    assert not wrong, f"{len(wrong)} unexpected answers, first ones: {wrong[:5]}"
    return counts


def check_writes(pg: Postgres, load: Load) -> int:
    """Nothing lost or written twice: every 201 exists once, a failed create at most once; each counter holds its
    last acknowledged value or a later attempt that failed (a 503 at COMMIT may have landed), never an older one."""
    creates: dict[str, list[int | None]] = {}
    patches: dict[str, list[tuple[int, int | None]]] = {}
    for o in load.outcomes:
        if o.op == "create":
            creates.setdefault(o.key, []).append(o.status)
        elif o.op == "patch":
            assert o.value is not None
            patches.setdefault(o.key, []).append((o.value, o.status))
    stored = dict(pg.execute("SELECT session_id, count(*) FROM ai.agno_sessions WHERE session_id LIKE 'made-%%' "
                             "GROUP BY session_id"))
    assert set(stored) <= set(creates)
    landed_after_503 = 0
    for key, statuses in creates.items():
        assert len(statuses) == 1  # unique ids, never retried by the client
        if statuses[0] == 201:
            assert stored.get(key) == 1, key
        else:
            assert stored.get(key, 0) <= 1, key
            landed_after_503 += stored.get(key, 0)
    values = dict(pg.execute("SELECT session_id, (session_data->'session_state'->>'n')::int FROM ai.agno_sessions "
                             "WHERE session_id LIKE 'ctr-%%'"))
    for key, attempts in patches.items():
        acked = max((v for v, status in attempts if status == 200), default=0)
        possible = {acked} | {v for v, status in attempts if status != 200 and v > acked}
        assert values[key] in possible, (key, values[key], acked, attempts[-3:])
    return landed_after_503


def session_backends(pg: Postgres) -> int:
    return pg.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'agno-session'")[0][0]


def env(pg: Postgres) -> dict[str, str]:
    return {"AGNO_PG_DSN": pg.dsn, "AGNO_DB_ID": "srv", "AGNO_REQUEST_TIMEOUT": "5"}


def test_restarts_cost_no_request_once_the_database_is_back(pg: Postgres) -> None:
    """A quiet restart (the pools full of dead connections when it returns), then one under full load."""
    with serving(env(pg), workers=2, threads=4) as server:
        load = Load(server, clients=8)
        windows: list[tuple[float, float]] = []
        try:
            load.resume()
            time.sleep(1.5)
            load.pause()
            assert session_backends(pg) >= 4  # idle pooled connections, about to go stale

            down = time.monotonic()
            pg.stop("immediate")
            probes = [("GET", "/sessions?limit=1", None), ("GET", "/sessions/ctr-0", None),
                      ("POST", "/sessions?type=agent", {"session_id": "while-down"})]
            for method, path, body in probes:
                started = time.monotonic()
                status, _, answer = server.request(method, path, body, timeout=10)
                assert (status, answer) == (503, UNAVAILABLE)
                assert time.monotonic() - started < 6
            status, _, answer = server.request("GET", "/readyz", timeout=10)
            assert status == 503 and json.loads(answer)["detail"] == "Database 'srv' is not answering"
            pg.start()
            windows.append((down, time.monotonic()))
            load.resume()
            time.sleep(2)

            down = time.monotonic()  # now under load: requests in flight die, new ones meet a stopped server
            pg.stop("fast")
            time.sleep(0.5)
            pg.start()
            windows.append((down, time.monotonic()))
            time.sleep(2)
        finally:
            load.finish()
        assert server.request("GET", "/readyz")[0] == 200
        assert server.request("GET", "/sessions/while-down")[0] == 404
        counts = check_outcomes(load, windows)
        landed = check_writes(pg, load)
        assert counts["503"] > 0 and counts["after_restart"] >= 50, counts
        print(f"\nrestart: {counts}, creates answered 503 that had committed: {landed}")
        assert server.stop()[0] == 0


def test_terminated_backends_cost_no_request(pg: Postgres) -> None:
    """pg_terminate_backend on every pooled connection while idle: the next requests all succeed."""
    with serving(env(pg), workers=2, threads=4) as server:
        load = Load(server, clients=8)
        try:
            load.resume()
            time.sleep(1)
            load.pause()
            killed = pg.execute("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                                "WHERE application_name = 'agno-session'")[0][0]
            assert killed >= 4
            assert session_backends(pg) == 0
            before = len(load.outcomes)
            load.resume()
            time.sleep(1.5)
        finally:
            load.finish()
        counts = check_outcomes(load, [])
        check_writes(pg, load)
        after = len(load.outcomes) - before
        assert after >= 50, counts
        print(f"\nterminate: killed {killed} idle backends, then {after} requests: {counts}")
        assert server.stop()[0] == 0


def test_pool_replays_only_a_begin_on_a_dead_idle_connection(pg: Postgres) -> None:
    """In process: the first dead idle connection retires the older ones; a transaction that lost its connection
    after BEGIN raises (503) and is never run again."""
    db = Database(DatabaseConfig(db_id="t", dsn=pg.dsn), pool_max=4, timeout=5)
    try:
        with ExitStack() as stack:  # three transactions at once: three pooled connections afterwards
            for _ in range(3):
                stack.enter_context(db.transaction()).execute(db.query("ping"))
        old = [conn for conn, _ in db._idle]
        assert len(old) == 3
        pids = [conn.info.backend_pid for conn in old]
        terminated = pg.execute("SELECT bool_and(pg_terminate_backend(pid, 5000)) FROM unnest(%s) AS pid", (pids,))
        assert terminated == [(True,)]
        assert db.fetch_one_in_transaction("ping", {}) == {"ok": 1}
        assert all(conn.closed for conn in old)  # one failed BEGIN, the other two closed unused
        assert len(db._idle) == 1

        pg.execute("CREATE TABLE ai_replay_probe (n int)")
        runs = 0
        with pytest.raises(DatabaseUnavailable):
            with db.transaction() as cur:
                runs += 1
                cur.execute("INSERT INTO ai_replay_probe VALUES (1) RETURNING pg_backend_pid() AS pid")
                pg.execute("SELECT pg_terminate_backend(%s, 5000)", (cur.fetchone()["pid"],))
        assert runs == 1
        assert pg.execute("SELECT count(*) FROM ai_replay_probe") == [(0,)]
        assert db.fetch_one_in_transaction("ping", {}) == {"ok": 1}
    finally:
        db.close()
        pg.execute("DROP TABLE IF EXISTS ai_replay_probe")
