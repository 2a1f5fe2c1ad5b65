"""The search index answers exactly what the scan answers (extensions `message-search`, `session-search`): the same
hits, ranks, snippets and pages, byte for byte, before and after `migrate --search` on the same data, for every
mode and filter and the list's `q=`; and the indexed statement finds its matches through the GIN index at 20k
sessions / 100k messages."""

from __future__ import annotations

import json
import random

from psycopg2 import sql

from service.cli import migrate
from service.core.config import load_settings
from service.storage import search, search_index, search_terms
from service.storage.registry import open_database
from service.storage.search_terms import Search
from tests.support.search_rows import PENDING, drain

QUERIES = [
    "q=invoice", "q=invoice wrong", "q=wrong invoice&mode=phrase", "q=invo corr&mode=prefix",
    "q=it's \\ 'odd'&mode=prefix", "q=!!!", "q=invoice&type=team", "q=invoice&component_id=agent-1",
    "q=invoice&user_id=u2", "q=invoice&role=assistant", "q=invoice&created_after=150", "q=invoice&created_before=100",
    "q=apple&limit=3", "q=billing", "q=tart pie",
]


def _run(rows, session_id: str, run_id: str, *texts: str, created_at: int = 1767225610, **extra) -> None:
    messages = [{"role": "user" if n % 2 == 0 else "assistant", "content": text, **extra}
                for n, text in enumerate(texts)]
    rows.run(session_id, {"run_id": run_id, "agent_id": "agent-1", "messages": messages}, created_at=created_at)


def _seed(rows) -> None:
    rows.session("s1", "agent", component_id="agent-1", user_id="u1", session_data={"session_name": "Billing"})
    rows.session("s2", "team", component_id="team-1", user_id="u2")
    _run(rows, "s1", "r1", "my invoice is wrong & 2 < 3", "the invoice was corrected", created_at=100)
    rows.run("s2", {"run_id": "r2", "team_id": "team-1", "messages": [
        {"role": "user", "content": "wrong invoice again", "id": "m-7", "created_at": 200},
        {"role": "assistant", "content": [{"type": "text", "text": "an <b>invoice</b> part"}, {"type": "image"}]},
        {"role": "system", "content": "invoice system prompt"},
        {"role": "user", "content": "invoice from history", "from_history": True}]}, created_at=150)
    rng = random.Random(20)
    words = ["apple", "pie", "tart", "invoice", "plum", "wrong"]
    for s in range(3, 12):
        rows.session(f"s{s}", "agent", component_id="agent-1", user_id=f"u{s % 3}")
        for n in range(rng.randint(1, 3)):  # equal ranks and times on purpose: the order must still be total
            _run(rows, f"s{s}", f"s{s}-r{n}", *(" ".join(rng.choices(words, k=3)) for _ in range(3)),
                 created_at=100 + n % 2)


def _answers(client) -> dict[str, tuple]:
    """Every query's pages (walked along their cursors) and the list's q= pages, with the mode each announced."""
    out = {}
    for query in QUERIES:
        pages, url = [], f"/sessions/-/search?{query}"
        while url:
            response = client.get(url)
            assert response.status_code == 200, (query, response.data)
            body = response.get_json()
            pages.append((response.headers["Agno-Search-Mode"], body))
            url = f"/sessions/-/search?{query}&after={body['next_cursor']}" if body["next_cursor"] else None
        out[query] = pages
    for query in ("q=invoice", "q=billing", "q=apple&limit=2&page=2", "q=apple&cursor=&limit=3"):
        response = client.get(f"/sessions?{query}")
        out["list " + query] = [(response.headers["Agno-Search-Mode"], response.get_json())]
    return out


def test_the_index_answers_what_the_scan_answers(app, client, rows, pg_dsn) -> None:
    _seed(rows)
    scanned = _answers(client)
    assert {mode for pages in scanned.values() for mode, _ in pages} == {"scan"}
    assert sum(len(body["data"]) for pages in scanned.values() for _, body in pages) > 40  # the queries find things
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), search=True)
    search_index.forget(next(iter(app.config["REGISTRY"])))  # the app looks at the catalog again now
    indexed = _answers(client)
    assert {mode for pages in indexed.values() for mode, _ in pages} == {"index"}
    for query, pages in scanned.items():
        assert [body for _, body in indexed[query]] == [body for _, body in pages], query


def test_queued_runs_are_answered_as_the_drained_index_and_the_scan_answer(app, client, rows, pg_dsn) -> None:
    _seed(rows)
    settings = load_settings({"AGNO_PG_DSN": pg_dsn})
    migrate(settings, search=True)
    db = next(iter(app.config["REGISTRY"]))
    search_index.forget(db)
    # Writes after the index is complete: a new run, a rewritten one (its old rows still in the table), a new
    # session: each only queued by its writer's trigger until a drain.
    rewritten = {"run_id": "r1", "agent_id": "agent-1", "messages": [
        {"role": "user", "content": "my invoice is right now"}, {"role": "assistant", "content": "apple tart invoice"}]}
    rows.execute("UPDATE ai.agno_runs SET run_data = %s WHERE run_id = 'r1'", (json.dumps(rewritten),))
    _run(rows, "s3", "s3-late", "wrong apple invoice", "pie", created_at=300)
    rows.session("s40", "agent", component_id="agent-1", user_id="u1")
    _run(rows, "s40", "s40-r0", "billing apple wrong", created_at=250)
    assert rows.execute(PENDING) == [(3,)]
    queued = _answers(client)
    assert {mode for pages in queued.values() for mode, _ in pages} == {"index"}
    assert drain(pg_dsn) == 3
    drained = _answers(client)
    migrate(settings, drop_search=True)
    search_index.forget(db)
    scanned = _answers(client)
    assert {mode for pages in scanned.values() for mode, _ in pages} == {"scan"}
    for query, pages in scanned.items():
        expected = [body for _, body in pages]
        assert [body for _, body in queued[query]] == expected, query
        assert [body for _, body in drained[query]] == expected, query
    assert any("right" in hit["snippet"] for hit in scanned["q=invoice"][0][1]["data"])  # the rewrite is what counts


def _walk(client, query: str) -> tuple[set[str], list[dict]]:
    """One search's pages along its cursors: the orders its pages announced and every hit, in order."""
    orders, hits, url = set(), [], f"/sessions/-/search?{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, (query, response.data)
        orders.add(response.headers["Agno-Search-Order"])
        body = response.get_json()
        hits += body["data"]
        url = f"/sessions/-/search?{query}&after={body['next_cursor']}" if body["next_cursor"] else None
    return orders, hits


def test_broad_searches_come_newest_first_the_same_from_the_index_and_the_scan(app, client, rows, pg_dsn,
                                                                              monkeypatch) -> None:
    _seed(rows)
    _run(rows, "s3", "s3-late", "wrong apple invoice", "pie", created_at=300)
    ranked = {query: _walk(client, query) for query in QUERIES}  # the scan, every search ranked
    assert {order for orders, _ in ranked.values() for order in orders} == {"relevance"}
    monkeypatch.setattr(search_terms, "MAX_RANKED", 3)  # more than 3 matches: newest first
    monkeypatch.setattr(search_terms, "ESTIMATED_BROAD", 10**9)  # decided by counting, as the scan decides
    scanned = {query: _walk(client, query) for query in QUERIES}
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), search=True)
    search_index.forget(next(iter(app.config["REGISTRY"])))
    rows.execute("UPDATE ai.agno_runs SET run_data = run_data WHERE run_id = 's3-late'")  # queued: read itself
    assert rows.execute(PENDING) == [(1,)]
    indexed = {query: _walk(client, query) for query in QUERIES}
    broad = 0
    for query, (orders, hits) in scanned.items():
        assert indexed[query] == (orders, hits), query
        matches = len(ranked[query][1])
        assert orders == {"recent" if matches > 3 else "relevance"}, query
        # The same matches either way, each once; newest first (then session, run, position) when broad.
        keys = [(h["session_id"], h["message"]) for h in hits]
        assert sorted(keys) == sorted((h["session_id"], h["message"]) for h in ranked[query][1]), query
        assert len(set(keys)) == len(keys), query
        if orders == {"recent"}:
            broad += 1
            stamps = [h["created_at"] for h in hits]
            assert stamps == sorted(stamps, reverse=True), query
    assert broad >= 5


def test_a_search_estimated_far_past_the_cap_goes_newest_first_without_counting(app, client, rows, pg_dsn,
                                                                              monkeypatch) -> None:
    _seed(rows)
    ranked = _walk(client, "q=invoice")[1]
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), search=True)
    search_index.forget(next(iter(app.config["REGISTRY"])))
    assert _walk(client, "q=invoice&limit=2")[0] == {"relevance"}  # 5 matches, under the cap
    monkeypatch.setattr(search_terms, "ESTIMATED_BROAD", 0)  # any estimate is past it now
    orders, hits = _walk(client, "q=invoice&limit=2")
    assert orders == {"recent"}
    assert sorted((h["session_id"], h["message"]) for h in hits) == sorted((h["session_id"], h["message"])
                                                                           for h in ranked)
    assert [h["created_at"] for h in hits] == sorted((h["created_at"] for h in hits), reverse=True)


def test_the_gin_index_finds_the_matches_at_20k_sessions(make_app, pg_dsn, rows) -> None:
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
        asked = Search("word50003", "words", {}, "simple", 20)
        hits = search.message_hits(db, asked)
        assert [(h["session_id"], h["run_id"], h["position"]) for h in hits] == [("s10000", "r10000", 3)]
        statement = db.query("search_messages", **{**search.hits_fragments(db, asked), "no_jit": sql.SQL("")})
        with db.transaction() as cur:
            cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, asked.params())
            plan = json.dumps(cur.fetchone())
        assert "agno_sessions_svc_search_doc" in plan and "Bitmap Index Scan" in plan
    finally:
        db.close()
