"""GET /sessions/{id}?history_limit=N[&history_before=<cursor>] (extension `history-window`) against a real
PostgreSQL: the same detail with the last N messages, pages back through Link to exactly chat_history, bad input a
clear 4xx, and a 50,000-run session read through a bounded number of run rows (the pure window:
tests/unit/test_history_window.py; the cursors: tests/unit/test_cursors.py)."""

from __future__ import annotations

import json
import re

import pytest

from service.storage import history
from tests.support.plans import explain, plan_nodes
from tests.support.rows import Rows

NOW = 1767225600
LINK = re.compile(r'^<(/sessions/[^>]+)>; rel="prev"$')


def _msg(run: int, i: int, role: str, **extra) -> dict:
    return {"id": f"m{run}-{i}", "role": role, "content": f"c{run}-{i}", "created_at": NOW + run,
            "from_history": False, "stop_after_tool_call": False, **extra}


def _seed(rows: Rows, session_id: str = "s1", kind: str = "agent", runs: int = 9, **session) -> None:
    component = {"agent": "agent_id", "team": "team_id"}[kind]
    rows.session(session_id, kind, component_id="c1", user_id="alice", **session)
    for n in range(runs):
        messages = [_msg(n, 0, "system"), _msg(n, 1, "user"), _msg(n, 2, "tool"), _msg(n, 3, "assistant")]
        if n % 3 == 1:
            messages.append(_msg(n, 4, "user", from_history=True))
        data = {"run_id": f"{session_id}-r{n}", component: "c1", "status": "COMPLETED", "messages": messages,
                "input": {"input_content": f"c{n}-1"}}
        if kind == "team" and n == 2:
            rows.run(session_id, {"run_id": f"{session_id}-member", "agent_id": "m", "parent_run_id": data["run_id"],
                                  "messages": [_msg(n, 7, "user")]}, created_at=NOW + n)
        rows.run(session_id, data, created_at=NOW + n)


def _walk(client, first: str) -> tuple[list[list[dict]], list]:
    """Every page from `first` back through the Link headers: (pages oldest first, the responses)."""
    pages, responses, url = [], [], first
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.data
        responses.append(response)
        pages.insert(0, response.get_json()["chat_history"])
        link = response.headers.get("Link")
        url = LINK.match(link).group(1) if link else None
    return pages, responses


@pytest.mark.parametrize("kind", ["agent", "team"])
@pytest.mark.parametrize("named", [True, False])
def test_pages_are_the_detail_with_the_last_messages_and_walk_back_to_all_of_them(client, rows, kind, named) -> None:
    _seed(rows, kind=kind, session_data={"session_name": "Stored"} if named else None)
    full = client.get("/sessions/s1")
    assert "Agno-Session-Applied" not in full.headers and "Link" not in full.headers
    everything = full.get_json()
    assert len(everything["chat_history"]) == 18
    pages, responses = _walk(client, "/sessions/s1?history_limit=4&user_id=alice")
    assert [len(p) for p in pages] == [2, 4, 4, 4, 4]
    assert [m for page in pages for m in page] == everything["chat_history"]
    last = responses[0].get_json()
    assert {k: v for k, v in last.items() if k != "chat_history"} == {
        k: v for k, v in everything.items() if k != "chat_history"}  # same detail, name included
    assert list(last) == list(everything)  # same key order
    assert responses[0].headers["Agno-Session-Applied"] == "history_limit"
    assert all(r.headers["Agno-Session-Applied"] == "history_limit,history_before" for r in responses[1:])
    assert "user_id=alice" in responses[0].headers["Link"]  # the other parameters are kept
    whole = client.get("/sessions/s1?history_limit=10000")
    assert whole.data == full.data and "Link" not in whole.headers


def test_limit_zero_keeps_the_key_empty(client, rows) -> None:
    _seed(rows)
    response = client.get("/sessions/s1?history_limit=0")
    assert response.status_code == 200
    assert response.get_json()["chat_history"] == [] and "Link" not in response.headers
    assert response.headers["Agno-Session-Applied"] == "history_limit"


def test_a_workflow_detail_has_no_history_and_is_answered_unchanged(client, rows) -> None:
    rows.session("w1", "workflow", component_id="wf", session_data={})
    rows.run("w1", {"run_id": "w1-r", "workflow_id": "wf", "input": "go", "status": "COMPLETED"})
    plain, windowed = client.get("/sessions/w1"), client.get("/sessions/w1?history_limit=1")
    assert windowed.status_code == 200 and windowed.data == plain.data
    assert "Agno-Session-Applied" not in windowed.headers


def test_a_missing_session_is_agentos_404_with_or_without_the_window(client, rows) -> None:
    plain, windowed = client.get("/sessions/nope"), client.get("/sessions/nope?history_limit=3")
    assert windowed.status_code == 404 and windowed.data == plain.data
    assert "Agno-Session-Applied" not in windowed.headers


@pytest.mark.parametrize(("query", "loc", "type_"), [
    ("history_limit=-1", "history_limit", "greater_than_equal"),
    ("history_limit=10001", "history_limit", "less_than_equal"),
    ("history_limit=ten", "history_limit", "int_parsing"),
])
def test_invalid_window_parameters_are_agentos_shaped_422s(client, rows, query, loc, type_) -> None:
    _seed(rows)
    response = client.get(f"/sessions/s1?{query}")
    assert response.status_code == 422
    [error] = response.get_json()["detail"]
    assert (error["type"], error["loc"]) == (type_, ["query", loc]) and set(error) >= {"type", "loc", "msg", "input"}


def test_bad_cursors_are_400s_and_bound_to_their_session(client, rows) -> None:
    _seed(rows)
    alone = client.get("/sessions/s1?history_before=abc")
    assert (alone.status_code, alone.get_json()) == (400, {"detail": "history_before needs history_limit"})
    _seed(rows, "s2")
    link = client.get("/sessions/s1?history_limit=2").headers["Link"]
    cursor = re.search(r"history_before=([^&>]+)", link).group(1)
    flipped = ("B" if cursor[0] == "A" else "A") + cursor[1:]
    for bad in ("x", "a.b", cursor[:-3], cursor.replace(".", "x."), flipped, "%00", "%C3%A9"):
        response = client.get(f"/sessions/s1?history_limit=2&history_before={bad}")
        assert (response.status_code, response.get_json()) == (400, {"detail": "Invalid cursor"}), bad
    elsewhere = client.get(f"/sessions/s2?history_limit=2&history_before={cursor}")
    assert (elsewhere.status_code, elsewhere.get_json()) == (400, {"detail": "Cursor does not match the query"})
    assert client.get(f"/sessions/s1?history_limit=2&history_before={cursor}").status_code == 200


def test_cursors_hold_across_apps_with_one_key_and_fail_under_another(make_app, rows) -> None:
    """Workers and replicas are separate processes: one AGNO_CURSOR_KEY, the same cursors."""
    _seed(rows)
    first, second = make_app(AGNO_CURSOR_KEY="k-one").test_client(), make_app(AGNO_CURSOR_KEY="k-one").test_client()
    other = make_app(AGNO_CURSOR_KEY="k-two").test_client()
    older = LINK.match(first.get("/sessions/s1?history_limit=3").headers["Link"]).group(1)
    assert second.get(older).status_code == 200
    assert other.get(older).get_json() == {"detail": "Invalid cursor"}


def test_runs_without_run_index_and_tied_keys_page_in_agnos_order(client, rows) -> None:
    rows.session("t1", "agent", component_id="c1")
    for n, index in enumerate([0, 0, 1, None, None]):  # ties on run_index, NULLs last, ties broken by run_id
        rows.run("t1", {"run_id": f"t1-{n}", "agent_id": "c1", "messages": [_msg(n, 0, "user")]},
                 created_at=NOW, run_index=index if index is not None else None)
    rows.execute("UPDATE ai.agno_runs SET run_index = NULL WHERE run_id IN ('t1-3', 't1-4')")
    everything = client.get("/sessions/t1").get_json()["chat_history"]
    pages, _ = _walk(client, "/sessions/t1?history_limit=1")
    assert [m for page in pages for m in page] == everything and len(everything) == 5


def test_the_last_messages_of_a_50000_run_session_touch_a_bounded_number_of_run_rows(app, client, rows) -> None:
    rows.session("big", "agent", component_id="c1", session_data={"session_name": "Big"})
    rows.execute(
        "INSERT INTO ai.agno_runs (run_id, session_id, run_type, agent_id, run_index, run_data, created_at) "
        "SELECT 'big-' || n, 'big', 'agent', 'c1', n, jsonb_build_object('run_id', 'big-' || n, 'agent_id', 'c1', "
        "'messages', jsonb_build_array(jsonb_build_object('id', 'u' || n, 'role', 'user', 'content', repeat('x', 500),"
        " 'created_at', %s), jsonb_build_object('id', 'a' || n, 'role', 'assistant', 'content', 'ok', 'created_at', %s)"
        ")), %s + n FROM generate_series(0, 49999) n", (NOW, NOW, NOW))
    rows.execute("ANALYZE ai.agno_runs")
    response = client.get("/sessions/big?history_limit=20")
    assert [m["id"] for m in response.get_json()["chat_history"]][-2:] == ["u49999", "a49999"]
    older = client.get(LINK.match(response.headers["Link"]).group(1)).get_json()["chat_history"]
    assert [m["id"] for m in older][-1] == "a49989"
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    # What the route reads: the pages runs_from asks for, until the window is full (21 messages: one page).
    pages = history.runs_from(db, "big", "newest", None, True, first=21)
    assert [r["run_id"] for r in next(pages)][:2] == ["big-49999", "big-49998"]
    for key in (None, (25000, NOW + 25000, "big-25000")):  # the newest page, and a page from a cursor mid-session
        fragments, params = history.page_statement("big", "newest", key, True, 21)
        plan = explain(rows, db, "session_runs_page", fragments, params)
        scans = [n for n in plan_nodes(plan) if n.get("Relation Name") == "agno_runs"]
        assert scans and all(n["Node Type"] != "Seq Scan" for n in scans), json.dumps(plan)
        assert sum(n["Actual Rows"] for n in scans) <= 22, json.dumps(plan)
        touched = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
        assert touched < 200, json.dumps(plan)  # the whole session is thousands of blocks
    full_scan = rows.execute("SELECT pg_relation_size('ai.agno_runs') / current_setting('block_size')::int")[0][0]
    assert full_scan > 2000
