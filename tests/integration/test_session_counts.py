"""The list's total from trigger-kept counts (`migrate --indexes`): exact under every kind of write, used only
while it can be trusted, and kept small."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from service.cli import migrate
from service.core.config import load_settings
from service.storage import counts

COUNTS = "ai.agno_sessions_svc_counts"
TYPES = ("agent", "team", "workflow")


@pytest.fixture
def counted(make_app, pg_dsn, rows, monkeypatch):
    """An app whose database has the counts installed, re-checked on every list."""
    monkeypatch.setattr(counts, "CHECK_EVERY", 0.0)
    app = make_app()
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), indexes=True)
    return app


def totals(client) -> dict[str, int]:
    """The list's total_count for each type."""
    return {t: client.get(f"/sessions?type={t}&limit=1").get_json()["meta"]["total_count"] for t in TYPES}


def true_totals(rows) -> dict[str, int]:
    found = dict(rows.execute("SELECT session_type, count(*) FROM ai.agno_sessions GROUP BY 1"))
    return {t: found.get(t, 0) for t in TYPES}


def delta_rows(rows) -> int:
    return rows.execute(f"SELECT count(*) FROM {COUNTS}")[0][0]


def test_existing_rows_are_counted_at_install_and_the_list_reads_the_counts(make_app, pg_dsn, rows, monkeypatch):
    monkeypatch.setattr(counts, "CHECK_EVERY", 0.0)
    app = make_app()
    for i in range(5):
        rows.session(f"a{i}", "agent")
    rows.session("t0", "team")
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), indexes=True)
    client = app.test_client()
    assert totals(client) == {"agent": 5, "team": 1, "workflow": 0}
    # A delta nobody wrote through the table shows up in the total: the list really reads the counts.
    rows.execute(f"INSERT INTO {COUNTS} VALUES ('agent', 100)")
    assert totals(client)["agent"] == 105
    # Filters other than type still count rows.
    assert client.get("/sessions?type=agent&user_id=nobody").get_json()["meta"]["total_count"] == 0


def test_every_kind_of_write_keeps_the_total_exact(counted, rows):
    client = counted.test_client()
    for i in range(3):
        assert client.post("/sessions?type=agent", json={"session_id": f"api-{i}"}).status_code == 201
    rows.session("raw-team", "team")
    rows.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) "
                 "SELECT 'bulk-' || g, 'workflow', 1 FROM generate_series(1, 7) g")
    assert totals(client) == true_totals(rows) == {"agent": 3, "team": 1, "workflow": 7}
    # agno's upsert: ON CONFLICT DO UPDATE, once changing the type and once not.
    upsert = ("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES (%s, %s, 1) "
              "ON CONFLICT (session_id) DO UPDATE SET session_type = EXCLUDED.session_type")
    rows.execute(upsert, ("api-0", "team"))
    rows.execute(upsert, ("api-1", "agent"))
    rows.execute("UPDATE ai.agno_sessions SET updated_at = 5")
    assert totals(client) == true_totals(rows) == {"agent": 2, "team": 2, "workflow": 7}
    assert client.delete("/sessions/api-1?type=agent").status_code == 204
    assert client.delete("/sessions", json={"session_ids": ["bulk-1", "bulk-2"],
                                               "session_types": ["workflow", "workflow"]}).status_code == 204
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 'raw-team'")
    assert totals(client) == true_totals(rows) == {"agent": 1, "team": 1, "workflow": 5}
    # A rolled-back write leaves no delta behind.
    conn = psycopg2.connect(rows.conn.dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES ('gone', 'team', 1)")
    conn.rollback()
    conn.close()
    # Logical replication apply and pg_restore write as session_replication_role = replica: still counted.
    rows.execute("SET session_replication_role = replica")
    rows.session("replicated", "agent")
    rows.execute("SET session_replication_role = DEFAULT")
    assert totals(client) == true_totals(rows) == {"agent": 2, "team": 1, "workflow": 5}
    rows.execute("TRUNCATE ai.agno_sessions CASCADE")
    assert totals(client) == {"agent": 0, "team": 0, "workflow": 0}


def test_an_uncommitted_write_is_not_counted_and_a_committed_one_is(counted, rows):
    client = counted.test_client()
    rows.session("seen", "agent")
    conn = psycopg2.connect(rows.conn.dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) "
                        "VALUES ('open', 'agent', 2)")
        body = client.get("/sessions?type=agent").get_json()
        assert body["meta"]["total_count"] == len(body["data"]) == 1
        conn.commit()
    finally:
        conn.close()
    body = client.get("/sessions?type=agent").get_json()
    assert body["meta"]["total_count"] == len(body["data"]) == 2


def test_concurrent_writers_and_readers_agree_with_the_rows(counted, rows):
    """Creates and deletes from 6 threads while lists read: every page agrees with its own total, and the
    final totals equal count(*)."""
    errors: list[str] = []

    def writer(n: int) -> None:
        client = counted.test_client()
        for i in range(25):
            kind = TYPES[(n + i) % 3]
            sid = f"c{n}-{i}"
            if client.post(f"/sessions?type={kind}", json={"session_id": sid}).status_code != 201:
                errors.append(f"create {sid}")
            if i % 3 == 0 and client.delete(f"/sessions/{sid}?type={kind}").status_code != 204:
                errors.append(f"delete {sid}")

    def reader() -> None:
        client = counted.test_client()
        for _ in range(40):
            body = client.get("/sessions?type=agent&limit=500").get_json()
            if body["meta"]["total_count"] != len(body["data"]):
                errors.append(f"total {body['meta']['total_count']} for {len(body['data'])} rows")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)] + [threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert totals(counted.test_client()) == true_totals(rows)


def test_delta_rows_are_folded_once_a_list_sums_too_many(counted, rows):
    client = counted.test_client()
    for i in range(counts.COMPACT_AT + 5):  # one statement, one delta row each
        rows.session(f"s{i}", "agent")
    rows.session("t", "team")
    rows.session("w", "workflow")
    expected = true_totals(rows)
    assert totals(client) == expected  # the agent list sums more than COMPACT_AT rows, then folds them all
    assert delta_rows(rows) == 3
    assert totals(client) == expected


@pytest.mark.parametrize("sabotage", [
    "ALTER TABLE ai.agno_sessions DISABLE TRIGGER agno_sessions_svc_count_insert",
    "DROP TRIGGER agno_sessions_svc_count_delete ON ai.agno_sessions",
    "DROP TABLE ai.agno_sessions_svc_counts CASCADE",
])
def test_counts_that_cannot_be_trusted_are_not_used(counted, rows, sabotage):
    client = counted.test_client()
    rows.session("a", "agent")
    rows.execute(sabotage)
    rows.session("b", "agent")
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 'a'")
    rows.session("c", "agent")
    assert totals(client) == true_totals(rows) == {"agent": 2, "team": 0, "workflow": 0}


def test_a_counts_table_dropped_after_the_check_falls_back_to_counting(counted, rows, monkeypatch):
    client = counted.test_client()
    rows.session("a", "agent")
    assert totals(client)["agent"] == 1
    monkeypatch.setattr(counts, "CHECK_EVERY", 3600.0)  # the last answer ("ready") is trusted from here on
    rows.execute(f"DROP TABLE {COUNTS} CASCADE")
    rows.session("b", "agent")
    response = client.get("/sessions?type=agent")
    assert response.status_code == 200 and response.get_json()["meta"]["total_count"] == 2
