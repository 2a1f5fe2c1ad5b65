"""Erasure with receipts against what agno 3.1.10 itself writes: two users' sessions, runs, memories, offloaded tool
results with their payloads, transcripts and compactions (tests/contract/agno_writer.py), one session archived and
one held. agno-session (gunicorn, its workers' erasure threads) erases one user; afterwards a scan of every table of
the database (every text, varchar, json and jsonb column, found in the catalog) finds that user nowhere, every other
row is as it was, the dry run counted what the job deleted, and the receipt row keeps no raw user id."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import psycopg2
import pytest

from service.core.config import DatabaseConfig
from service.storage import lifecycle
from service.storage.registry import open_database
from tests.contract import replay
from tests.contract.agno_client import T0
from tests.contract.harness import ERASURE_KEY, Cluster, Pair, migrate

SUBJECT, OTHER = "erase-subject-5d1c", "erase-bystander-8b2e"
FINISH_WITHIN = 120  # seconds for a job of a few dozen rows: generous for a loaded machine, never met when it works
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


@pytest.fixture(autouse=True)
def _seeded(cluster: Cluster, pair: Pair) -> Iterator[None]:
    """The seed, with the lifecycle's tables installed as an operator would; the seed again afterwards (the rows
    this test wrote beside agno's sessions go with their sessions, or were erased)."""
    cluster.restore()
    migrate(pair.databases, "--lifecycle")
    yield
    cluster.restore()


def _write(agno, user: str, other_user: str) -> None:
    """Two sessions of `user` with runs (one with every kind of related row), a run `user` wrote in a session of
    `other_user`'s, and two memories."""
    for s in range(2):
        sid = f"{user}-s{s}"
        agno("upsert_session", session_id=sid, user_id=user, created_at=T0 + s, name=f"chat {s}")
        for r in range(3):
            agno("upsert_run", session_id=sid, user_id=user, run_id=f"{sid}-r{r}", index=r, created_at=T0 + 10 + r,
                 prompt=f"question from {user}")
    agno("side_rows", session_id=f"{user}-s0", user_id=user)
    agno("upsert_run", session_id=f"{other_user}-s1", user_id=user, run_id=f"{user}-guest-run", index=9,
         created_at=T0 + 50)
    for m in range(2):
        agno("upsert_memory", memory_id=f"{user}-m{m}", user_id=user, memory=f"{user} likes tea", topics=["tea"])


def _connect(pair: Pair):
    conn = psycopg2.connect(pair.databases[0].dsn)
    conn.autocommit = True
    return conn


def _text_columns(cur) -> list[tuple[str, str, str]]:
    """Every text-like column of every table in the database's own schemas, from the catalog."""
    cur.execute("SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN information_schema.tables t USING (table_schema, table_name) "
                "WHERE t.table_type = 'BASE TABLE' AND c.data_type = ANY(%s) "
                "AND c.table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3",
                (list(TEXT_TYPES),))
    return cur.fetchall()


def _scan(pair: Pair, needle: str) -> dict[str, int]:
    """Rows per `schema.table.column` whose text holds `needle`."""
    found = {}
    with _connect(pair) as conn, conn.cursor() as cur:
        for schema, table, column in _text_columns(cur):
            cur.execute(psycopg2.sql.SQL("SELECT count(*) FROM {} WHERE position(%s IN {}::text) > 0").format(
                psycopg2.sql.Identifier(schema, table), psycopg2.sql.Identifier(column)), (needle,))
            n = cur.fetchone()[0]
            if n:
                found[f"{schema}.{table}.{column}"] = n
    return found


def _rows_without(pair: Pair, needle: str) -> dict[str, list[str]]:
    """Every row of every table (this service's own bookkeeping tables aside, the archive kept) that does not hold
    `needle`, as PostgreSQL's row text."""
    rows = {}
    with _connect(pair) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                    "AND table_schema NOT IN ('pg_catalog', 'information_schema') "
                    "AND (table_name NOT LIKE '%%\\_svc\\_%%' OR table_name LIKE '%%\\_svc\\_archived\\_%%')")
        for schema, table in cur.fetchall():
            cur.execute(psycopg2.sql.SQL("SELECT t::text FROM {} t WHERE position(%s IN t::text) = 0").format(
                psycopg2.sql.Identifier(schema, table)), (needle,))
            rows[f"{schema}.{table}"] = sorted(r[0] for r in cur.fetchall())
    return rows


def _post(pair: Pair, body: dict) -> replay.Response:
    return replay.send(pair.b.url, replay.Request("POST", "/sessions/-/erase", body=json.dumps(body).encode()))


def _follow(pair: Pair, location: str) -> dict:
    """GET the job until it has ended (the workers' erasure threads run it)."""
    deadline = time.monotonic() + FINISH_WITHIN
    while True:
        response = replay.send(pair.b.url, replay.Request("GET", location))
        assert response.status == 200, response.body
        body = json.loads(response.body)
        if body["state"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_after_an_erasure_no_table_holds_the_user_and_every_other_row_is_kept(pair, agno) -> None:
    agno("upsert_session", session_id=f"{OTHER}-s1", user_id=OTHER, created_at=T0)  # the guest run's session
    _write(agno, SUBJECT, OTHER)
    _write(agno, OTHER, SUBJECT)
    db = open_database(DatabaseConfig("contract", pair.databases[0].dsn), 1, 30)
    try:  # one of the subject's sessions archived, one held
        with db.transaction() as cur:
            lifecycle.archive_in(db, cur, [f"{SUBJECT}-s1"], None, "contract", "old", T0)
    finally:
        db.close()
    with _connect(pair) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO ai.agno_sessions_svc_holds (session_id, reason, until, held_by, held_at) "
                    "VALUES (%s, 'case 1', NULL, 'legal', %s)", (f"{SUBJECT}-s0", T0))
    before = _scan(pair, SUBJECT)
    for table in ("ai.agno_sessions", "ai.agno_runs", "ai.agno_memories", "ai.agno_tool_results", "fs.agno_fs",
                  "ai.agno_compactions", "ai.agno_transcripts", "ai.agno_sessions_svc_archived_sessions",
                  "ai.agno_sessions_svc_archived_runs", "ai.agno_sessions_svc_holds"):
        assert any(key.startswith(table + ".") for key in before), (table, before)  # the scan sees every kind
    kept = _rows_without(pair, SUBJECT)

    for dry_run in (True, False):  # the hold refuses both, and nothing changes
        refused = _post(pair, {"user_id": SUBJECT, "dry_run": dry_run})
        assert (refused.status, refused.body) == (409, b'{"detail":"Session is under legal hold"}')
    assert _scan(pair, SUBJECT) == before

    dry = _post(pair, {"user_id": SUBJECT, "dry_run": True, "override_holds": True})
    assert dry.status == 200, dry.body
    counted = json.loads(dry.body)["counts"]
    assert counted == {"runs": 4, "archived_runs": 4, "tool_result_payloads": 2, "tool_results": 2,
                       "transcripts": 4, "compactions": 1, "memories": 2, "holds": 1, "sessions": 1,
                       "archived_sessions": 1} | ({"idempotency_keys": 0} if "idempotency_keys" in counted else {})
    accepted = _post(pair, {"user_id": SUBJECT, "override_holds": True})
    assert accepted.status == 202, accepted.body
    location = accepted.headers["location"]
    receipt = _follow(pair, location)
    assert receipt["state"] == "done", receipt
    assert receipt["counts"] == counted  # the dry run counted exactly what the job deleted
    assert set(receipt) == {"receipt_id", "state", "user_hash", "counts", "started_at", "finished_at"}
    assert receipt["user_hash"] == hmac.new(ERASURE_KEY.encode(), SUBJECT.encode(), hashlib.sha256).hexdigest()
    assert location == f"/sessions/-/erasures/{receipt['receipt_id']}"

    assert _scan(pair, SUBJECT) == {}  # no column of any table holds the user any more
    assert _rows_without(pair, SUBJECT) == kept  # and every row that did not is still there, unchanged
    assert _scan(pair, OTHER)  # the other user's rows were never touched (they are part of `kept`)
