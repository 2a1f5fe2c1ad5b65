"""search_messages over the index: the three modes, every filter, the total order walked page by page with keys,
escaped snippets with marks, and the GIN index used at 20k sessions / 100k messages."""

from __future__ import annotations

import json

import pytest
from psycopg2 import sql

from service.cli import migrate
from service.core.config import load_settings
from service.storage.registry import open_database
from service.storage.search import SearchKey, search_messages, search_statement


@pytest.fixture
def db(make_app, pg_dsn):
    make_app()
    settings = load_settings({"AGNO_PG_DSN": pg_dsn})
    migrate(settings, search=True)
    handle = open_database(settings.databases[0], 2, 30.0)
    yield handle
    handle.close()


def run(rows, session_id: str, run_id: str, *texts: str, created_at: int = 1767225610, **extra) -> None:
    messages = [{"role": "user" if n % 2 == 0 else "assistant", "content": text, **extra}
                for n, text in enumerate(texts)]
    rows.run(session_id, {"run_id": run_id, "agent_id": "agent-1", "messages": messages}, created_at=created_at)


def test_modes_filters_references_and_snippets(db, rows):
    rows.session("s1", "agent", component_id="agent-1", user_id="u1", session_data={"session_name": "Billing"})
    rows.session("s2", "team", component_id="team-1", user_id="u2")
    run(rows, "s1", "r1", "my invoice is wrong & 2 < 3", "the invoice was corrected", created_at=100)
    rows.run("s2", {"run_id": "r2", "team_id": "team-1", "messages": [
        {"role": "user", "content": "wrong invoice again", "id": "m-7", "created_at": 200}]}, created_at=150)
    found = search_messages(db, "invoice")
    assert [(h["session_id"], h["message"]) for h in found] == [("s2", "m-7"), ("s1", "r1#0"), ("s1", "r1#1")]
    first = next(h for h in found if h["message"] == "r1#0")
    assert first["snippet"] == "my <mark>invoice</mark> is wrong &amp; 2 &lt; 3"
    assert first["stored_name"] == "Billing" and first["role"] == "user" and first["created_at"] == 100
    assert first["session_type"] == "agent" and first["component_id"] == "agent-1" and first["user_id"] == "u1"
    assert {h["message"] for h in search_messages(db, "invoice wrong")} == {"m-7", "r1#0"}
    assert {h["message"] for h in search_messages(db, "invoice wrong", mode="phrase")} == set()
    assert {h["message"] for h in search_messages(db, "wrong invoice", mode="phrase")} == {"m-7"}
    assert {h["message"] for h in search_messages(db, "invo corr", mode="prefix")} == {"r1#1"}
    assert search_messages(db, "it's \\ 'odd'", mode="prefix") == []
    assert search_messages(db, "!!!", mode="prefix") == []
    assert {h["message"] for h in search_messages(db, "invoice", session_type="team")} == {"m-7"}
    assert {h["message"] for h in search_messages(db, "invoice", component_id="agent-1")} == {"r1#0", "r1#1"}
    assert {h["message"] for h in search_messages(db, "invoice", user_id="u2")} == {"m-7"}
    assert {h["message"] for h in search_messages(db, "invoice", role="assistant")} == {"r1#1"}
    assert {h["message"] for h in search_messages(db, "invoice", created_after=150)} == {"m-7"}
    assert {h["message"] for h in search_messages(db, "invoice", created_before=100)} == {"r1#0", "r1#1"}
    assert search_messages(db, "billing") == []  # the name row is for the list's q=, not a message
    with pytest.raises(ValueError):
        search_messages(db, "x", mode="regex")


def test_pages_walk_the_total_order_once(db, rows):
    rows.session("s1", "agent", component_id="agent-1")
    rows.session("s2", "agent", component_id="agent-1")
    for n in range(7):  # equal ranks and equal times: the order still is total
        run(rows, "s1" if n % 2 else "s2", f"r{n}", "apple pie", "apple apple tart", created_at=100 + n % 3)
    everything = search_messages(db, "apple", limit=100)
    assert len(everything) == 14
    keys = [h["key"] for h in everything]
    assert keys == sorted(keys, key=lambda k: (-k.rank, -k.created_at, k.session_id, k.run_id, k.position))
    walked, after = [], None
    while True:
        page = search_messages(db, "apple", after=after, limit=4)
        walked += page[:3]
        if len(page) < 4:
            break
        after = page[2]["key"]
    assert [h["key"] for h in walked] == keys
    assert isinstance(after, SearchKey)


def test_the_gin_index_finds_the_matches_at_20k_sessions(make_app, pg_dsn, rows):
    make_app()
    rows.execute(
        "INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, created_at) "
        "SELECT 's' || g, 'agent', 'agent-1', 'u' || (g % 50), 1767225600 + g FROM generate_series(1, 20000) g")
    words = "(ARRAY['alpha','bravo','charlie','delta','echo','foxtrot','golf','hotel','india','juliet'])"
    rows.execute(
        "INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_index, run_data, created_at) "
        "SELECT 'r' || g, 's' || g, 'agent', 0, jsonb_build_object('run_id', 'r' || g, 'agent_id', 'agent-1', "
        "'messages', (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN k % 2 = 0 THEN 'user' ELSE 'assistant' "
        f"END, 'content', {words}[1 + (g + k) % 10] || ' ' || {words}[1 + (g * k) % 10] || ' word' || (g * 5 + k))) "
        "FROM generate_series(0, 4) k)), 1767225600 + g FROM generate_series(1, 20000) g")
    settings = load_settings({"AGNO_PG_DSN": pg_dsn})
    migrate(settings, search=True)
    rows.execute("ANALYZE ai.agno_sessions_svc_search")
    assert rows.execute("SELECT count(*) FROM ai.agno_sessions_svc_search") == [(100_000,)]
    db = open_database(settings.databases[0], 1, 30.0)
    try:
        hits = search_messages(db, "word50003")
        assert [(h["session_id"], h["message"]) for h in hits] == [("s10000", "r10000#3")]
        fragments, params = search_statement(db, "word50003", limit=21)
        with db.transaction() as cur:
            cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + db.query("search_messages", **fragments), params)
            plan = json.dumps(cur.fetchone())
        assert "agno_sessions_svc_search_doc" in plan and "Bitmap Index Scan" in plan
    finally:
        db.close()
