"""GET /sessions with cursor and include_total (extension `list-cursors`) against a real PostgreSQL: cursor pages
concatenate to the offset listing in every sort, hold while sessions are added and removed between them, are bound
to their query, read from their position instead of counting past earlier rows, and bad cursors are a clear 400."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from service.storage.sessions import NO_TOTAL, ListPage, list_statement
from tests.support.plans import explain, plan_nodes
from tests.support.rows import Rows

NOW = 1767225600
NEXT = re.compile(r'^<(/sessions\?[^>]+)>; rel="next"$')


def _seed(rows: Rows, n: int = 11) -> None:
    """Sessions with repeated sort keys and NULLs, so ties and NULL placement are exercised."""
    for i in range(n):
        rows.session(f"s{i:02d}", "agent", component_id=f"c{i % 2}", user_id=None if i % 4 == 0 else f"u{i % 3}",
                     created_at=NOW + i // 3, updated_at=None if i % 5 == 0 else NOW + 100 - i)


def _walk(client, first: str, between=None) -> tuple[list[dict], list]:
    """Every page from `first` along the Link headers (checked against meta.next_cursor); `between(i)` runs after
    page i."""
    bodies, responses, url = [], [], first
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.data
        body = response.get_json()
        bodies.append(body)
        responses.append(response)
        link = response.headers.get("Link")
        following = body["meta"]["next_cursor"]
        if link is None:
            assert following is None
            url = None
        else:
            url = NEXT.match(link).group(1)
            assert url.endswith("cursor=" + following)
        if between is not None:
            between(len(bodies))
    return bodies, responses


def _ids(bodies: list[dict]) -> list[str]:
    return [row["session_id"] for body in bodies for row in body["data"]]


@pytest.mark.parametrize("sort", [
    "", "&sort_order=asc", "&sort_by=updated_at", "&sort_by=updated_at&sort_order=asc", "&sort_by=user_id",
    "&sort_by=user_id&sort_order=asc", "&sort_by=session_id", "&sort_by=no_such_column&sort_order=asc",
    "&sort_by=agent_id&type=agent",
])
def test_cursor_pages_concatenate_to_the_offset_listing(client, rows, sort) -> None:
    _seed(rows)
    whole = client.get(f"/sessions?limit=100{sort}").get_json()
    bodies, responses = _walk(client, f"/sessions?cursor=&limit=3{sort}")
    assert _ids(bodies) == [row["session_id"] for row in whole["data"]]
    assert [row for body in bodies for row in body["data"]] == whole["data"]  # the same rows, byte for byte
    assert [len(body["data"]) for body in bodies] == [3, 3, 3, 2]
    assert all(r.headers["Agno-Session-Applied"] == "cursor" for r in responses)
    for body in bodies:
        assert list(body["meta"]) == ["limit", "total_pages", "total_count", "search_time_ms", "next_cursor"]
        assert body["meta"]["total_count"] == 11 and body["meta"]["total_pages"] == 4


def test_offset_pages_keep_agentos_bytes_without_the_parameters(client, rows) -> None:
    _seed(rows)
    plain = client.get("/sessions?limit=3&page=2")
    assert "Agno-Session-Applied" not in plain.headers and "Link" not in plain.headers
    assert list(plain.get_json()["meta"]) == ["page", "limit", "total_pages", "total_count", "search_time_ms"]


def test_include_total_false_skips_the_count_on_offset_and_cursor_pages(client, rows, app) -> None:
    _seed(rows)
    offset = client.get("/sessions?limit=3&page=2&include_total=false")
    assert offset.get_json()["meta"] == {"page": 2, "limit": 3, "search_time_ms": 0.0}
    assert offset.headers["Agno-Session-Applied"] == "include_total"
    assert offset.get_json()["data"] == client.get("/sessions?limit=3&page=2").get_json()["data"]
    bodies, responses = _walk(client, "/sessions?cursor=&limit=4&include_total=false")
    assert _ids(bodies) == _ids([client.get("/sessions?limit=100").get_json()])
    assert all("total_count" not in body["meta"] and "total_pages" not in body["meta"] for body in bodies)
    assert responses[0].headers["Agno-Session-Applied"] == "cursor,include_total"
    counted = client.get("/sessions?limit=3&include_total=true").get_json()["meta"]
    assert counted["total_count"] == 11
    # Not counting is not reading the count: the statement holds no count(*) and no counts table.
    db = next(iter(app.config["REGISTRY"]))
    fragments, _ = list_statement({"session_type": None}, "created_at", "desc", ListPage(3, 1, count=False),
                                  NO_TOTAL, db.identifiers["runs"])
    text = db.query("list_sessions", **fragments).as_string(rows.conn)
    assert "count(" not in "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def test_pages_never_repeat_or_skip_while_sessions_are_added_and_removed(client, rows) -> None:
    _seed(rows, 12)
    before = _ids([client.get("/sessions?limit=100").get_json()])  # created_at desc: s11 … s00
    removed, added = set(), set()
    script = iter([
        (["s10"], [("n-new", NOW + 50)]),        # a row already shown goes, a row newer than the position arrives
        (["s02"], [("n-old", NOW - 5)]),          # a row not yet shown goes, an older one (still ahead) arrives
        ([], [("n-tie", NOW + 1)]),               # arrives with an existing key: its id places it (once, if ahead)
        (["s05"], []),
    ])

    def writer(page: int) -> None:
        step = next(script, None)
        if step is None:
            return
        for sid in step[0]:
            rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = %s", (sid,))
            removed.add(sid)
        for sid, created in step[1]:
            rows.session(sid, "agent", created_at=created)
            added.add(sid)

    bodies, _ = _walk(client, "/sessions?cursor=&limit=3", between=writer)
    seen = _ids(bodies)
    assert len(seen) == len(set(seen))  # nothing twice
    assert set(before) - removed <= set(seen)  # every session that stayed is shown
    order = {sid: i for i, sid in enumerate(_ids([client.get("/sessions?limit=100").get_json()]))}
    assert [order[s] for s in seen if s in order] == sorted(order[s] for s in seen if s in order)  # in list order
    assert "n-old" in seen and "n-new" not in seen  # rows ahead of the position are shown, rows behind it are not


def test_a_cursor_is_bound_to_its_filters_and_sort(client, rows) -> None:
    _seed(rows)
    first = client.get("/sessions?cursor=&limit=2&type=agent&component_id=c1").get_json()
    token = first["meta"]["next_cursor"]
    ok = client.get(f"/sessions?cursor={token}&limit=5&type=agent&component_id=c1&include_total=false")
    assert ok.status_code == 200  # the page size and the total may change between pages
    snapshot = rows.snapshot()
    for query in ("type=agent&component_id=c0", "type=agent&component_id=c1&sort_order=asc",
                  "type=agent&component_id=c1&sort_by=updated_at", "type=agent&component_id=c1&user_id=u1",
                  "type=team&component_id=c1", "component_id=c1", ""):
        response = client.get(f"/sessions?cursor={token}&limit=2&{query}")
        assert response.status_code == 400, query
        assert response.get_json() == {"detail": "Cursor does not match the query"}
    assert rows.snapshot() == snapshot


@pytest.mark.parametrize("cursor", ["garbage", "a.b", "x" * 2000, "%00", "eyJ.abc"])
def test_malformed_cursors_are_400_never_500(client, rows, cursor) -> None:
    _seed(rows)
    response = client.get(f"/sessions?cursor={quote(cursor)}")
    assert response.status_code == 400 and response.get_json() == {"detail": "Invalid cursor"}


def test_a_tampered_cursor_is_400(client, rows) -> None:
    _seed(rows)
    token = client.get("/sessions?cursor=&limit=2").get_json()["meta"]["next_cursor"]
    body, mac = token.split(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    for bad in (f"{flipped}.{mac}", f"{body}.{mac[:-1]}", f"{mac}.{body}"):
        response = client.get(f"/sessions?cursor={bad}&limit=2")
        assert response.status_code == 400 and response.get_json() == {"detail": "Invalid cursor"}


def test_cursor_rules_between_parameters_are_400(client, rows) -> None:
    _seed(rows)
    snapshot = rows.snapshot()
    paged = client.get("/sessions?cursor=&page=2")
    assert paged.status_code == 400
    assert paged.get_json() == {"detail": "cursor and page cannot be combined: a cursor page is not numbered"}
    json_sort = client.get("/sessions?cursor=&sort_by=session_data")
    assert json_sort.status_code == 400
    assert json_sort.get_json() == {"detail": "Cursor pages cannot be sorted by session_data: it holds JSON documents"}
    assert client.get("/sessions?sort_by=session_data").status_code == 200  # offset pages still sort by it
    bad_total = client.get("/sessions?include_total=maybe")
    assert bad_total.status_code == 422
    assert bad_total.get_json()["detail"][0]["loc"] == ["query", "include_total"]
    assert rows.snapshot() == snapshot


def test_a_deep_cursor_page_starts_at_its_position(client, rows, app) -> None:
    """5,000 sessions: the 200th page by cursor reads about one page of index entries, while the same page by
    offset reads every row before it."""
    rows.execute("INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, created_at, updated_at) "
                 "SELECT 'bulk-' || lpad(i::text, 5, '0'), 'agent', 'a', %s + i, %s + i "
                 "FROM generate_series(0, 4999) i", (NOW, NOW))
    rows.execute("ANALYZE ai.agno_sessions")
    db = next(iter(app.config["REGISTRY"]))
    deep = {"k": NOW + 4999 - 200 * 20, "id": f"bulk-{4999 - 200 * 20:05d}"}
    for sort_by, position in (("created_at", deep), ("updated_at", deep)):
        page = ListPage(20, None, position, count=False)
        fragments, params = list_statement({"session_type": "agent"}, sort_by, "desc", page, NO_TOTAL,
                                           db.identifiers["runs"])
        plan = explain(rows, db, "list_sessions", fragments, params)
        scanned = max(node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                      for node in plan_nodes(plan) if node["Node Type"].startswith("Index"))
        assert scanned <= 25, (sort_by, scanned)
    offset = ListPage(20, 201, count=False)
    fragments, params = list_statement({"session_type": "agent"}, "created_at", "desc", offset, NO_TOTAL,
                                       db.identifiers["runs"])
    plan = explain(rows, db, "list_sessions", fragments, params)
    assert max(node.get("Actual Rows", 0) for node in plan_nodes(plan)) >= 4000  # the offset walks past them
    walked = client.get("/sessions?cursor=&limit=1000&type=agent&include_total=false").get_json()
    token = walked["meta"]["next_cursor"]
    page = client.get(f"/sessions?cursor={token}&limit=20&type=agent&include_total=false").get_json()
    assert [r["session_id"] for r in page["data"]] == [f"bulk-{i:05d}" for i in range(3999, 3979, -1)]


def test_cursor_pages_combine_with_the_metadata_and_date_filters(client, rows) -> None:
    for i in range(14):
        rows.session(f"m{i:02d}", "agent", component_id="c", created_at=NOW + i,
                     metadata={"tier": "gold" if i % 3 else "silver", "n": i})
    query = f"metadata.tier=gold&created_after={NOW + 2}&updated_before={NOW + 12}"
    whole = client.get(f"/sessions?{query}&limit=100").get_json()
    assert whole["meta"]["total_count"] == 7
    bodies, responses = _walk(client, f"/sessions?{query}&cursor=&limit=2&sort_order=asc")
    assert _ids(bodies) == [row["session_id"] for row in whole["data"]][::-1]
    assert all(body["meta"]["total_count"] == 7 for body in bodies)
    applied = responses[1].headers["Agno-Session-Applied"].split(",")
    assert applied == ["metadata.*", "created_after", "updated_before", "cursor"]
    token = bodies[0]["meta"]["next_cursor"]
    other = client.get(f"/sessions?metadata.tier=silver&created_after={NOW + 2}&updated_before={NOW + 12}"
                       f"&cursor={token}&limit=2&sort_order=asc")
    assert other.status_code == 400 and other.get_json() == {"detail": "Cursor does not match the query"}
