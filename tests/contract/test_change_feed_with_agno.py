"""The change feed loses nothing and delivers nothing twice (issue 24, proof 6, scaled down): agno 3.1.10's own
writes, this service's writes through a real `agno-session serve`, transactions held open across later commits and
rolled-back ones, read by a long-polling consumer, then compared with the tables' final state; and a JWT caller
scoped to one user sees only that user's sessions' events. The 10,000-transaction run with commit-to-event latency
is `python -m bench.change_feed`. Its own small PostgreSQL, not the contract cluster."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from service.cli import migrate
from service.core.config import load_settings
from tests.contract import change_feed_load as load
from tests.contract.agno_client import T0, AgnoWriter, reference_python
from tests.contract.harness import Database
from tests.contract.tables import Tables
from tests.support.jwt_tokens import ALICE, JWT_ENV
from tests.support.own_postgres import own_postgres
from tests.support.servers import serving

ROUNDS = 30  # 240 transactions; the benchmark runs 10,000


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with own_postgres("agno-changes-contract-") as dsn:
        yield Database(dsn.replace("postgresql://", "postgresql+psycopg://", 1), Tables())


@pytest.fixture(scope="module")
def agno(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgnoWriter]:
    writer = AgnoWriter(reference_python(), database, tmp_path_factory.mktemp("agno-changes") / "agno-writer.log")
    writer("upsert_session", session_id="first", user_id="u1", created_at=T0)  # agno creates its tables here
    migrate(load_settings({"AGNO_PG_DSN": database.dsn}), changes=True, out=io.StringIO())
    yield writer
    writer.close()


def test_nothing_lost_nothing_twice_under_agno_the_service_and_late_commits(database, agno):
    with serving({"AGNO_PG_DSN": database.dsn}, workers=2, threads=4) as server:
        done, feed = load.run(agno, server, database.dsn, ROUNDS, timed=20)
        assert load.compare(done, feed, database.dsn) == []
        assert done.transactions == 8 * ROUNDS + 20
        assert len(load.latencies(done, feed)) == 20  # every timed create arrived


def test_a_scoped_caller_sees_only_its_own_sessions_events(database, agno):
    env = {"AGNO_PG_DSN": database.dsn, **JWT_ENV}
    with serving(env, workers=1, threads=4) as server:
        status, _, body = server.request("GET", "/sessions/-/changes", headers=ALICE)
        assert status == 200, body
        cursor = json.loads(body)["next_cursor"]
        agno("upsert_session", session_id="iso-alice", user_id="alice", created_at=T0)
        agno("upsert_run", session_id="iso-alice", user_id="alice", run_id="iso-alice-r", index=0, created_at=T0)
        agno("upsert_session", session_id="iso-bob", user_id="bob", created_at=T0)
        agno("upsert_run", session_id="iso-bob", user_id="bob", run_id="iso-bob-r", index=0, created_at=T0)
        agno("delete_session", session_id="iso-bob")
        status, _, body = server.request("GET", f"/sessions/-/changes?after={cursor}", headers=ALICE)
        assert status == 200, body
        seen = [(e["type"], e["session_id"], e["run_id"]) for e in json.loads(body)["data"]]
        assert seen == [("session.created", "iso-alice", None), ("run.created", "iso-alice", "iso-alice-r")]
