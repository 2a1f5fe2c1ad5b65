"""A sessions table migrated from agno 2.x: its `runs` JSONB blob merged with the runs table on every read."""

from __future__ import annotations

import pytest
from psycopg2.extras import Json

from service.storage.legacy import merge_legacy_runs


def agent_run(run_id: str, question: str, answer: str, created_at: int) -> dict:
    """An agent run as agno stores it: system prompt, user question, assistant answer."""
    return {
        "run_id": run_id, "agent_id": "legacy-agent", "status": "COMPLETED", "content": answer,
        "created_at": created_at, "input": {"input_content": question},
        "messages": [
            {"id": f"sys-{run_id}", "role": "system", "content": "be brief", "created_at": created_at},
            {"id": f"usr-{run_id}", "role": "user", "content": question, "created_at": created_at},
            {"id": f"ast-{run_id}", "role": "assistant", "content": answer, "created_at": created_at + 1},
        ],
    }


L1 = agent_run("L1", "legacy question", "legacy answer", 1767225610)
S2_OLD = agent_run("S2", "shared question (2.x copy)", "old answer", 1767225620)
S2_NEW = agent_run("S2", "shared question", "new answer", 1767225620)
T3 = agent_run("T3", "table question", "table answer", 1767225630)


@pytest.fixture
def legacy(app, rows):
    """The column is added before the app's first request, as after a real 2.x → 3.x migration."""
    rows.execute("ALTER TABLE ai.agno_sessions ADD COLUMN runs jsonb")
    rows.session("mixed", "agent", component_id="legacy-agent", created_at=1767225600)
    set_blob(rows, "mixed", [L1, S2_OLD])
    rows.run("mixed", S2_NEW, run_index=0)
    rows.run("mixed", T3, run_index=1)
    rows.session("blob-only", "agent", component_id="legacy-agent", created_at=1767225500)
    set_blob(rows, "blob-only", [agent_run("B1", "only in the blob", "a", 1767225510)])
    rows.session("table-only", "agent", component_id="legacy-agent", created_at=1767225400)
    rows.run("table-only", agent_run("X1", "only in the table", "b", 1767225410))
    rows.session("named", "agent", component_id="legacy-agent", created_at=1767225300,
                 session_data={"session_name": "Kept name"})
    set_blob(rows, "named", [agent_run("N1", "not the name", "c", 1767225310)])
    rows.session("empty", "agent", component_id="legacy-agent", created_at=1767225200)
    set_blob(rows, "empty", [])
    return app.test_client()


def set_blob(rows, session_id: str, runs: list[dict]) -> None:
    rows.execute("UPDATE ai.agno_sessions SET runs = %s WHERE session_id = %s", (Json(runs), session_id))


def history(response) -> list[str]:
    return [m["content"] for m in response.get_json()["chat_history"]]


MERGED_HISTORY = ["legacy question", "legacy answer", "shared question", "new answer", "table question",
                  "table answer"]


def test_list_derives_names_from_the_legacy_blob_first(legacy) -> None:
    body = legacy.get("/sessions").get_json()
    assert [(s["session_id"], s["session_name"]) for s in body["data"]] == [
        ("mixed", "legacy question"),  # the legacy-only run comes first, not the runs table's S2
        ("blob-only", "only in the blob"),
        ("table-only", "only in the table"),
        ("named", "Kept name"),
        ("empty", ""),
    ]
    assert body["meta"]["total_count"] == 5


def test_list_filters_still_apply_on_a_legacy_table(legacy) -> None:
    body = legacy.get("/sessions?session_name=kept&limit=1").get_json()
    assert [s["session_id"] for s in body["data"]] == ["named"]
    page = legacy.get("/sessions?limit=2&page=2").get_json()
    assert [s["session_id"] for s in page["data"]] == ["table-only", "named"]
    assert "runs" not in page["data"][0]


def test_detail_chat_history_merges_legacy_and_table_runs(legacy) -> None:
    response = legacy.get("/sessions/mixed")
    assert response.status_code == 200
    assert history(response) == MERGED_HISTORY
    assert response.get_json()["session_name"] == "legacy question"
    assert "runs" not in response.get_json()


def test_detail_of_blob_only_and_table_only_sessions(legacy) -> None:
    assert history(legacy.get("/sessions/blob-only")) == ["only in the blob", "a"]
    assert history(legacy.get("/sessions/table-only")) == ["only in the table", "b"]
    assert history(legacy.get("/sessions/empty")) == []


def test_runs_are_legacy_order_with_the_table_copy_winning(legacy) -> None:
    runs = legacy.get("/sessions/mixed/runs").get_json()
    assert [(r["run_id"], r["content"], r["run_input"]) for r in runs] == [
        ("L1", "legacy answer", "legacy question"),
        ("S2", "new answer", "shared question"),
        ("T3", "table answer", "table question"),
    ]
    previews = legacy.get("/sessions/mixed/run-previews").get_json()
    assert [p["content_preview"] for p in previews] == ["legacy answer", "new answer", "table answer"]


def test_runs_filters_apply_to_legacy_runs(legacy) -> None:
    runs = legacy.get("/sessions/mixed/runs?created_before=1767225620").get_json()
    assert [r["run_id"] for r in runs] == ["L1", "S2"]


@pytest.mark.parametrize(("run_id", "content"), [("L1", "legacy answer"), ("S2", "new answer"),
                                                 ("T3", "table answer")])
def test_single_run_finds_legacy_and_table_runs(legacy, run_id: str, content: str) -> None:
    response = legacy.get(f"/sessions/mixed/runs/{run_id}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["run_id"], body["content"]) == (run_id, content)


def test_single_run_in_a_blob_only_session(legacy) -> None:
    response = legacy.get("/sessions/blob-only/runs/B1")
    assert response.status_code == 200 and response.get_json()["run_input"] == "only in the blob"


@pytest.mark.parametrize(("path", "detail"), [
    ("/sessions/mixed/runs/nope", b'{"detail":"Run with ID nope not found in session mixed"}'),
    ("/sessions/empty/runs/L1", b'{"detail":"Session with ID empty has no runs"}'),
    ("/sessions/absent/runs/L1", b'{"detail":"Session with ID absent not found"}'),
])
def test_single_run_404s(legacy, path: str, detail: bytes) -> None:
    response = legacy.get(path)
    assert (response.status_code, response.data) == (404, detail)


def test_rename_and_patch_answer_with_merged_history_and_keep_the_blob(legacy, rows) -> None:
    (blob_before,) = rows.execute("SELECT runs::text FROM ai.agno_sessions WHERE session_id = 'mixed'")
    renamed = legacy.post("/sessions/mixed/rename", json={"session_name": "Renamed"})
    assert renamed.status_code == 200
    assert history(renamed) == MERGED_HISTORY
    patched = legacy.patch("/sessions/mixed", json={"session_state": {"k": 1}})
    assert patched.status_code == 200
    assert history(patched) == MERGED_HISTORY
    assert patched.get_json()["session_name"] == "Renamed"
    assert rows.execute("SELECT runs::text FROM ai.agno_sessions WHERE session_id = 'mixed'") == [blob_before]


def test_create_on_a_legacy_table_leaves_the_blob_null(legacy, rows) -> None:
    response = legacy.post("/sessions?type=agent", json={"session_id": "new-3x", "session_name": "n"})
    assert response.status_code == 201
    assert rows.execute("SELECT runs IS NULL FROM ai.agno_sessions WHERE session_id = 'new-3x'") == [(True,)]
    assert legacy.get("/sessions/new-3x").get_json()["chat_history"] == []


def test_delete_removes_legacy_session_and_its_table_runs(legacy, rows) -> None:
    assert legacy.delete("/sessions/mixed").status_code == 204
    assert rows.session_row("mixed") is None and rows.run_ids("mixed") == []


def test_fresh_table_without_the_column_reads_only_the_runs_table(client, rows) -> None:
    """Control: without the legacy column the same runs-table rows give the runs-table order."""
    rows.session("mixed", "agent", component_id="legacy-agent")
    rows.run("mixed", S2_NEW, run_index=0)
    rows.run("mixed", T3, run_index=1)
    assert client.get("/sessions").get_json()["data"][0]["session_name"] == "shared question"
    assert [r["run_id"] for r in client.get("/sessions/mixed/runs").get_json()] == ["S2", "T3"]
    assert client.get("/sessions/mixed/runs/L1").status_code == 404


def test_a_column_added_while_serving_is_seen_by_every_route(client, rows) -> None:
    """Nothing about the table layout is cached: a migration under a running service is picked up at once."""
    rows.session("late", "agent", component_id="legacy-agent", created_at=1767225600)
    assert client.get("/sessions/late/runs/L1").status_code == 404
    rows.execute("ALTER TABLE ai.agno_sessions ADD COLUMN runs jsonb")
    set_blob(rows, "late", [L1])
    assert client.get("/sessions/late/runs/L1").get_json()["run_id"] == "L1"
    assert [r["run_id"] for r in client.get("/sessions/late/runs").get_json()] == ["L1"]


def test_merge_legacy_runs() -> None:
    table = [{"run_id": "b", "v": "table"}, {"run_id": "c"}, {"x": 1}]
    assert merge_legacy_runs(table, None) == table
    assert merge_legacy_runs(table, "not json") == table
    assert merge_legacy_runs(
        table, [{"run_id": "a"}, {"run_id": "b", "v": "legacy"}, "junk", {"no": 1}]
    ) == [{"run_id": "a"}, {"run_id": "b", "v": "table"}, {"run_id": "c"}]
    assert merge_legacy_runs(table, '[{"run_id": "z"}]') == [
        {"run_id": "z"},
        {"run_id": "b", "v": "table"},
        {"run_id": "c"},
    ]
    assert merge_legacy_runs(table, {"run_id": "q"}) == [
        {"run_id": "b", "v": "table"},
        {"run_id": "c"},
    ]


def test_the_history_window_applies_where_only_the_runs_table_holds_runs(legacy) -> None:
    """A blob's order needs the full read: such a session is answered whole, saying the window did not apply."""
    mixed, windowed = legacy.get("/sessions/mixed"), legacy.get("/sessions/mixed?history_limit=1")
    assert windowed.get_json() == mixed.get_json() and history(windowed) == MERGED_HISTORY
    assert "Agno-Session-Applied" not in windowed.headers
    for session_id in ("table-only", "empty"):
        window = legacy.get(f"/sessions/{session_id}?history_limit=1")
        assert window.headers["Agno-Session-Applied"] == "history_limit"
        assert history(window) == history(legacy.get(f"/sessions/{session_id}"))[-1:]
