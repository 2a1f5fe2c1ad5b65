"""GET /sessions?q=… (extension `session-search`) in scan mode against a real PostgreSQL: the normal list narrowed
to the sessions whose messages or stored name hold the words, every other list parameter, the count and the page
shape kept, cursor pages included."""

from __future__ import annotations

import re

import pytest

from tests.support.rows import Rows

NOW = 1767225600


def _seed(rows: Rows) -> None:
    """Twelve sessions: a third speak of lemons, one more is only *named* after lemons, one is a workflow whose
    lemon is only in its input (not a chat_history message, so not found)."""
    for n in range(12):
        kind = "team" if n % 4 == 3 else "agent"
        component = {"agent": "agent_id", "team": "team_id"}[kind]
        rows.session(f"s{n:02d}", kind, component_id=f"c{n % 2}", user_id=f"u{n % 3}", created_at=NOW + n)
        text = "we talked about lemons today" if n % 3 == 0 else "nothing sour here"
        rows.run(f"s{n:02d}", {"run_id": f"r{n:02d}", component: f"c{n % 2}", "status": "COMPLETED",
                               "messages": [{"role": "user", "content": text}]}, created_at=NOW + n)
    rows.session("named", "agent", component_id="c0", user_id="u0", created_at=NOW + 50,
                 session_data={"session_name": "Lemons, named"})
    rows.session("wf", "workflow", component_id="w", user_id="u0", created_at=NOW + 60)
    rows.run("wf", {"run_id": "rwf", "workflow_id": "w", "input": "lemons"}, created_at=NOW + 60)


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.data
    return [row["session_id"] for row in response.get_json()["data"]]


def test_q_keeps_sessions_whose_messages_or_stored_name_match(client, rows) -> None:
    _seed(rows)
    response = client.get("/sessions?q=lemons")
    assert _ids(response) == ["named", "s09", "s06", "s03", "s00"]
    assert response.headers["Agno-Session-Applied"] == "q" and response.headers["Agno-Search-Mode"] == "scan"
    assert response.get_json()["meta"] == {"page": 1, "limit": 20, "total_pages": 1, "total_count": 5,
                                           "search_time_ms": 0.0}
    assert _ids(client.get("/sessions?q=Talked+TODAY")) == ["s09", "s06", "s03", "s00"]  # every word, any case
    assert _ids(client.get("/sessions?q=talked+lemonade")) == []
    plain = client.get("/sessions")
    assert "Agno-Search-Mode" not in plain.headers and "Agno-Session-Applied" not in plain.headers


@pytest.mark.parametrize("extra", [
    "type=agent", "type=team", "user_id=u0", "component_id=c1", "sort_by=session_id&sort_order=asc",
    "limit=2&page=2", "limit=2&page=3", "created_after=1767225603", "fields=session_id,session_name",
    "include=run_count", "include_total=false&limit=3",
])
def test_q_keeps_every_other_list_parameter_the_count_and_the_shape(client, rows, extra) -> None:
    _seed(rows)
    matching = set(_ids(client.get("/sessions?q=lemons&limit=100")))
    searched = client.get(f"/sessions?q=lemons&{extra}")
    shape = client.get(f"/sessions?{extra}").get_json()
    body = searched.get_json()
    # the same rows the plain list would show for these parameters, narrowed to the matching sessions
    all_rows = client.get(f"/sessions?{re.sub(r'(^|&)(limit|page)=[^&]*', '', extra)}&limit=100").get_json()["data"]
    kept = [row for row in all_rows if row["session_id"] in matching]
    limit = int(re.search(r"limit=(\d+)", extra).group(1)) if "limit=" in extra else 20
    page = int(re.search(r"page=(\d+)", extra).group(1)) if "page=" in extra else 1
    assert body["data"] == kept[(page - 1) * limit: page * limit]
    assert list(body["meta"]) == list(shape["meta"])  # the page shape
    if "total_count" in body["meta"]:
        assert body["meta"]["total_count"] == len(kept)
        assert body["meta"]["total_pages"] == -(-len(kept) // limit)
    assert "q" in searched.headers["Agno-Session-Applied"].split(",")


def test_q_pages_by_cursor_without_repeating_or_skipping(client, rows) -> None:
    _seed(rows)
    whole = _ids(client.get("/sessions?q=lemons&limit=100"))
    seen, url = [], "/sessions?q=lemons&limit=2&cursor="
    while url:
        response = client.get(url)
        seen += _ids(response)
        following = response.get_json()["meta"]["next_cursor"]
        url = f"/sessions?q=lemons&limit=2&cursor={following}" if following else None
    assert seen == whole
    first = client.get("/sessions?q=lemons&limit=2&cursor=").get_json()["meta"]["next_cursor"]
    other = client.get(f"/sessions?q=limes&limit=2&cursor={first}")
    assert (other.status_code, other.get_json()) == (400, {"detail": "Cursor does not match the query"})


def test_bad_q_is_a_422_that_changes_nothing(client, rows) -> None:
    _seed(rows)
    before = rows.snapshot()
    for query, kind in (("q=", "string_too_short"), ("q=" + "y" * 513, "string_too_long"),
                        ("q=a%00", "string_pattern_mismatch")):
        response = client.get(f"/sessions?{query}")
        assert response.status_code == 422
        assert [e["type"] for e in response.get_json()["detail"]] == [kind]
    assert rows.snapshot() == before
