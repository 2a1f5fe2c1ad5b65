"""GET /sessions against a real PostgreSQL: filters, paging, sorting, derived names, one query per request."""

from __future__ import annotations

import pytest

from tests.support.rows import SQL_NULL


def user_msg(text: object, **extra: object) -> dict:
    return {"role": "user", "content": text, **extra}


@pytest.fixture
def seeded(rows):
    """Three types, named and unnamed, with runs shaped as agno writes them."""
    rows.session("a-named", "agent", component_id="basic-agent", user_id="u1", created_at=1767225600,
                 session_data={"session_name": "Trip planning", "session_state": {"city": "Tokyo"},
                               "session_metrics": {"input_tokens": 40, "total_tokens": 60}},
                 agent_data={"name": "Basic", "sdk": "ext-sdk"}, metadata={"tag": "demo"},
                 summary={"topics": ["t"], "summary": "S", "updated_at": "2026-01-01T02:00:00"})
    rows.session("a-derived", "agent", component_id="basic-agent", user_id="u2", created_at=1767229200,
                 session_data={"session_state": {}})
    rows.run("a-derived", {"run_id": "r1", "agent_id": "basic-agent", "messages": [
        {"role": "system", "content": "sys"}, user_msg(""), user_msg("First question")]})
    rows.run("a-derived", {"run_id": "r2", "agent_id": "basic-agent", "messages": [user_msg("Later")]})
    rows.session("t-derived", "team", component_id="research-team", user_id="u2", created_at=1767231000)
    rows.run("t-derived", {"run_id": "t-m", "agent_id": "member", "messages": [user_msg("member says")]},
             run_index=0)
    rows.run("t-derived", {"run_id": "t-l", "team_id": "research-team", "input": {"input_content": "x"},
                           "messages": [user_msg("Compare Rust and Go")]}, run_index=1)
    rows.session("w-input", "workflow", component_id="content-workflow", created_at=1767232800,
                 workflow_data={"name": "Content Workflow"})
    rows.run("w-input", {"run_id": "w1", "workflow_id": "content-workflow", "input": {"topic": "ocean", "n": 2}})
    rows.session("w-none", "workflow", component_id="content-workflow", created_at=1767236400,
                 workflow_data={"name": "Content Workflow"}, updated_at=None)
    rows.run("w-none", {"run_id": "w2", "workflow_id": "content-workflow", "input": [1, 2]})
    rows.session("a-input-only", "agent", component_id="basic-agent", created_at=1767240000,
                 session_data=SQL_NULL)
    rows.run("a-input-only", {"run_id": "r3", "agent_id": "basic-agent", "input": {"input_content": "no messages"}})
    return rows


def names(client, query: str = "") -> list[tuple[str, str]]:
    body = client.get(f"/sessions{query}").get_json()
    return [(item["session_id"], item["session_name"]) for item in body["data"]]


def test_default_page_is_created_at_desc_with_exact_meta(client, seeded) -> None:
    response = client.get("/sessions")
    assert response.status_code == 200 and response.content_type == "application/json"
    body = response.get_json()
    assert [s["session_id"] for s in body["data"]] == ["a-input-only", "w-none", "w-input", "t-derived",
                                                       "a-derived", "a-named"]
    assert response.data.endswith(b'"meta":{"page":1,"limit":20,"total_pages":1,"total_count":6,"search_time_ms":0.0}}')


def test_full_agent_item_is_byte_exact(client, seeded) -> None:
    response = client.get("/sessions?type=agent&user_id=u1")
    assert response.data == (
        b'{"data":[{"session_id":"a-named","session_name":"Trip planning","session_state":{"city":"Tokyo"},'
        b'"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","session_type":"agent",'
        b'"user_id":"u1","agent_id":"basic-agent","session_summary":{"topics":["t"],"summary":"S",'
        b'"updated_at":"2026-01-01T02:00:00"},"metrics":{"input_tokens":40,"total_tokens":60},"total_tokens":60,'
        b'"metadata":{"tag":"demo","sdk":"ext-sdk"}}],'
        b'"meta":{"page":1,"limit":20,"total_pages":1,"total_count":1,"search_time_ms":0.0}}'
    )


def test_derived_names_follow_agentos_rules(client, seeded) -> None:
    derived = dict(names(client))
    assert derived["a-derived"] == "First question"  # first user message with truthy content
    assert derived["t-derived"] == "Compare Rust and Go"  # member runs (agent_id) are skipped for teams
    assert derived["w-input"] == '{"n": 2, "topic": "ocean"}'  # json.dumps of the input, JSONB key order
    assert derived["w-none"] == "New Content Workflow Session"  # non-str/dict input
    assert derived["a-input-only"] == '{\n  "input_content": "no messages"\n}'
    assert derived["a-named"] == "Trip planning"


def test_updated_at_is_omitted_when_null_in_the_list(client, seeded) -> None:
    item = next(s for s in client.get("/sessions?type=workflow").get_json()["data"] if s["session_id"] == "w-none")
    assert "updated_at" not in item
    assert item["metadata"] == {} and "session_state" not in item


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?type=team", ["t-derived"]),
        ("?component_id=content-workflow", ["w-none", "w-input"]),
        ("?type=agent&component_id=content-workflow", []),
        ("?user_id=u2", ["t-derived", "a-derived"]),
        ("?user_id=", []),
        ("?session_name=TRIP", ["a-named"]),
        ("?session_name=question", []),  # derived names are invisible to the filter
        ("?session_name=", ["a-input-only", "w-none", "w-input", "t-derived", "a-derived", "a-named"]),
        ("?sort_by=created_at&sort_order=asc&limit=2", ["a-named", "a-derived"]),
        ("?limit=2&page=2", ["w-input", "t-derived"]),
        ("?limit=2&page=9", []),
        ("?sort_by=session_id&sort_order=asc", ["a-derived", "a-input-only", "a-named", "t-derived", "w-input",
                                                "w-none"]),
        ("?sort_by=nonsense&sort_order=asc", ["a-derived", "a-input-only", "a-named", "t-derived", "w-input",
                                              "w-none"]),
    ],
)
def test_filters_sorts_and_pages(client, seeded, query: str, expected: list[str]) -> None:
    assert [s for s, _ in names(client, query)] == expected


def test_updated_at_sort_falls_back_to_created_at(client, seeded) -> None:
    ids = [s for s, _ in names(client, "?sort_by=updated_at&sort_order=desc&limit=2")]
    assert ids == ["a-input-only", "w-none"]


def test_equal_sort_keys_break_ties_on_session_id(client, rows) -> None:
    for sid in ("tie-b", "tie-c", "tie-a"):
        rows.session(sid, "agent", created_at=1767225600)
    assert [s for s, _ in names(client)] == ["tie-c", "tie-b", "tie-a"]
    assert [s for s, _ in names(client, "?sort_order=asc")] == ["tie-a", "tie-b", "tie-c"]


def test_pages_and_total_come_from_one_statement(client, seeded, app) -> None:
    client.get("/sessions")  # whether the session counts are installed is checked now and then, not per list
    statements = []
    db = next(iter(app.config["REGISTRY"]))
    original = db._read

    def counting(conn, generation, query, params):
        statements.append(query)
        return original(conn, generation, query, params)

    db._read = counting
    try:
        body = client.get("/sessions?limit=2").get_json()
    finally:
        db._read = original
    assert body["meta"]["total_count"] == 6 and len(body["data"]) == 2
    assert len(statements) == 1


@pytest.mark.parametrize(
    ("query", "status", "detail_start"),
    [
        ("?limit=0", 422, b'{"detail":[{"type":"greater_than_equal","loc":["query","limit"]'),
        ("?type=robot", 422, b'{"detail":[{"type":"enum","loc":["query","type"]'),
        ("?sort_order=ASC", 422, b'{"detail":[{"type":"enum","loc":["query","sort_order"]'),
        ("?page=abc", 422, b'{"detail":[{"type":"int_parsing","loc":["query","page"]'),
        ("?page=0", 422, b'{"detail":[{"type":"greater_than_equal","loc":["query","page"]'),
        ("?limit=9223372036854775808", 422, b'{"detail":[{"type":"less_than_equal","loc":["query","limit"]'),
        ("?table=agno_sessions", 400, b'{"detail":"The db_id query parameter is required when passing a table"}'),
        ("?db_id=nope", 404, b'{"detail":"No database found with id \'nope\'"}'),
    ],
)
def test_bad_queries_get_agentos_errors(client, seeded, query: str, status: int, detail_start: bytes) -> None:
    response = client.get(f"/sessions{query}")
    assert response.status_code == status
    assert response.data.startswith(detail_start)


@pytest.mark.parametrize("query", ["page=0", "limit=9223372036854775808", "user_id=a%00b"])
def test_our_own_422s_come_after_database_resolution(client, query: str) -> None:
    """AgentOS resolves db_id/table before it fails on these (with a 500): its 400/404 must win, as there."""
    assert client.get(f"/sessions?{query}&db_id=nope").data == b'{"detail":"No database found with id \'nope\'"}'
    assert client.get(f"/sessions?{query}&table=x").status_code == 400
    assert client.get(f"/sessions?{query}").status_code == 422


def test_a_page_whose_offset_passes_bigint_is_an_empty_page(client, seeded) -> None:
    """AgentOS 500s (DataError) computing that offset; the correct answer is the empty page past the data."""
    body = client.get("/sessions?limit=20&page=461168601842738792").get_json()
    assert body["data"] == [] and body["meta"]["total_count"] == 6 and body["meta"]["page"] == 461168601842738792
    assert client.get("/sessions?limit=9223372036854775807&page=3").get_json()["meta"]["total_pages"] == 1
