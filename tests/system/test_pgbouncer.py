"""Behind a real PgBouncer in transaction mode: ready when it is, the same results as straight to PostgreSQL, no
session state left on the server connections that many clients share.

PgBouncer is Debian's package: installed here when missing (as root), never skipped.
"""

from __future__ import annotations

import getpass
import json
import os
import pwd
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import pytest

from service.core.config import DatabaseConfig
from service.lib.memory import StoreMemory
from service.lib.workflow import Step, Workflow
from service.storage.pool import Database
from tests.support.rows import Rows
from tests.support.servers import AgnoSession, free_port, serving
from tests.support.system import system_binary

POOL_SIZE = 3  # server connections PgBouncer may open: fewer than the service's client connections
ALIAS = "agno"  # the database name clients ask PgBouncer for
MERGE = {"Content-Type": "application/merge-patch+json"}
# Parameters PgBouncer itself keeps in step on every server connection (it SETs them when it links a client).
POOLER_TRACKED = ("application_name", "client_encoding", "DateStyle", "TimeZone", "standard_conforming_strings")


def pgbouncer_binary() -> str:
    """PgBouncer's executable, from the distribution (`make system-packages`)."""
    return system_binary("pgbouncer", "pgbouncer")


class PgBouncer:
    """A pgbouncer process on 127.0.0.1 in front of the test server: transaction pooling, POOL_SIZE server
    connections, trust auth for the test server's user; stoppable and restartable on the same port."""

    def __init__(self, binary: str, upstream_dsn: str, root: Path) -> None:
        target = psycopg2.extensions.parse_dsn(upstream_dsn)
        self.user = target.get("user") or getpass.getuser()
        self.port = free_port()
        self.binary, self.root = binary, root
        self.log = root / "pgbouncer.log"
        server = {"host": target.get("host", "127.0.0.1"), "port": target.get("port", "5432"),
                  "dbname": target.get("dbname", self.user), "user": self.user, "password": target.get("password")}
        entry = " ".join(f"{k}={v}" for k, v in server.items() if v)
        (root / "userlist.txt").write_text(f'"{self.user}" ""\n')
        (root / "pgbouncer.ini").write_text(
            f"[databases]\n{ALIAS} = {entry}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {self.port}\n"
            f"unix_socket_dir =\nauth_type = trust\nauth_file = {root / 'userlist.txt'}\nadmin_users = {self.user}\n"
            f"pool_mode = transaction\ndefault_pool_size = {POOL_SIZE}\nmax_client_conn = 200\n")
        # PgBouncer refuses to run as root: then it runs as the owner of the server's socket directory (it must
        # reach the socket), or nobody; either must read its configuration.
        self.run_as = None
        if os.geteuid() == 0:
            host = str(server["host"])
            owner = pwd.getpwuid(os.stat(host).st_uid).pw_name if host.startswith("/") else "root"
            self.run_as = owner if owner != "root" else "nobody"
            root.chmod(0o755)
            for path in root.iterdir():
                path.chmod(0o644)
        self.proc: subprocess.Popen | None = None
        self.dsn = f"postgresql://{quote(self.user)}@127.0.0.1:{self.port}/{ALIAS}"

    def start(self) -> None:
        """Start and return once the admin console answers."""
        command = [self.binary, *(["-u", self.run_as] if self.run_as else []), str(self.root / "pgbouncer.ini")]
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.admin("SHOW VERSION")
                return
            except psycopg2.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("pgbouncer did not start:\n" + self.log.read_text()[-3000:]) from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Shut down (SIGINT: after running transactions, immediate when idle), killed if it lingers."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def admin(self, command: str) -> list[dict]:
        """One admin-console command (SHOW …, PAUSE, RESUME) on the `pgbouncer` database; its rows as dicts."""
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, dbname="pgbouncer", user=self.user,
                                connect_timeout=2)
        try:
            conn.autocommit = True
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute(command)
                return [dict(row) for row in cur.fetchall()] if cur.description else []
        finally:
            conn.close()

    def row(self, command: str) -> dict:
        """The service database's row of SHOW POOLS or SHOW STATS (empty before its first client)."""
        return next((row for row in self.admin(command) if row["database"] == ALIAS), {})

    def server_pids(self) -> set[int]:
        """PostgreSQL backends PgBouncer holds for the service's database."""
        return {s["remote_pid"] for s in self.admin("SHOW SERVERS") if s["database"] == ALIAS}

    def transactions(self) -> int:
        """Transactions PgBouncer has run for the service's database so far."""
        return int(self.row("SHOW STATS").get("total_xact_count", 0))


@pytest.fixture(scope="module")
def bouncer(pg_dsn: str) -> Iterator[PgBouncer]:
    """One PgBouncer for the module, in front of the tests' PostgreSQL; stopped at the end whatever happens."""
    binary = pgbouncer_binary()
    with tempfile.TemporaryDirectory(prefix="agno-session-pgbouncer-") as tmp:
        pgb = PgBouncer(binary, pg_dsn, Path(tmp))
        pgb.start()
        try:
            yield pgb
        finally:
            pgb.stop()


def server_env(dsn: str, schema: str, **extra: str) -> dict[str, str]:
    """The service's environment for one way to the database; the same db_id both ways, so answers compare."""
    return {"AGNO_PG_DSN": dsn, "AGNO_DB_ID": "srv", "AGNO_DB_SCHEMA": schema, **extra}


def readiness(server: AgnoSession) -> tuple[int, float]:
    """/readyz's status and how long it took: a probe must answer within its timeout, ready or not."""
    started = time.monotonic()
    status = server.request("GET", "/readyz", timeout=15)[0]
    return status, time.monotonic() - started


def test_readiness_and_timeouts_follow_pgbouncer(make_app, pg_dsn: str, bouncer: PgBouncer) -> None:
    """Ready through PgBouncer; 503 (in bounded time) while it is paused or stopped, ready again after; the
    statement timeout still holds through it. (make_app: schemas emptied, left for `serve` to migrate.)"""
    with serving(server_env(bouncer.dsn, "ai", AGNO_REQUEST_TIMEOUT="2"), workers=1, threads=4) as server:
        assert server.request("GET", "/readyz")[2] == b'{"status":"ok","databases":{"srv":"ok"}}'
        assert server.request("POST", "/sessions?type=agent", {"session_id": "kept"})[0] == 201
        backends = bouncer.server_pids()
        assert [readiness(server)[0] for _ in range(3)] == [200] * 3
        assert backends <= bouncer.server_pids()  # probes end outside a transaction: PgBouncer keeps the server

        bouncer.admin(f"PAUSE {ALIAS}")  # logins still succeed, queries wait for RESUME
        try:
            status, took = readiness(server)
            assert status == 503 and took < 6, (status, took)
        finally:
            bouncer.admin(f"RESUME {ALIAS}")
        assert readiness(server)[0] == 200
        assert server.request("GET", "/sessions/kept")[0] == 200

        bouncer.stop()
        try:
            status, took = readiness(server)
            assert status == 503 and took < 3, (status, took)
            status, _, body = server.request("GET", "/sessions/kept")
            assert (status, body) == (503, b"{\"detail\":\"Database 'srv' is unavailable\"}")
        finally:
            bouncer.start()
        assert readiness(server)[0] == 200
        # the pooled client connections died with PgBouncer: replaced without failing a request
        assert [server.request("GET", "/sessions/kept")[0] for _ in range(8)] == [200] * 8

        rows = Rows(pg_dsn)
        locker = psycopg2.connect(pg_dsn)  # a row lock held straight on PostgreSQL, past the 2 s timeout
        try:
            with locker.cursor() as cur:
                cur.execute("SELECT 1 FROM ai.agno_sessions WHERE session_id = 'kept' FOR UPDATE")
            started = time.monotonic()
            status, _, body = server.request("PATCH", "/sessions/kept", {"session_name": "late"})
            assert (status, body) == (504, b'{"detail":"Request timed out"}')
            assert 1.9 <= time.monotonic() - started < 6
            locker.rollback()
            assert server.request("PATCH", "/sessions/kept", {"session_name": "now"})[0] == 200
        finally:
            locker.close()
            rows.close()
        assert server.stop()[0] == 0


# --------------------------------------------------------------------------- mixed traffic, both ways

CLIENTS, ROUNDS = 8, 3
MEMORY_THREADS, MEMORY_ADDS = 4, 5
WORKFLOW_THREADS, WORKFLOW_RUNS = 3, 3
EXPECTED_STATUSES = {"create": 201, "merge": 200, "patch": 200, "rename": 200, "detail": 200, "runs": 200,
                     "list": 200, "bulk delete": 204}


def http_client(server: AgnoSession, i: int, tally: Counter) -> None:
    """Create (with runs), state-merge the shared session, PATCH, rename, read, list; then bulk-delete two."""
    def call(op: str, method: str, path: str, body: object = None, headers: dict | None = None) -> bytes:
        status, _, answer = server.request(method, path, body, headers=headers, timeout=30)
        tally[(op, status)] += 1
        return answer

    for k in range(ROUNDS):
        sid = f"s{i}-{k}"
        runs = [{"run_id": f"{sid}-r{n}", "agent_id": "a", "status": "COMPLETED", "created_at": 1767225600 + n,
                 "input": {"input_content": f"hello {sid} {n}"},
                 "messages": [{"id": f"{sid}-m{n}", "role": "user", "content": f"hello {sid} {n}"}]}
                for n in range(k)]
        call("create", "POST", "/sessions?type=agent",
             {"session_id": sid, "session_name": f"n-{sid}", "session_state": {"k": k}, "runs": runs})
        call("merge", "PATCH", "/sessions/shared/state", {f"c{i}": k + 1, "log": {sid: True}}, MERGE)
        call("patch", "PATCH", f"/sessions/{sid}", {"metadata": {"client": i}, "session_state": {"k": k, "i": i}})
        call("rename", "POST", f"/sessions/{sid}/rename", {"session_name": f"r-{sid}"})
        detail = json.loads(call("detail", "GET", f"/sessions/{sid}"))
        tally[("detail name ok", detail.get("session_name") == f"r-{sid}")] += 1
        tally[("run count", len(json.loads(call("runs", "GET", f"/sessions/{sid}/runs"))))] += 1
        call("list", "GET", f"/sessions?limit=5&page={k + 1}")
    doomed = [f"s{i}-0", f"s{i}-1"]
    call("bulk delete", "DELETE", "/sessions", {"session_ids": doomed, "session_types": ["agent", "agent"]})


def memory_client(db: Database, t: int, tally: Counter) -> None:
    """Two threads per user: appends serialise on the user's transaction-scoped advisory lock."""
    memory = StoreMemory(db, max_messages_per_user=100)
    for n in range(MEMORY_ADDS):
        memory.add(f"u{t % 2}", {"role": "user", "content": f"m{t}-{n}"})
        tally[("memory add", "ok")] += 1


def workflow_client(db: Database, t: int, tally: Counter) -> None:
    """Concurrent runs of one workflow session: run_index comes from an advisory lock held until commit."""
    workflow = Workflow("wf", "wf", [Step("echo", lambda ctx: ctx.input)], db=db)
    for n in range(WORKFLOW_RUNS):
        tally[("workflow", workflow.run(f"w{t}-{n}", session_id="wf-shared").status)] += 1


def mixed_traffic(server: AgnoSession, db: Database) -> Counter:
    """Every kind of request at once, from CLIENTS HTTP clients and the memory and workflow libraries."""
    tally: Counter = Counter()
    status = server.request("POST", "/sessions?type=agent", {"session_id": "shared", "session_state": {}})[0]
    assert status == 201
    jobs: list[Callable[[], None]] = [lambda i=i: http_client(server, i, tally) for i in range(CLIENTS)]
    jobs += [lambda t=t: memory_client(db, t, tally) for t in range(MEMORY_THREADS)]
    jobs += [lambda t=t: workflow_client(db, t, tally) for t in range(WORKFLOW_THREADS)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    return tally


def stored(pg_dsn: str, schema: str) -> dict:
    """What the traffic left in the tables, without its timestamps and generated ids."""
    rows = Rows(pg_dsn, schema=schema)
    try:
        sessions = {sid: (kind, data, metadata) for sid, kind, data, metadata in rows.execute(
            f"SELECT session_id, session_type, session_data, metadata FROM {schema}.agno_sessions")}
        runs = {sid: (indexes, labels) for sid, indexes, labels in rows.execute(
            f"SELECT session_id, array_agg(run_index ORDER BY run_index), array_agg(label ORDER BY label) "
            f"FROM (SELECT session_id, run_index, coalesce(run_data ->> 'input', "
            f"run_data -> 'messages' -> 0 ->> 'content') AS label FROM {schema}.agno_runs) r GROUP BY session_id")}
    finally:
        rows.close()
    return {"sessions": sessions, "runs": runs}


class PoolSampler:
    """SHOW POOLS every few milliseconds while traffic runs: the most clients and server connections seen."""

    def __init__(self, bouncer: PgBouncer) -> None:
        self.bouncer = bouncer
        self.clients = self.servers = self.waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            row = Counter(self.bouncer.row("SHOW POOLS"))
            self.clients = max(self.clients, row["cl_active"] + row["cl_waiting"])
            self.servers = max(self.servers, sum(row[k] for k in ("sv_active", "sv_idle", "sv_used", "sv_tested",
                                                                  "sv_login")))
            self.waiting = max(self.waiting, row["cl_waiting"])

    def stop(self) -> None:
        """Stop sampling; the maxima stay."""
        self._stop.set()
        self._thread.join(5)


def server_connection_state(bouncer: PgBouncer) -> list[dict]:
    """Anything a transaction left behind on PgBouncer's server connections, seen from POOL_SIZE clients of its own
    that each hold a transaction open at once (so together they sit on every server connection)."""
    conns = [psycopg2.connect(bouncer.dsn, application_name="agno-session-inspect") for _ in range(POOL_SIZE)]
    try:
        found = []
        for conn in conns:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute("""
                    SELECT pg_backend_pid() AS pid,
                           ARRAY(SELECT name FROM pg_settings WHERE source = 'session' AND name <> ALL(%s))
                               AS session_settings,
                           (SELECT count(*) FROM pg_prepared_statements) AS prepared,
                           (SELECT count(*) FROM pg_listening_channels()) AS listening,
                           (SELECT count(*) FROM pg_cursors) AS cursors,
                           (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temp_tables,
                           (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory') AS advisory_locks
                """, (list(POOLER_TRACKED),))
                found.append(dict(cur.fetchone()))
        return found
    finally:
        for conn in conns:
            conn.rollback()  # PgBouncer drops a server connection whose client leaves inside a transaction
            conn.close()


def check_sharing(bouncer: PgBouncer, sampler: PoolSampler, tally: Counter, before: int) -> None:
    """More clients than server connections, during the traffic and after it; every request went through PgBouncer;
    nothing is left on the shared server connections."""
    clients = [c for c in bouncer.admin("SHOW CLIENTS") if c["database"] == ALIAS]
    servers = [s for s in bouncer.admin("SHOW SERVERS") if s["database"] == ALIAS]
    assert len(clients) > POOL_SIZE >= len(servers), (len(clients), len(servers))
    assert sampler.clients > POOL_SIZE >= sampler.servers, vars(sampler)
    transactions = bouncer.transactions() - before
    requests = sum(n for key, n in tally.items() if key[0] in EXPECTED_STATUSES)
    assert transactions >= requests, (transactions, requests)
    left = server_connection_state(bouncer)
    assert len({c.pop("pid") for c in left}) == POOL_SIZE
    assert [{k: v for k, v in c.items() if v} for c in left] == [{}] * POOL_SIZE
    print(f"\npgbouncer: up to {sampler.clients} clients ({sampler.waiting} waiting) on {sampler.servers} server "
          f"connections, {transactions} transactions")


def test_mixed_traffic_through_pgbouncer_matches_postgres(make_app, pg_dsn: str, bouncer: PgBouncer) -> None:
    """The same concurrent traffic straight to PostgreSQL (schema ai) and through PgBouncer (schema ai2): the same
    answers and rows, exact under concurrency, on at most POOL_SIZE shared server connections, nothing left on them."""
    outcomes = {}
    for way, dsn, schema in (("direct", pg_dsn, "ai"), ("pgbouncer", bouncer.dsn, "ai2")):
        before = bouncer.transactions()
        with serving(server_env(dsn, schema, AGNO_REQUEST_TIMEOUT="20"), workers=2, threads=4) as server:
            db = Database(DatabaseConfig(db_id="srv", dsn=dsn, schema=schema), pool_max=4, timeout=20)
            sampler = PoolSampler(bouncer) if way == "pgbouncer" else None
            try:
                try:
                    tally = mixed_traffic(server, db)
                finally:
                    if sampler:
                        sampler.stop()
                if sampler:  # while the service's and the libraries' pooled client connections are still open
                    check_sharing(bouncer, sampler, tally, before)
            finally:
                db.close()
            assert server.stop()[0] == 0
        outcomes[way] = (tally, stored(pg_dsn, schema))

    (tally, rows), (bounced_tally, bounced_rows) = outcomes["direct"], outcomes["pgbouncer"]
    assert bounced_tally == tally
    assert bounced_rows == rows
    assert {key for key in tally if key[0] in EXPECTED_STATUSES} == set(EXPECTED_STATUSES.items())  # no 500s
    assert tally[("detail name ok", True)] == CLIENTS * ROUNDS
    assert tally[("workflow", "COMPLETED")] == WORKFLOW_THREADS * WORKFLOW_RUNS
    state = rows["sessions"]["shared"][1]["session_state"]  # no merge lost
    assert state == {**{f"c{i}": ROUNDS for i in range(CLIENTS)},
                     "log": {f"s{i}-{k}": True for i in range(CLIENTS) for k in range(ROUNDS)}}
    kept = {f"s{i}-{k}" for i in range(CLIENTS) for k in range(2, ROUNDS)}
    assert {sid for sid in rows["sessions"] if sid.startswith("s")} == kept | {"shared"}
    assert all(rows["sessions"][sid][1]["session_name"] == f"r-{sid}" for sid in kept)
    per_user = MEMORY_THREADS // 2 * MEMORY_ADDS  # every append, each with its own run_index
    assert rows["runs"]["memory:u0"][0] == rows["runs"]["memory:u1"][0] == list(range(per_user))
    assert rows["runs"]["wf-shared"][0] == list(range(WORKFLOW_THREADS * WORKFLOW_RUNS))
