"""Retention on sessions agno 3.1.10 itself wrote (its PostgresDb, tests/contract/agno_writer.py), while agno keeps
writing other sessions between the sweep's batches: every agno write succeeds, the sweep archives exactly what its
plan listed and nothing held, a trim keeps exactly the last N runs agno reads, and AgentOS still lists the same
sessions as agno-session afterwards."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest

from service.cli import migrate
from service.core.config import load_settings
from service.core.retention_policies import Policy
from service.storage import retention
from service.storage.registry import open_database
from tests.contract import replay
from tests.contract.harness import Cluster, Pair, check_read

DAY = 86400
USER, LIVE_USER = "retention-user", "retention-live"
WAIT = 120  # seconds a side waits for the other before the test fails instead of hanging


@pytest.fixture
def db(cluster: Cluster, pair: Pair) -> Iterator:
    """The pair's database with the lifecycle installed, back to the seed afterwards (the archive emptied of ours)."""
    cluster.restore()
    settings = load_settings({"AGNO_SESSION_DSN_MAP": json.dumps({d.db_id: d.service_entry()
                                                                  for d in pair.databases})})
    migrate(settings, lifecycle=True)
    handle = open_database(settings.databases[0], 2, 60)
    yield handle
    handle.close()
    conn = psycopg2.connect(pair.databases[0].dsn)
    with conn, conn.cursor() as cur:
        schema = pair.databases[0].tables.schema
        cur.execute(f'DELETE FROM "{schema}".agno_sessions_svc_archived_sessions WHERE user_id = %s', (USER,))
        cur.execute(f'DELETE FROM "{schema}".agno_sessions_svc_holds WHERE session_id LIKE %s', ("ret-%",))
    conn.close()
    cluster.restore()


def live_ids(db, user: str) -> set[str]:
    conn = psycopg2.connect(db.config.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f'SELECT session_id FROM "{db.config.schema}".agno_sessions WHERE user_id = %s', (user,))
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def test_a_sweep_among_agnos_writes_archives_what_the_plan_listed(db, pair, agno, devs) -> None:
    now = int(time.time())
    old = now - 200 * DAY
    for n in range(12):
        sid = f"ret-{n:02}"
        agno("upsert_session", session_id=sid, user_id=USER, created_at=old)
        for i in range(3):
            agno("upsert_run", session_id=sid, user_id=USER, run_id=f"{sid}-r{i}", index=i, created_at=old + i)
    conn = psycopg2.connect(db.config.dsn)
    with conn, conn.cursor() as cur:
        cur.execute(f'INSERT INTO "{db.config.schema}".agno_sessions_svc_holds (session_id, reason, held_at) '
                    "VALUES ('ret-04', 'litigation', %s), ('ret-09', 'litigation', %s)", (now, now))
    conn.close()
    # agno stamps each run's updated_at with the time it wrote it: by last activity these sessions are fresh
    by_activity = Policy(name="idle", after=90 * DAY, action="archive", user_id=USER)
    assert retention.plan(db, (by_activity,), now, 10)[0].sessions == 0
    policy = Policy(name="old", after=90 * DAY, action="archive", basis="created", user_id=USER)
    [planned] = retention.plan(db, (policy,), now, 100)
    assert (planned.sessions, planned.runs, planned.held) == (10, 30, 2)

    turn = threading.Semaphore(0)  # the sweep waits after each batch until agno has written once more
    written = threading.Semaphore(0)
    outcome: list = []  # the sweep's Outcome, or what it raised
    finished = threading.Event()

    def after_batch(done: retention.Outcome) -> None:
        turn.release()
        assert written.acquire(timeout=WAIT), "agno's write did not come"

    def sweep() -> None:
        try:
            outcome.append(retention.sweep(db, policy, now, 3, after_batch))
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)
        finally:
            finished.set()
            turn.release()

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    writes = 0
    while True:
        assert turn.acquire(timeout=WAIT), "the sweep did not advance"
        if finished.is_set():
            break
        sid = f"live-{writes}"  # agno writes its own sessions while the sweep is between batches
        agno("upsert_session", session_id=sid, user_id=LIVE_USER, created_at=now)
        agno("upsert_run", session_id=sid, user_id=LIVE_USER, run_id=f"{sid}-r0", index=0, created_at=now)
        writes += 1
        written.release()
    sweeper.join(WAIT)
    [done] = outcome
    if isinstance(done, BaseException):
        raise done
    assert writes == done.batches >= 4
    assert (done.sessions, done.runs, done.held, done.busy) == (10, 30, 2, 0)
    assert live_ids(db, USER) == {"ret-04", "ret-09"}
    assert live_ids(db, LIVE_USER) == {f"live-{n}" for n in range(writes)}
    conn = psycopg2.connect(db.config.dsn)
    with conn.cursor() as cur:
        cur.execute(f'SELECT session_id FROM "{db.config.schema}".agno_sessions_svc_archived_sessions '
                    "WHERE user_id = %s", (USER,))
        assert {r[0] for r in cur.fetchall()} == set(planned.first_ids)
    conn.close()
    # what AgentOS serves from the same tables is what agno-session serves (equal timestamps: its declared tie order)
    for target in (f"/sessions?user_id={USER}", f"/sessions?user_id={LIVE_USER}&sort_order=asc"):
        assert check_read(pair, replay.Request("GET", target), devs) in (None, "tie-order"), target


def test_trim_keeps_the_runs_agno_reads_last(db, pair, agno, devs) -> None:
    now = int(time.time())
    old = now - 10 * DAY
    agno("upsert_session", session_id="ret-long", user_id=USER, created_at=old)
    for i in range(9):
        agno("upsert_run", session_id="ret-long", user_id=USER, run_id=f"ret-long-r{i}", index=i, created_at=old + i)
    policy = Policy(name="trim", after=DAY, action="trim_runs", basis="created", keep_last=4, user_id=USER)
    [planned] = retention.plan(db, (policy,), now, 10)
    assert (planned.sessions, planned.runs) == (1, 5)
    done = retention.sweep(db, policy, now, 10)
    assert (done.sessions, done.runs) == (1, 5)
    runs = replay.send(pair.a.url, replay.Request("GET", "/sessions/ret-long/runs?session_type=agent"))
    assert [r["run_id"] for r in json.loads(runs.body)] == [f"ret-long-r{i}" for i in range(5, 9)]
    assert check_read(pair, replay.Request("GET", "/sessions/ret-long/runs?session_type=agent"), devs) is None
