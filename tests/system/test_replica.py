"""Read replicas over real streaming replication: a primary and a hot standby made from it with `pg_basebackup -R`.

Replay on the standby is paused to tell the two apart: what a GET answers then is the standby's state, what a write
answers is the primary's. Needs Debian's PostgreSQL 15 server binaries (CI has them); without them it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service import cli
from service.app import create_app
from service.core.config import Settings, load_settings
from service.lib.memory import StoreMemory
from service.storage import replica
from tests.support.metrics import value
from tests.support.openapi_spec import conformance_problems
from tests.support.rows import execute
from tests.support.servers import free_port
from tests.support.system import postgres_bindir

OWNER = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root


def _pg(program: str) -> str:
    """A PostgreSQL server program from the distribution's newest version."""
    return str(postgres_bindir() / program)


def _run(*argv: str) -> None:
    """A PostgreSQL program, as its data's owner; its output in the failure."""
    full = ["runuser", "-u", OWNER, "--", *argv] if OWNER else list(argv)
    done = subprocess.run(full, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout}{done.stderr}"


class Cluster:
    """One data directory and its server on 127.0.0.1."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start and return once it accepts connections (a standby: once it accepts read-only ones)."""
        _run(_pg("pg_ctl"), "-D", str(self.data), "-w", "-t", "30", "-l", str(self.data / "log"), "-o",
             f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c wal_level=replica "
             "-c max_wal_senders=4 -c hot_standby=on -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        _run(_pg("pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def execute(self, statement: str, params: tuple = ()) -> list[tuple]:
        return execute(self.dsn, statement, params)


class Replication:
    """A primary and its hot standby, streaming."""

    def __init__(self, root: Path) -> None:
        self.primary = Cluster(root / "primary")
        self.standby = Cluster(root / "standby")

    def start(self) -> None:
        _run(_pg("initdb"), "-D", str(self.primary.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-locale")  # trust covers 127.0.0.1 and its replication connections
        self.primary.start()
        _run(_pg("pg_basebackup"), "-D", str(self.standby.data), "-h", "127.0.0.1", "-p",
             str(self.primary.port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast")
        self.standby.start()
        assert self.standby.execute("SELECT pg_is_in_recovery()") == [(True,)]
        _until(lambda: self.primary.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
               == [(1,)], "the standby streaming")

    def stop(self) -> None:
        for cluster in (self.standby, self.primary):
            if cluster.running():
                cluster.stop("immediate")

    def caught_up(self) -> None:
        """Return once the standby has replayed everything the primary has written so far."""
        lsn = self.primary.execute("SELECT pg_current_wal_lsn()::text")[0][0]
        _until(lambda: self.standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)) == [(True,)],
               "the standby replaying the primary's writes")

    def pause(self) -> None:
        self.standby.execute("SELECT pg_wal_replay_pause()")
        _until(lambda: self.standby.execute("SELECT pg_get_wal_replay_pause_state()") == [("paused",)],
               "replay paused")

    def resume(self) -> None:
        self.standby.execute("SELECT pg_wal_replay_resume()")


def _until(condition: Callable[[], bool], what: str, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def replication() -> Iterator[Replication]:
    """Both servers for the module, agno's tables made on the primary and replayed; everything stopped after."""
    postgres_bindir()  # a primary and a streaming standby are started with the distribution's server binaries
    root = Path(tempfile.mkdtemp(prefix="agno-session-replica-"))
    if OWNER:
        shutil.chown(root, OWNER, OWNER)
    servers = Replication(root)
    try:
        servers.start()
        cli.migrate(settings(servers))
        servers.caught_up()
        yield servers
    finally:
        servers.stop()
        shutil.rmtree(root, ignore_errors=True)


def settings(servers: Replication) -> Settings:
    return load_settings({"AGNO_PG_DSN": servers.primary.dsn, "AGNO_PG_REPLICA_DSN": servers.standby.dsn,
                          "AGNO_DB_ID": "main", "AGNO_REQUEST_TIMEOUT": "5"})


@pytest.fixture
def servers(replication: Replication) -> Iterator[Replication]:
    """Both servers running, replay on and caught up, whatever the test before left."""
    if not replication.standby.running():
        replication.standby.start()
    replication.resume()
    replication.caught_up()
    yield replication
    if replication.standby.running():
        replication.resume()


@pytest.fixture
def app(servers: Replication):
    built = create_app(settings(servers))
    built.testing = True
    yield built
    built.config["REGISTRY"].close()


def name_of(client, session_id: str) -> str | int:
    """The session's name as a GET answers it, or the status when it is not 200."""
    response = client.get(f"/sessions/{session_id}")
    return response.get_json()["session_name"] if response.status_code == 200 else response.status_code


def stored_name(cluster: Cluster, session_id: str) -> str | None:
    rows = cluster.execute("SELECT session_data->>'session_name' FROM ai.agno_sessions WHERE session_id = %s",
                           (session_id,))
    return rows[0][0] if rows else None


def test_gets_read_the_replica_writes_and_their_reads_the_primary(servers: Replication, app) -> None:
    client = app.test_client()
    assert client.post("/sessions?type=agent", json={"session_id": "r1", "session_name": "before"}).status_code == 201
    assert client.post("/sessions?type=agent", json={"session_id": "gone", "session_name": "x"}).status_code == 201
    servers.caught_up()
    servers.pause()
    try:
        # Every write succeeds and answers from what it wrote: the standby could have taken none of them.
        patched = client.patch("/sessions/r1", json={"session_name": "after", "session_state": {"k": 1}})
        assert patched.status_code == 200 and patched.get_json()["session_name"] == "after"
        merged = client.patch("/sessions/r1/state", json={"m": 2})
        assert merged.status_code == 200 and merged.get_json()["session_state"] == {"k": 1, "m": 2}
        created = client.post("/sessions?type=agent", json={"session_id": "new", "session_name": "fresh"})
        assert created.status_code == 201
        assert client.post("/sessions/new/rename", json={"session_name": "renamed"}).get_json()["session_name"] \
            == "renamed"  # its row exists only on the primary: the rename's read went there too
        assert client.post("/sessions?type=agent", json={"session_id": "new"}).status_code == 409
        assert client.delete("/sessions/gone").status_code == 204
        assert client.delete("/sessions", json={"session_ids": ["r1-none"], "session_types": ["agent"]}) \
            .status_code == 204
        assert (stored_name(servers.primary, "r1"), stored_name(servers.primary, "new")) == ("after", "renamed")

        # GETs answer the standby's (paused) state: the old name, no new session, the deleted one still there.
        assert (stored_name(servers.standby, "r1"), stored_name(servers.standby, "new")) == ("before", None)
        assert name_of(client, "r1") == "before"
        assert name_of(client, "new") == 404
        assert name_of(client, "gone") == "x"
        assert client.get("/sessions/r1/runs").status_code == 200
        listed = client.get("/sessions?db_id=main&table=agno_sessions").get_json()
        assert {s["session_id"]: s["session_name"] for s in listed["data"]} == {"r1": "before", "gone": "x"}
    finally:
        servers.resume()
    servers.caught_up()
    assert (name_of(client, "r1"), name_of(client, "new"), name_of(client, "gone")) == ("after", "renamed", 404)
    assert client.get("/sessions/r1").get_json()["session_state"] == {"k": 1, "m": 2}

    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "agno_session_db_query_duration_seconds_count", db_id="main", pool="replica") >= 8
    assert value(text, "agno_session_db_query_duration_seconds_count", db_id="main", pool="primary") >= 8
    assert value(text, "agno_session_db_pool_connections_max", db_id="main", pool="replica") == 8
    assert value(text, "agno_session_db_pool_connections_in_use", db_id="main", pool="replica") == 0
    assert value(text, "agno_session_db_replica_fallbacks_total", db_id="main") == 0


def test_the_libraries_and_every_transaction_stay_on_the_primary(servers: Replication, app) -> None:
    db = app.config["REGISTRY"].get("main")
    assert (db.pool, db.replica.pool, db.replica.config.dsn) == ("primary", "replica", servers.standby.dsn)
    servers.pause()
    try:
        memory = StoreMemory(db)
        memory.add("alice", {"role": "user", "content": "hi"})
        assert [m["content"] for m in memory.get_messages("alice")] == ["hi"]  # read back before any replay
    finally:
        servers.resume()
    with pytest.raises(RuntimeError, match="transaction was asked of the read replica"):
        with db.replica.transaction():
            pass


def test_gets_fall_back_to_the_primary_while_the_replica_is_down(servers: Replication, app, logged,
                                                                 monkeypatch, capsys) -> None:
    monkeypatch.setattr(replica, "REPLICA_RETRY_SECONDS", 1.0)
    client = app.test_client()
    assert client.post("/sessions?type=agent", json={"session_id": "f1", "session_name": "one"}).status_code == 201
    servers.caught_up()
    assert name_of(client, "f1") == "one"  # pooled replica connections, about to die
    servers.standby.stop("fast")

    assert client.patch("/sessions/f1", json={"session_name": "two"}).status_code == 200
    for _ in range(3):  # the first finds it down, the next ones do not try it again yet
        assert name_of(client, "f1") == "two"  # the primary's fresh row
    assert client.get("/sessions").get_json()["meta"]["total_count"] >= 1
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json()) == (200, {"status": "ok", "databases": {"main": "ok"},
                                                           "replicas": {"main": "unavailable"}})
    assert conformance_problems("get", "/readyz", ready) == []
    text = client.get("/metrics").get_data(as_text=True)
    # 3 details, and the list's 2 reads (whether session counts are installed, checked once, then the page)
    assert value(text, "agno_session_db_replica_fallbacks_total", db_id="main") == 5
    assert value(text, "agno_session_http_requests_total", route="/sessions/{session_id}", method="GET",
                 status="200") == 4
    assert cli.check(settings(servers)) == 1
    assert "main replica: cannot connect:" in capsys.readouterr().out

    servers.standby.start()
    servers.caught_up()
    time.sleep(1.1)  # past the retry delay: the next read tries the replica again
    servers.pause()
    try:
        assert client.patch("/sessions/f1", json={"session_name": "three"}).get_json()["session_name"] == "three"
        assert name_of(client, "f1") == "two"  # the replica's again: it has not replayed "three"
    finally:
        servers.resume()
    ready = client.get("/readyz")
    assert (ready.status_code, ready.get_json()["replicas"]) == (200, {"main": "ok"})
    assert cli.check(settings(servers)) == 0
    assert capsys.readouterr().out.endswith("main replica: ok\n")
    messages = [r.getMessage() for r in logged if "read replica" in r.getMessage()]
    assert messages == ["read replica unavailable: reads go to the primary", "read replica answering again"]


def test_list_totals_come_from_the_replicas_counts_and_folding_them_writes_the_primary(servers: Replication,
                                                                                     app, monkeypatch) -> None:
    from service.storage import counts

    monkeypatch.setattr(counts, "CHECK_EVERY", 0.0)
    cli.migrate(settings(servers), indexes=True)
    servers.primary.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) "
                            "SELECT 'c' || g, 'team', g FROM generate_series(1, 3) g")
    for i in range(counts.COMPACT_AT + 1):  # one delta row each
        servers.primary.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) "
                                "VALUES (%s, 'team', 1)", (f"d{i}",))
    servers.caught_up()
    client = app.test_client()
    expected = servers.primary.execute("SELECT count(*) FROM ai.agno_sessions WHERE session_type = 'team'")[0][0]
    assert client.get("/sessions?type=team&limit=1").get_json()["meta"]["total_count"] == expected
    assert servers.primary.execute("SELECT count(*) FROM ai.agno_sessions_svc_counts")[0][0] <= 3  # folded there
    servers.caught_up()
    assert client.get("/sessions?type=team&limit=1").get_json()["meta"]["total_count"] == expected
    servers.primary.execute("DROP FUNCTION ai.agno_sessions_svc_count_change() CASCADE")
    servers.primary.execute("DROP TABLE ai.agno_sessions_svc_counts")
    servers.primary.execute("DELETE FROM ai.agno_sessions WHERE session_type = 'team'")
    servers.caught_up()
