"""The change feed loses nothing and delivers nothing twice (issue 24, proof 6, scaled down): agno 3.1.10's own
writes, this service's writes through a real `agno-session serve`, transactions held open across later commits and
rolled-back ones, read at once by a long-polling consumer and an SSE consumer of a real `agno-session serve-events`,
while both consumers' sockets are cut, the service's and the event process's database connections are terminated
and PostgreSQL is restarted; each consumer's events are compared with the change log and with the tables' final
state (tests/contract/change_feed_load.py). And a JWT caller scoped to one user sees only that user's sessions'
events. The 10,000-transaction run with commit-to-event latency is `python -m bench.change_feed`."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli import migrate
from service.core.config import load_settings
from tests.contract import change_feed_load as load
from tests.contract.agno_client import T0, AgnoWriter, reference_python
from tests.contract.change_feed_stack import proof_stack
from tests.contract.harness import Database
from tests.contract.tables import Tables
from tests.support.jwt_tokens import ALICE, JWT_ENV
from tests.support.own_postgres import own_postgres
from tests.support.servers import serving

ROUNDS = 40  # 341 transactions (40 rounds, 20 timed creates, the last one); the benchmark runs 10,000
EVERY = 5  # a fault every 5 rounds: each cut twice, the connections terminated twice, PostgreSQL restarted once


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


def test_nothing_lost_nothing_twice_on_both_transports_through_cuts_and_a_restart():
    with tempfile.TemporaryDirectory(prefix="agno-changes-proof-") as tmp, \
            proof_stack(Path(tmp), reference_python()) as stack:
        done, consumers, start = load.run(stack, ROUNDS, timed=20, every=EVERY, restarts=1)
        verdicts = load.verdicts(stack, done, consumers, start)
        assert {name: (v.lost, v.duplicated, v.problems) for name, v in verdicts.items()} == {
            "long-poll": (0, 0, []), "sse": (0, 0, [])}
        # every fault struck: each consumer resumed after its cuts, both processes lost their connections, the
        # restart ended a held transaction
        assert done.faults == {"cut sse": 2, "cut long-poll": 2, "terminate connections": 2, "restart postgres": 1}
        assert (consumers["sse"].cuts, consumers["long-poll"].cuts, stack.restarts) == (2, 2, 1)
        assert stack.terminated >= 4
        assert "held-20" in done.rolled_back
        assert done.transactions == 8 * ROUNDS + 21
        assert len(stack.logged_events(start)) >= done.transactions  # the comparison had the whole run to compare
        for consumer in consumers.values():
            assert len(load.latencies(done, consumer)) == 20  # every timed create arrived


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
