"""The processes of the change feed's proof (change_feed_load.py) and the faults it injects: a PostgreSQL whose
data directory is stopped and started again (tests/support/restartable_postgres.py), agno 3.1.10's own writer,
`agno-session serve` and `agno-session serve-events`; the database connections of the service and of the event
process terminated with pg_terminate_backend; and the change log itself, read as the feed should have sent it."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from service.cli import migrate
from service.core.config import DatabaseConfig, load_settings
from service.rules import changes as rules
from service.storage.changes import ChangeFilters
from service.storage.counts import derived_name
from tests.contract.agno_client import T0, AgnoWriter
from tests.contract.harness import Database
from tests.contract.tables import Tables
from tests.support.restartable_postgres import Postgres
from tests.support.rows import execute
from tests.support.servers import CLI, AgnoSession, Server, free_port, launch, serving

READY_WITHIN = 120  # seconds a process may take to see the database go or come back (it polls every 0.2-5 s)


@dataclass
class Stack:
    """Everything running for one proof: the database, agno's writer, the service and the event process."""

    pg: Postgres
    agno: AgnoWriter
    server: AgnoSession
    events: Server
    db: DatabaseConfig
    cursor_key: bytes
    restarts: int = 0
    terminated: int = 0  # backends terminated, the service's and the event process's together

    def ready(self) -> int:
        return self.events.request("GET", "/readyz")[0]

    def wait_ready(self, status: int) -> None:
        """Wait until the event process's readiness says `status` (503: it saw the database go; 200: it polls)."""
        deadline = time.monotonic() + READY_WITHIN
        while self.ready() != status:
            if time.monotonic() > deadline:
                raise AssertionError(f"serve-events did not turn {status} within {READY_WITHIN} s{self.events.tail()}")
            time.sleep(0.1)

    def restart_postgres(self) -> None:
        """Stop PostgreSQL (fast: every session is ended, open transactions roll back), wait until the event process
        has seen it go, start it again on the same data directory and port."""
        self.pg.stop("fast")
        self.wait_ready(503)
        self.pg.start()
        self.restarts += 1

    def terminate_connections(self) -> None:
        """pg_terminate_backend every connection of the event process and of the service's workers (after waiting
        until the event process has one again: a terminate that found none would prove nothing)."""
        deadline = time.monotonic() + READY_WITHIN
        while not (ports := self._client_ports(self.events.proc.pid)):
            if time.monotonic() > deadline:
                raise AssertionError("serve-events holds no database connection")
            time.sleep(0.05)
        ports |= self._client_ports(self.server.proc.pid)
        (count,), = execute(self.pg.dsn, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                         "WHERE client_port = ANY(%s)", (sorted(ports),))
        assert count, "no backend of the service or the event process was terminated"
        self.terminated += count

    def _client_ports(self, root: int) -> set[int]:
        """The local ports of the TCP connections to PostgreSQL that process `root` and its children hold."""
        try:
            tree = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
        except psutil.NoSuchProcess:
            return set()
        ports = set()
        for proc in tree:
            try:
                ports |= {c.laddr.port for c in proc.net_connections("tcp")
                          if c.raddr and c.raddr.port == self.pg.port and c.status == psutil.CONN_ESTABLISHED}
            except psutil.NoSuchProcess:
                continue
        return ports

    def binding(self) -> list:
        """What the unfiltered feed's cursors are bound to (the same on both transports)."""
        return rules.binding([self.db.db_id, self.db.schema, self.db.session_table], ChangeFilters().as_json())

    def logged_events(self, after: str) -> list[dict]:
        """Every change in the log after the cursor `after`, as the unfiltered feed sends it (its id sealed here
        from its position): what each consumer must have received, once each, in this order."""
        bound = self.binding()
        start = rules.unseal(after, bound, self.cursor_key)
        table = f'"{self.db.schema}"."{derived_name(self.db.session_table, "changes")}"'
        rows = execute(self.pg.dsn, f"SELECT c.txid::text, c.seq, c.at, c.op, c.session_id, c.run_id, c.user_id, "
                                    f"c.session_type, c.component_id, c.changed FROM {table} c "
                                    f"WHERE (c.txid, c.seq) > (%s::text::xid8, %s) ORDER BY c.txid, c.seq",
                       (str(start[0]), start[1]))
        columns = ("txid", "seq", "at", "op", "session_id", "run_id", "user_id", "session_type", "component_id",
                   "changed")
        events = []
        for values in rows:
            row = dict(zip(columns, values, strict=True))
            cursor = rules.seal((int(row["txid"]), row["seq"]), bound, self.cursor_key)
            events.append(rules.event(row, self.db.db_id, cursor))
        return events


def service_env(dsn: str) -> dict[str, str]:
    """The environment both processes run with: this machine's, without any AGNO_ setting, on `dsn`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
    return {**base, "AGNO_PG_DSN": dsn, "AGNO_SERVICE_HOST": "127.0.0.1"}


@contextmanager
def proof_stack(workdir: Path, ref_python: str) -> Iterator[Stack]:
    """Start everything (agno creates its tables, `migrate --changes` installs the log), stop it all on leaving."""
    pg = Postgres(workdir)
    pg.start()
    agno = None
    try:
        database = Database(pg.dsn.replace("postgresql://", "postgresql+psycopg://", 1), Tables())
        agno = AgnoWriter(ref_python, database, workdir / "agno-writer.log")
        agno("upsert_session", session_id="first", user_id="u1", created_at=T0)  # agno creates its tables
        env = service_env(pg.dsn)
        settings = load_settings(env)
        migrate(settings, changes=True, out=io.StringIO())
        with serving({"AGNO_PG_DSN": pg.dsn}, workers=2, threads=4) as server:
            port = free_port()
            events = launch("serve-events", [CLI, "serve-events", "--port", str(port)], env, port, Path.cwd(),
                            workdir / "serve-events.log")
            try:
                events.wait_healthy("/healthz", timeout=60)
                stack = Stack(pg, agno, server, events, settings.databases[0], settings.cursor_key)
                stack.wait_ready(200)
                yield stack
            finally:
                events.kill()
    finally:
        if agno is not None:
            agno.close()
        if pg.running():
            pg.stop("immediate")
