"""Two databases in one server: routing by db_id, the default database, strict mode and the `table=` rules."""

from __future__ import annotations

import json

import pytest

from tests.support.rows import Rows

OTHER = {"schema": "ai2", "session_table": "custom_sessions"}


@pytest.fixture
def env(pg_dsn: str) -> dict[str, str]:
    """`main` on schema ai with agno's names, `other` on ai2 with a custom sessions table (runs implied)."""
    return {"AGNO_SESSION_DSN_MAP": json.dumps({"main": pg_dsn, "other": {"dsn": pg_dsn, **OTHER}})}


@pytest.fixture
def main_rows(pg_dsn: str):
    helper = Rows(pg_dsn)
    yield helper
    helper.close()


@pytest.fixture
def other_rows(pg_dsn: str):
    helper = Rows(pg_dsn, schema="ai2", sessions="custom_sessions", runs="custom_sessions_runs")
    yield helper
    helper.close()


def user_run(run_id: str, text: str) -> dict:
    return {"run_id": run_id, "agent_id": "agent", "status": "COMPLETED", "created_at": 1767225700,
            "messages": [{"id": f"m-{run_id}", "role": "user", "content": text, "created_at": 1767225700}]}


@pytest.fixture
def two(make_app, env, main_rows, other_rows):
    """A client of the two-database app, with a session in each and one id present in both."""
    app = make_app(**env)
    main_rows.session("only-main", "agent", component_id="agent", created_at=1767225600)
    main_rows.run("only-main", user_run("rm", "asked main"))
    main_rows.session("shared", "agent", component_id="agent", created_at=1767225601,
                      session_data={"session_name": "main copy"})
    other_rows.session("only-other", "agent", component_id="agent", created_at=1767225602)
    other_rows.run("only-other", user_run("ro", "asked other"))
    other_rows.session("shared", "agent", component_id="agent", created_at=1767225603,
                       session_data={"session_name": "other copy"})
    return app.test_client()


def listed(client, query: str) -> list[tuple[str, str]]:
    response = client.get(f"/sessions{query}")
    assert response.status_code == 200, response.data
    return [(s["session_id"], s["session_name"]) for s in response.get_json()["data"]]


def name_of(rows: Rows, session_id: str) -> str | None:
    row = rows.session_row(session_id)
    return None if row is None else (row["session_data"] or {}).get("session_name")


def test_migrate_created_both_layouts(two, pg_dsn, main_rows) -> None:
    tables = main_rows.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('ai', 'ai2') ORDER BY 1")
    assert [t for (t,) in tables] == ["ai.agno_runs", "ai.agno_sessions", "ai2.custom_sessions",
                                      "ai2.custom_sessions_runs"]


def test_list_is_routed_by_db_id(two) -> None:
    assert listed(two, "?db_id=main") == [("shared", "main copy"), ("only-main", "asked main")]
    assert listed(two, "?db_id=other") == [("shared", "other copy"), ("only-other", "asked other")]


def test_missing_db_id_uses_the_first_database(two) -> None:
    assert listed(two, "") == listed(two, "?db_id=main")


def test_default_db_id_can_be_chosen(make_app, env, other_rows) -> None:
    client = make_app(**env, AGNO_DEFAULT_DB_ID="other").test_client()
    other_rows.session("o1", "agent", component_id="agent")
    assert listed(client, "") == [("o1", "")]
    assert listed(client, "?db_id=main") == []


def test_detail_is_routed_by_db_id(two) -> None:
    other = two.get("/sessions/only-other?db_id=other")
    assert other.status_code == 200
    assert [m["content"] for m in other.get_json()["chat_history"]] == ["asked other"]
    assert two.get("/sessions/shared?db_id=other").get_json()["session_name"] == "other copy"
    assert two.get("/sessions/shared").get_json()["session_name"] == "main copy"
    missing = two.get("/sessions/only-other?db_id=main")
    assert (missing.status_code, missing.data) == (404, b'{"detail":"Session with id \'only-other\' not found"}')
    assert two.get("/sessions/only-other").status_code == 404


def test_runs_routes_are_routed_by_db_id(two) -> None:
    runs = two.get("/sessions/only-other/runs?db_id=other")
    assert [r["run_id"] for r in runs.get_json()] == ["ro"]
    previews = two.get("/sessions/only-other/run-previews?db_id=other")
    assert [p["run_input"] for p in previews.get_json()] == ["asked other"]
    one = two.get("/sessions/only-other/runs/ro?db_id=other")
    assert one.status_code == 200 and one.get_json()["run_input"] == "asked other"
    assert two.get("/sessions/only-other/runs?db_id=main").data == b'{"detail":"Session with ID only-other not found"}'
    assert two.get("/sessions/only-main/runs/ro?db_id=main").data == (
        b'{"detail":"Run with ID ro not found in session only-main"}')


def test_create_writes_into_the_chosen_database(two, main_rows, other_rows) -> None:
    response = two.post("/sessions?type=agent&db_id=other", json={"session_id": "new-o", "session_name": "fresh"})
    assert response.status_code == 201
    assert name_of(other_rows, "new-o") == "fresh"
    assert main_rows.session_row("new-o") is None
    default = two.post("/sessions?type=agent", json={"session_id": "new-m"})
    assert default.status_code == 201
    assert main_rows.session_row("new-m") is not None and other_rows.session_row("new-m") is None


def test_create_conflicts_only_within_one_database(two) -> None:
    """The same id may live in both databases; a duplicate is judged per database."""
    assert two.post("/sessions?type=agent&db_id=other", json={"session_id": "only-main"}).status_code == 201
    assert two.post("/sessions?type=agent&db_id=other", json={"session_id": "only-other"}).status_code == 409


def test_rename_touches_only_the_chosen_database(two, main_rows, other_rows) -> None:
    response = two.post("/sessions/shared/rename?db_id=other", json={"session_name": "renamed"})
    assert response.status_code == 200 and response.get_json()["session_name"] == "renamed"
    assert name_of(other_rows, "shared") == "renamed"
    assert name_of(main_rows, "shared") == "main copy"
    missing = two.post("/sessions/only-main/rename?db_id=other", json={"session_name": "x"})
    assert missing.status_code == 404


def test_patch_touches_only_the_chosen_database(two, main_rows, other_rows) -> None:
    before = main_rows.snapshot()
    response = two.patch("/sessions/shared?db_id=other", json={"session_name": "patched", "metadata": {"k": 1}})
    assert response.status_code == 200
    assert response.get_json()["metadata"] == {"k": 1}
    assert name_of(other_rows, "shared") == "patched"
    assert other_rows.session_row("shared")["metadata"] == {"k": 1}
    assert main_rows.snapshot() == before
    assert two.patch("/sessions/only-main?db_id=other", json={}).status_code == 404


def test_delete_touches_only_the_chosen_database(two, main_rows, other_rows) -> None:
    main_before = main_rows.snapshot()
    assert two.delete("/sessions/shared?db_id=other").status_code == 204
    assert two.delete("/sessions/only-other?db_id=other").status_code == 204
    assert other_rows.session_row("shared") is None and other_rows.session_row("only-other") is None
    assert other_rows.run_ids("only-other") == []
    assert main_rows.snapshot() == main_before


def test_bulk_delete_touches_only_the_chosen_database(two, main_rows, other_rows) -> None:
    response = two.delete("/sessions?db_id=main",
                          json={"session_ids": ["shared", "only-other"], "session_types": ["agent", "agent"]})
    assert response.status_code == 204
    assert main_rows.session_row("shared") is None
    assert other_rows.session_row("shared") is not None and other_rows.session_row("only-other") is not None


ROUTES = [  # every route family that reads or writes a database: (method, path, body, reads)
    ("GET", "/sessions", None, True),
    ("POST", "/sessions?type=agent", {"session_id": "strict-new"}, False),
    ("DELETE", "/sessions", {"session_ids": ["shared"], "session_types": ["agent"]}, False),
    ("GET", "/sessions/shared", None, True),
    ("PATCH", "/sessions/shared", {"session_name": "strict"}, False),
    ("DELETE", "/sessions/shared", None, False),
    ("POST", "/sessions/shared/rename", {"session_name": "strict"}, False),
    ("GET", "/sessions/shared/runs", None, True),
    ("GET", "/sessions/shared/run-previews", None, True),
    ("GET", "/sessions/shared/runs/r", None, True),
    ("PATCH", "/sessions/shared/state", {"strict": True}, False),
]


@pytest.fixture
def strict(make_app, env, main_rows, other_rows):
    """AgentOS's own multi-database behaviour: db_id is mandatory. Both databases hold session `shared` with run
    `r`, each marked with its own name, so every answer shows which database gave it."""
    app = make_app(**env, AGNO_REQUIRE_DB_ID="true")
    for name, rows in (("main", main_rows), ("other", other_rows)):
        rows.session("shared", "agent", component_id="agent", session_data={"session_name": f"{name}-db copy"})
        rows.run("shared", user_run("r", f"asked {name}-db"))
    return app.test_client()


@pytest.mark.parametrize(("method", "path", "body", "reads"), ROUTES)
def test_strict_mode_requires_db_id_on_every_route(strict, main_rows, other_rows, method, path, body, reads) -> None:
    before = (main_rows.snapshot(), other_rows.snapshot())
    response = strict.open(path, method=method, json=body)
    assert response.status_code == 400
    assert response.data == b'{"detail":"The db_id query parameter is required when using multiple databases"}'
    assert (main_rows.snapshot(), other_rows.snapshot()) == before


@pytest.mark.parametrize("db_id", ["main", "other"])
@pytest.mark.parametrize(("method", "path", "body", "reads"), ROUTES)
def test_strict_mode_answers_from_the_named_database(strict, main_rows, other_rows, db_id, method, path, body,
                                                     reads) -> None:
    unnamed_id = "other" if db_id == "main" else "main"
    named, unnamed = (main_rows, other_rows) if db_id == "main" else (other_rows, main_rows)
    before = (named.snapshot(), unnamed.snapshot())
    joiner = "&" if "?" in path else "?"
    response = strict.open(f"{path}{joiner}db_id={db_id}", method=method, json=body)
    assert response.status_code in (200, 201, 204), response.data
    if reads:  # the named database's copy, not the other one's
        text = response.get_data(as_text=True)
        assert f"{db_id}-db" in text and f"{unnamed_id}-db" not in text, text
        assert (named.snapshot(), unnamed.snapshot()) == before
    else:  # written into the named database only
        assert named.snapshot() != before[0]
        assert unnamed.snapshot() == before[1]


def test_strict_mode_with_a_single_database_needs_no_db_id(make_app, rows) -> None:
    client = make_app(AGNO_REQUIRE_DB_ID="true").test_client()
    assert client.get("/sessions").status_code == 200


def test_unknown_db_id_is_404_everywhere(two) -> None:
    expected = b'{"detail":"No database found with id \'zzz\'"}'
    for method, path, body, _ in ROUTES:
        joiner = "&" if "?" in path else "?"
        response = two.open(f"{path}{joiner}db_id=zzz", method=method, json=body)
        assert (response.status_code, response.data) == (404, expected), (method, path)


def test_table_without_db_id_is_400(two) -> None:
    response = two.get("/sessions?table=agno_sessions")
    assert response.status_code == 400
    assert response.data == b'{"detail":"The db_id query parameter is required when passing a table"}'
    assert two.get("/sessions/shared?table=agno_sessions").status_code == 400


@pytest.mark.parametrize(("query", "expected"), [
    ("?db_id=main&table=agno_sessions", ["shared", "only-main"]),
    ("?db_id=other&table=custom_sessions", ["shared", "only-other"]),
])
def test_the_configured_session_table_is_accepted(two, query: str, expected: list[str]) -> None:
    assert [s for s, _ in listed(two, query)] == expected


@pytest.mark.parametrize(("db_id", "table"), [
    ("main", "custom_sessions"),  # another database's table name
    ("other", "agno_sessions"),  # not this database's configured name (nor present in ai2)
    ("main", "agno_runs"),  # exists, but is not a name AgentOS accepts for `table`
    ("main", "custom_sessions_runs"),
    ("main", "agno_memories"),  # an accepted name, but the table does not exist
    ("main", "no_such_table"),
])
def test_tables_that_are_not_this_databases_are_404(two, db_id: str, table: str) -> None:
    response = two.get(f"/sessions?db_id={db_id}&table={table}")
    assert response.status_code == 404
    assert response.data == f'{{"detail":"No database with id \'{db_id}\' has table \'{table}\'"}}'.encode()


def test_an_existing_side_table_still_lists_sessions(two, main_rows) -> None:
    """`table` only selects the database: naming its memories table lists that database's sessions."""
    main_rows.execute("CREATE TABLE ai.agno_memories (memory_id varchar PRIMARY KEY, memory jsonb)")
    assert [s for s, _ in listed(two, "?db_id=main&table=agno_memories")] == ["shared", "only-main"]
    detail = two.get("/sessions/shared?db_id=main&table=agno_memories")
    assert detail.get_json()["session_name"] == "main copy"
    # the table exists in ai, not in other's schema ai2
    assert two.get("/sessions?db_id=other&table=agno_memories").status_code == 404


def test_table_rule_applies_to_writes(two, other_rows) -> None:
    bad = two.post("/sessions/shared/rename?db_id=other&table=agno_sessions", json={"session_name": "no"})
    assert bad.status_code == 404
    assert name_of(other_rows, "shared") == "other copy"
    ok = two.post("/sessions/shared/rename?db_id=other&table=custom_sessions", json={"session_name": "yes"})
    assert ok.status_code == 200 and name_of(other_rows, "shared") == "yes"
    assert two.delete("/sessions/shared?db_id=other&table=nope").status_code == 404
    assert other_rows.session_row("shared") is not None
