"""GET /sessions with metadata.<key>=<value>, created_after/before and updated_after/before (extension
`list-filters`) against a real PostgreSQL: string equality on `metadata ->> key`, inclusive epoch-second bounds,
combined with every other filter, sort and page, counted exactly, refused clearly, isolated, and indexed."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from service.cli import migrate
from service.core.config import load_settings
from service.storage import counts
from service.storage.sessions import ListPage, list_statement
from tests.support.jwt_tokens import JWT_ENV, token
from tests.support.plans import explain, plan_nodes
from tests.support.rows import SQL_NULL, Rows

T = 1767225600
APPLIED = "Agno-Session-Applied"
# session id → (type, component, user, created_at, updated_at, metadata); SQL_NULL: the column is SQL NULL
SESSIONS = {
    "gold-str": ("agent", "ag-1", "u1", T, T + 50, {"tier": "gold", "n": "5", "region": "eu"}),
    "gold-num": ("agent", "ag-2", "u2", T + 10, None, {"tier": "gold", "n": 5, "vip": True}),
    "gold-team": ("team", "tm-1", "u1", T + 20, T + 20, {"tier": "gold", "n": 5.0, "vip": "true"}),
    "silver": ("agent", "ag-1", "u1", T + 30, T + 100, {"tier": "silver", "nested": {"a": 1, "b": [1, "x"]}}),
    "case": ("workflow", "wf-1", "u2", T + 40, T + 40, {"tier": "Gold", "vip": False, "none": None}),
    "sql-null": ("agent", "ag-1", "u1", T + 50, T + 60, SQL_NULL),
    "not-object": ("agent", "ag-1", "u1", T + 60, T + 60, ["tier", "gold"]),
    "empty-text": ("team", "tm-1", "u2", T + 70, None, {"tier": "", "lang": "日本語"}),
}


@pytest.fixture
def seeded(rows: Rows) -> Rows:
    for sid, (kind, component, user, created, updated, metadata) in SESSIONS.items():
        rows.session(sid, kind, component_id=component, user_id=user, created_at=created, updated_at=updated,
                     metadata=metadata, session_data={"session_name": f"name {sid}"})
    return rows


def ids(client, **query) -> list[str]:
    response = client.get("/sessions?" + urlencode(query, doseq=True))
    assert response.status_code == 200, response.data
    return sorted(item["session_id"] for item in response.get_json()["data"])


def listing(client, query: str):
    response = client.get(f"/sessions?{query}")
    assert response.status_code == 200, response.data
    return response, response.get_json()


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("tier", "gold", ["gold-num", "gold-str", "gold-team"]),  # case-sensitive: "Gold" is another text
    ("tier", "Gold", ["case"]),
    ("tier", "", ["empty-text"]),  # an empty value is the empty string's text
    ("n", "5", ["gold-num", "gold-str"]),  # the number 5 and the string "5" have the text 5; 5.0 has "5.0"
    ("n", "5.0", ["gold-team"]),
    ("vip", "true", ["gold-num", "gold-team"]),  # the boolean and the string
    ("vip", "false", ["case"]),
    ("none", "null", []),  # a JSON null has no text (->> is SQL NULL): nothing equals it
    ("nested", '{"a": 1, "b": [1, "x"]}', ["silver"]),  # an object's text as jsonb writes it
    ("nested", '{"a":1,"b":[1,"x"]}', []),  # ... and only that text
    ("nested", '{"a": 1}', []),  # containment alone would match: the text does not
    ("lang", "日本語", ["empty-text"]),
    ("missing", "gold", []),
    ("tier", "gold ", []),
    # texts PostgreSQL could not read as jsonb are only compared as text: no error, no match
    ("n", "1e-99999", []),
    ("nested", '[1, 1e-99999]', []),
    ("n", "NaN", []),
    ("nested", '{"a": "\\u0000"}', []),
    ("nested", '{"a": "\\ud800"}', []),
    ("nested", "[" * 5000, []),
])
def test_metadata_is_string_equality_on_the_stored_values_text(client, seeded, key, value, expected) -> None:
    assert ids(client, **{f"metadata.{key}": value}) == expected
    # the rows asked the database the same question: metadata ->> key = value
    found = seeded.execute("SELECT session_id FROM ai.agno_sessions WHERE metadata ->> %s = %s ORDER BY 1",
                           (key, value))
    assert [r[0] for r in found] == expected


def test_repeated_keys_must_all_match_and_an_identical_repeat_counts_once(client, seeded) -> None:
    assert ids(client, **{"metadata.tier": "gold", "metadata.vip": "true"}) == ["gold-num", "gold-team"]
    assert ids(client, **{"metadata.tier": "gold", "metadata.vip": "true", "metadata.n": "5"}) == ["gold-num"]
    response, body = listing(client, "metadata.tier=gold&metadata.tier=gold&metadata.region=eu")
    assert [s["session_id"] for s in body["data"]] == ["gold-str"]
    assert response.headers[APPLIED] == "metadata.*"  # named once, however many keys


def test_date_bounds_are_inclusive_epoch_seconds(client, seeded) -> None:
    assert ids(client, created_after=T + 60) == ["empty-text", "not-object"]
    assert ids(client, created_before=T + 10) == ["gold-num", "gold-str"]
    assert ids(client, created_after=T + 20, created_before=T + 30) == ["gold-team", "silver"]
    assert ids(client, created_after=T + 31, created_before=T + 39) == []
    assert ids(client, created_after=T + 30, created_before=T + 20) == []


def test_updated_bounds_fall_back_to_created_at_as_the_sort_does(client, seeded) -> None:
    # gold-num (created T+10) and empty-text (created T+70) were never updated: they count as updated when created
    assert ids(client, updated_before=T + 10) == ["gold-num"]
    assert ids(client, updated_after=T + 60, updated_before=T + 70) == ["empty-text", "not-object", "sql-null"]
    assert ids(client, updated_after=T + 100) == ["silver"]
    response, body = listing(client, "updated_after=0&sort_by=updated_at&sort_order=asc")
    order = [s["session_id"] for s in body["data"]]
    assert order == ["gold-num", "gold-team", "case", "gold-str", "not-object", "sql-null", "empty-text", "silver"]
    assert response.headers[APPLIED] == "updated_after"


def test_filters_combine_with_every_other_filter_sort_and_page(client, seeded) -> None:
    assert ids(client, **{"metadata.tier": "gold", "type": "agent"}) == ["gold-num", "gold-str"]
    assert ids(client, **{"metadata.tier": "gold", "user_id": "u1"}) == ["gold-str", "gold-team"]
    assert ids(client, **{"metadata.tier": "gold", "component_id": "tm-1"}) == ["gold-team"]
    assert ids(client, **{"metadata.tier": "gold", "session_name": "num"}) == ["gold-num"]
    assert ids(client, **{"metadata.tier": "gold", "created_after": T + 5, "updated_before": T + 20}) == [
        "gold-num", "gold-team"]
    query = "metadata.tier=gold&type=agent&user_id=u1&component_id=ag-1&session_name=gold&created_before=1767225600" \
            "&updated_after=1767225650&updated_before=1767225650"
    response, body = listing(client, query)
    assert [s["session_id"] for s in body["data"]] == ["gold-str"]
    assert response.headers[APPLIED] == "metadata.*,created_before,updated_after,updated_before"
    # pages and sort: the filtered rows, in the asked order, counted once
    pages = [listing(client, f"metadata.tier=gold&sort_by=created_at&sort_order=asc&limit=2&page={p}")[1]
             for p in (1, 2, 3)]
    assert [[s["session_id"] for s in page["data"]] for page in pages] == [["gold-str", "gold-num"], ["gold-team"], []]
    assert all(page["meta"]["total_count"] == 3 and page["meta"]["total_pages"] == 2 for page in pages)


def test_a_plain_list_is_unchanged_and_names_nothing(client, seeded) -> None:
    plain = client.get("/sessions")
    assert APPLIED not in plain.headers
    # a filter that keeps every row answers the same bytes, only with the header
    everything = client.get(f"/sessions?created_after={T}&updated_before={T + 1000}")
    assert everything.data == plain.data and everything.headers[APPLIED] == "created_after,updated_before"


def test_the_total_counts_rows_when_filters_apply_even_with_the_counts_installed(make_app, pg_dsn, rows,
                                                                                 monkeypatch) -> None:
    monkeypatch.setattr(counts, "CHECK_EVERY", 0.0)
    app = make_app()
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), indexes=True)
    for i in range(6):
        rows.session(f"s{i}", "agent", created_at=T + i, metadata={"tier": "gold" if i % 2 else "silver"})
    rows.execute("INSERT INTO ai.agno_sessions_svc_counts VALUES ('agent', 100)")  # a delta no row stands for
    client = app.test_client()
    total = client.get("/sessions?type=agent&limit=1").get_json()["meta"]["total_count"]
    assert total == 106  # the type alone: the counts answer
    for query, expected in (("metadata.tier=gold", 3), ("type=agent&metadata.tier=silver", 3),
                            (f"type=agent&created_after={T + 4}", 2), (f"updated_before={T}", 1)):
        meta = client.get(f"/sessions?{query}&limit=1").get_json()["meta"]
        assert (meta["total_count"], meta["total_pages"]) == (expected, expected), query


@pytest.mark.parametrize(("query", "errors"), [
    ("metadata.=x", [("string_too_short", ["query", "metadata."], "")]),
    ("metadata.tier=gold&metadata.tier=silver", [("metadata_conflict", ["query", "metadata.tier"],
                                                   ["gold", "silver"])]),
    ("created_after=yesterday", [("int_parsing", ["query", "created_after"], "yesterday")]),
    ("updated_before=1.5", [("int_parsing", ["query", "updated_before"], "1.5")]),
    ("created_before=9223372036854775808", [("less_than_equal", ["query", "created_before"],
                                             "9223372036854775808")]),
    ("updated_after=-9223372036854775809", [("greater_than_equal", ["query", "updated_after"],
                                             "-9223372036854775809")]),
    ("metadata.tier=a%00b", [("string_pattern_mismatch", ["query", "metadata.tier"], "a\x00b")]),
    ("metadata.ti%00er=a", [("string_pattern_mismatch", ["query", "metadata.ti\x00er"], "ti\x00er")]),
    ("&".join(f"metadata.k{i}=v" for i in range(17)), [("too_long", ["query", "metadata.*"], None)]),
    ("created_after=x&metadata.=y", [("int_parsing", ["query", "created_after"], "x"),
                                     ("string_too_short", ["query", "metadata."], "")]),
])
def test_bad_filters_are_a_clear_422_and_change_nothing(client, seeded, query, errors) -> None:
    before = seeded.snapshot()
    response = client.get(f"/sessions?{query}")
    assert response.status_code == 422, response.data
    detail = response.get_json()["detail"]
    assert [(e["type"], e["loc"]) for e in detail] == [(t, loc) for t, loc, _ in errors]
    assert [e["input"] for e, (_, _, raw) in zip(detail, errors, strict=True) if raw is not None] == [
        raw for _, _, raw in errors if raw is not None]
    assert all(set(e) <= {"type", "loc", "msg", "input", "ctx"} and e["msg"] for e in detail)
    assert APPLIED not in response.headers
    assert seeded.snapshot() == before


def test_agentos_errors_come_before_the_filters(client, seeded) -> None:
    """AgentOS answers a bad type at once and a bad db_id before anything else; our 422s wait behind both."""
    bad_type = client.get("/sessions?type=robot&metadata.=x").get_json()["detail"]
    assert [e["loc"] for e in bad_type] == [["query", "type"]]
    assert client.get("/sessions?db_id=nope&metadata.=x").status_code == 404


def test_a_scoped_caller_filters_only_its_own_rows(make_app, pg_dsn) -> None:
    client = make_app(**JWT_ENV).test_client()
    rows = Rows(pg_dsn)
    try:
        for sid, user in (("a-gold", "alice"), ("b-gold", "bob"), ("n-gold", None)):
            rows.session(sid, user_id=user, metadata={"tier": "gold"})
        for query in ("metadata.tier=gold", "metadata.tier=gold&user_id=bob", f"created_after={T}"):
            alice = token("alice", scopes=("sessions:read",))
            body = client.get(f"/sessions?{query}", headers=alice).get_json()
            assert [s["session_id"] for s in body["data"]] == ["a-gold"] and body["meta"]["total_count"] == 1
    finally:
        rows.close()


def test_the_metadata_filter_reads_the_gin_index_after_migrate(app, pg_dsn, rows) -> None:
    """On 20,000 sessions the planner answers a selective metadata filter from the GIN index (jsonb_path_ops), the
    exact text check rechecking its candidates; the plain list's plan does not change."""
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), indexes=True)
    rows.execute("""
        INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, metadata, created_at, updated_at)
        SELECT 's-' || g, 'agent', 'ag', 'u-' || (g % 50),
               jsonb_build_object('customer', 'c-' || (g % 4000), 'priority', g % 5, 'channel', 'web'),
               1767225600 + g, 1767225600 + g
        FROM generate_series(1, 20000) g""")
    rows.execute("ANALYZE ai.agno_sessions")
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    for metadata, found in (([["customer", "c-42"]], 5), ([["customer", "c-42"], ["priority", "2"]], 5)):
        filters = {"session_type": None, "component_id": None, "session_name": None, "user_id": None,
                   "metadata": metadata}
        fragments, params = list_statement(filters, "created_at", "desc", ListPage(20, 1), counts.COUNT_ROWS,
                                           db.identifiers["runs"])
        plan = explain(rows, db, "list_sessions", fragments, params)
        scans = [n for n in plan_nodes(plan) if n["Node Type"] == "Bitmap Index Scan"]
        assert scans and all(n["Index Name"] == "agno_sessions_svc_metadata" for n in scans), plan
        heap = [n for n in plan_nodes(plan) if n["Node Type"] == "Bitmap Heap Scan"]
        assert heap and all(n["Actual Rows"] <= found for n in heap)  # the candidates, not the table
        assert not any(n["Node Type"] == "Seq Scan" and n["Relation Name"] == "agno_sessions" for n in plan_nodes(plan))
