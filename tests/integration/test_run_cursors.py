"""GET /sessions/{id}/runs and /run-previews with limit, after, order, exclude (extension `run-cursors`) against a
real PostgreSQL: pages concatenate to AgentOS's listing, hold while runs are appended between them, are bound to
their filters, and bad input is a clear 4xx."""

from __future__ import annotations

import re

import pytest

from service.storage import history
from tests.support.plans import explain, plan_nodes
from tests.support.rows import Rows

NOW = 1767225600
NEXT = re.compile(r'^<(/sessions/[^>]+)>; rel="next"$')


def _run(n: int, session_id: str = "s1", **extra) -> dict:
    return {"run_id": f"{session_id}-r{n}", "agent_id": "c1", "status": "COMPLETED" if n % 2 else "ERROR",
            "created_at": NOW + n, "content": f"answer {n}", "reasoning_content": "thinking",
            "messages": [{"id": f"m{n}", "role": "user", "content": f"q{n}", "created_at": NOW + n}],
            "events": [{"event": "RunStarted"}], "tools": [{"tool_name": "t"}], **extra}


def _seed(rows: Rows, runs: int = 7, session_id: str = "s1") -> None:
    rows.session(session_id, "agent", component_id="c1", user_id="alice")
    for n in range(runs):
        rows.run(session_id, _run(n, session_id), created_at=NOW + n)


def _walk(client, first: str, between=None) -> tuple[list[list[dict]], list]:
    """Every page from `first` along the Link headers; `between(i)` runs after page i (a deterministic writer)."""
    pages, responses, url = [], [], first
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.data
        responses.append(response)
        pages.append(response.get_json())
        link = response.headers.get("Link")
        url = NEXT.match(link).group(1) if link else None
        if between is not None:
            between(len(pages))
    return pages, responses


@pytest.mark.parametrize("route", ["runs", "run-previews"])
def test_pages_concatenate_to_agentos_listing_in_either_order(client, rows, route) -> None:
    _seed(rows)
    full = client.get(f"/sessions/s1/{route}")
    assert {"Agno-Session-Applied", "Link", "X-Has-More"}.isdisjoint(full.headers)
    pages, responses = _walk(client, f"/sessions/s1/{route}?limit=3&user_id=alice")
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [item for page in pages for item in page] == full.get_json()
    assert [r.headers["X-Has-More"] for r in responses] == ["true", "true", "false"]
    assert responses[0].headers["Agno-Session-Applied"] == "limit"
    assert all(r.headers["Agno-Session-Applied"] == "limit,after" for r in responses[1:])
    assert "user_id=alice" in responses[0].headers["Link"]
    pages, _ = _walk(client, f"/sessions/s1/{route}?limit=2&order=desc")
    assert [item for page in pages for item in page] == full.get_json()[::-1]
    assert client.get(f"/sessions/s1/{route}?order=asc").get_json() == full.get_json()
    whole = client.get(f"/sessions/s1/{route}?limit=1000")
    assert whole.data == full.data and whole.headers["X-Has-More"] == "false" and "Link" not in whole.headers


def test_pages_never_repeat_or_skip_while_runs_are_appended(client, rows) -> None:
    _seed(rows, runs=5)
    appended = iter(range(5, 11))

    def writer(page: int) -> None:  # after every page, two more runs arrive
        for _ in range(2):
            n = next(appended, None)
            if n is not None:
                rows.run("s1", _run(n), created_at=NOW + n)

    pages, _ = _walk(client, "/sessions/s1/runs?limit=2", between=writer)
    ids = [item["run_id"] for page in pages for item in page]
    assert ids == [f"s1-r{n}" for n in range(11)]  # every run once, the appended ones included, in order
    # Newest first starts from what exists: appended runs are newer than the first page, never repeated or mixed in.
    appended = iter(range(11, 15))
    pages, _ = _walk(client, "/sessions/s1/runs?limit=3&order=desc", between=writer)
    assert [item["run_id"] for page in pages for item in page] == [f"s1-r{n}" for n in range(10, -1, -1)]


def test_filters_combine_with_the_cursor_and_bind_it(client, rows) -> None:
    _seed(rows, runs=12)
    query = f"status=completed&created_after={NOW + 2}&created_before={NOW + 10}"
    full = client.get(f"/sessions/s1/runs?{query}").get_json()
    assert [r["run_id"] for r in full] == ["s1-r3", "s1-r5", "s1-r7", "s1-r9"]
    pages, _ = _walk(client, f"/sessions/s1/runs?{query}&limit=3")
    assert [item for page in pages for item in page] == full
    first = client.get(f"/sessions/s1/runs?{query}&limit=1")
    cursor = NEXT.match(first.headers["Link"]).group(1).rsplit("after=", 1)[1]
    others = ("status=error", f"status=completed&created_after={NOW + 2}",
              f"status=completed&created_after={NOW + 2}&created_before={NOW + 11}", f"{query}&order=desc",
              f"{query}&type=team", f"created_after={NOW + 2}&created_before={NOW + 10}", "")
    for other in others:
        replayed = client.get(f"/sessions/s1/runs?{other}&limit=1&after={cursor}")
        assert (replayed.status_code, replayed.get_json()) == (400, {"detail": "Cursor does not match the query"})
    _seed(rows, runs=2, session_id="s2")
    elsewhere = client.get(f"/sessions/s2/runs?{query}&limit=1&after={cursor}")
    assert (elsewhere.status_code, elsewhere.get_json()) == (400, {"detail": "Cursor does not match the query"})
    same = client.get(f"/sessions/s1/run-previews?{query}&limit=5&after={cursor}")  # a new page size is fine
    assert [r["run_id"] for r in same.get_json()] == ["s1-r5", "s1-r7", "s1-r9"]
    for bad in ("x", cursor[:-2], cursor.replace(".", "a.", 1), "a" * 2000):
        response = client.get(f"/sessions/s1/runs?limit=1&after={bad}")
        assert (response.status_code, response.get_json()) == (400, {"detail": "Invalid cursor"}), bad


@pytest.mark.parametrize(("query", "loc", "type_"), [
    ("limit=0", "limit", "greater_than_equal"), ("limit=1001", "limit", "less_than_equal"),
    ("limit=x", "limit", "int_parsing"), ("order=up", "order", "enum"),
    ("exclude=messages,bogus", "exclude", "enum"),
])
def test_invalid_parameters_are_agentos_shaped_422s_and_write_nothing(client, rows, query, loc, type_) -> None:
    _seed(rows)
    before = rows.snapshot()
    response = client.get(f"/sessions/s1/runs?{query}")
    assert response.status_code == 422, response.data
    [error] = response.get_json()["detail"]
    assert (error["loc"], error["type"]) == (["query", loc], type_)
    assert set(error) >= {"type", "loc", "msg", "input"}
    assert rows.snapshot() == before


def test_exclude_drops_heavy_keys_from_listings_and_the_single_run(client, rows) -> None:
    _seed(rows, runs=3)
    full = client.get("/sessions/s1/runs").get_json()
    assert {"messages", "events", "tools", "reasoning_content"} <= set(full[0])
    light = client.get("/sessions/s1/runs?exclude=messages,events,tools,reasoning_content")
    assert light.headers["Agno-Session-Applied"] == "exclude" and "X-Has-More" not in light.headers
    heavy = ("messages", "events", "tools", "reasoning_content")
    assert light.get_json() == [{k: v for k, v in run.items() if k not in heavy} for run in full]
    paged = client.get("/sessions/s1/runs?exclude=tools&limit=1")
    assert paged.headers["Agno-Session-Applied"] == "limit,exclude"
    assert paged.get_json() == [{k: v for k, v in full[0].items() if k != "tools"}]
    single = client.get("/sessions/s1/runs/s1-r1")
    assert "Agno-Session-Applied" not in single.headers
    trimmed = client.get("/sessions/s1/runs/s1-r1?exclude=messages")
    assert trimmed.headers["Agno-Session-Applied"] == "exclude"
    assert trimmed.get_json() == {k: v for k, v in single.get_json().items() if k != "messages"}
    bad = client.get("/sessions/s1/runs/s1-r1?exclude=nope")
    assert bad.status_code == 422 and bad.get_json()["detail"][0]["input"] == "nope"
    assert client.get("/sessions/s1/run-previews?exclude=nope").data == client.get("/sessions/s1/run-previews").data


def test_a_missing_session_is_agentos_404_with_or_without_paging(client, rows) -> None:
    plain = client.get("/sessions/nope/runs")
    paged = client.get("/sessions/nope/runs?limit=2&order=desc")
    assert paged.status_code == 404 and paged.data == plain.data and "X-Has-More" not in paged.headers


def test_runs_without_run_index_and_tied_keys_page_in_agnos_order(client, rows) -> None:
    rows.session("t1", "agent", component_id="c1")
    for n, index in enumerate([0, 0, 1, 2, 3]):  # ties on run_index broken by created_at, run_id; NULLs last
        rows.run("t1", _run(n, "t1"), created_at=NOW, run_index=index)
    rows.execute("UPDATE ai.agno_runs SET run_index = NULL WHERE run_id IN ('t1-r1', 't1-r3')")
    full = client.get("/sessions/t1/runs").get_json()
    assert [r["run_id"] for r in full] == ["t1-r0", "t1-r2", "t1-r4", "t1-r1", "t1-r3"]
    for size, order in ((1, "asc"), (2, "asc"), (1, "desc"), (2, "desc")):
        pages, _ = _walk(client, f"/sessions/t1/runs?limit={size}&order={order}")
        assert [i for page in pages for i in page] == (full if order == "asc" else full[::-1]), (size, order)


def test_a_page_deep_in_a_20000_run_session_reads_only_its_runs(app, client, rows) -> None:
    rows.session("big", "agent", component_id="c1")
    rows.execute(
        "INSERT INTO ai.agno_runs (run_id, session_id, run_type, agent_id, run_index, run_data, created_at) "
        "SELECT 'big-' || n, 'big', 'agent', 'c1', n, jsonb_build_object('run_id', 'big-' || n, 'agent_id', 'c1', "
        "'created_at', %s + n), %s + n FROM generate_series(0, 19999) n", (NOW, NOW))
    rows.execute("ANALYZE ai.agno_runs")
    first = client.get("/sessions/big/run-previews?limit=10")
    assert [r["run_id"] for r in first.get_json()][-1] == "big-9"
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    key = (15000, NOW + 15000, "big-15000")
    for direction in ("oldest", "newest"):
        fragments, params = history.page_statement("big", direction, key, False, 11)  # a page of 10, plus one
        plan = explain(rows, db, "session_runs_page", fragments, params)
        scans = [n for n in plan_nodes(plan) if n.get("Relation Name") == "agno_runs"]
        assert scans and all(n["Node Type"] != "Seq Scan" for n in scans), plan
        # About the page (the scan starts at the cursor's run_index), not the 15,000 runs before the cursor.
        assert sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans) <= 20, plan
