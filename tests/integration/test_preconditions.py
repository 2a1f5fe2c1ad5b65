"""Extension `preconditions`: the entity tag of detail-shaped answers, If-None-Match on the detail (304) and If-Match
on every write to one session (412, nothing written; 428 when required). The header rules alone:
tests/unit/test_etags.py; no lost update under concurrency: tests/system/test_preconditions_concurrency.py."""

from __future__ import annotations

import json

import pytest

from tests.support.metrics import samples

MERGE = "application/merge-patch+json"
CHANGED = {"detail": "Session has changed"}
AGENT_RUN = {"run_id": "r1", "agent_id": "a1", "status": "COMPLETED", "created_at": 1767225610,
             "input": {"input_content": "hi"}, "content": "hello",
             "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


@pytest.fixture
def session(rows):
    rows.session("s1", "agent", component_id="a1", session_data={"session_state": {"n": 0}})
    rows.run("s1", AGENT_RUN, run_index=0)
    return "s1"


def tag_of(client, session_id: str = "s1", query: str = "") -> str:
    response = client.get(f"/sessions/{session_id}{query}")
    assert response.status_code == 200, response.data
    return response.headers["ETag"]


WRITES = {  # each kind of write to one session, given extra headers
    "patch": lambda c, h: c.patch("/sessions/s1", json={"metadata": {"k": 1}}, headers=h),
    "state": lambda c, h: c.patch("/sessions/s1/state", data=json.dumps({"n": 1}), content_type=MERGE, headers=h),
    "rename": lambda c, h: c.post("/sessions/s1/rename", json={"session_name": "New"}, headers=h),
    "delete": lambda c, h: c.delete("/sessions/s1", headers=h),
}


# --------------------------------------------------------------------------- the tag


def test_reads_of_an_unchanged_session_give_one_strong_tag(client, session) -> None:
    first = tag_of(client)
    assert first.startswith('"') and first.endswith('"') and len(first) == 34
    assert tag_of(client) == first
    assert tag_of(client, query="?history_limit=1") == first  # the window tags the session, not its page
    assert tag_of(client, query="?session_type=agent") == first


def test_every_kind_of_write_changes_the_tag_and_answers_the_new_one(client, session) -> None:
    for kind in ("patch", "state", "rename"):
        before = tag_of(client)
        answer = WRITES[kind](client, {})
        assert answer.status_code == 200, (kind, answer.data)
        assert answer.headers["ETag"] != before, kind
        assert tag_of(client) == answer.headers["ETag"] == tag_of(client, query="?history_limit=1"), kind


def test_writes_by_others_change_the_tag(client, rows, session) -> None:
    """Whoever writes (agno's runtime, a script): the row, a new run, a changed run, a deleted run."""
    changes = [
        "UPDATE ai.agno_sessions SET updated_at = updated_at WHERE session_id = 's1'",  # even an identical write
        None,  # a new run
        "UPDATE ai.agno_runs SET status = 'ERROR' WHERE run_id = 'r2'",
        "DELETE FROM ai.agno_runs WHERE run_id = 'r1'",
    ]
    for change in changes:
        before = tag_of(client)
        if change is None:
            rows.run("s1", {**AGENT_RUN, "run_id": "r2"}, run_index=1)
        else:
            rows.execute(change)
        assert tag_of(client) != before, change
        assert tag_of(client, query="?history_limit=1") == tag_of(client)


def test_vacuum_freeze_and_table_rewrites_keep_the_tag(client, rows, session) -> None:
    before = tag_of(client)
    for maintenance in ("VACUUM FREEZE ai.agno_sessions", "VACUUM FREEZE ai.agno_runs", "VACUUM FULL ai.agno_runs",
                        "VACUUM FULL ai.agno_sessions"):
        rows.execute(maintenance)
        assert tag_of(client) == before, maintenance


def test_a_create_answers_the_tag_its_first_read_gives(client) -> None:
    plain = client.post("/sessions", json={"session_id": "c1", "agent_id": "a1"})
    assert plain.status_code == 201 and plain.headers["ETag"] == tag_of(client, "c1")
    runs = [{**AGENT_RUN, "run_id": rid} for rid in ("z9", "Ä-run", "a,1 2")]
    preloaded = client.post("/sessions", json={"session_id": "c2", "agent_id": "a1", "runs": runs})
    assert preloaded.status_code == 201, preloaded.data
    assert preloaded.headers["ETag"] == tag_of(client, "c2") != plain.headers["ETag"]


# --------------------------------------------------------------------------- If-None-Match


@pytest.mark.parametrize("query", ["", "?history_limit=1"])
def test_if_none_match_answers_304_without_a_body(client, session, query: str) -> None:
    tag = tag_of(client)
    for header in (tag, "*", f'"other", {tag}', f"W/{tag}"):
        response = client.get(f"/sessions/s1{query}", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.data == b"" and response.headers["ETag"] == tag and "Content-Type" not in response.headers
    stale = client.get(f"/sessions/s1{query}", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == tag and stale.get_json()["session_id"] == "s1"


def test_if_none_match_on_a_missing_session_is_agentos_404(client) -> None:
    response = client.get("/sessions/none", headers={"If-None-Match": "*"})
    assert response.status_code == 404


# --------------------------------------------------------------------------- If-Match


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_stale_if_match_is_412_and_writes_nothing(client, rows, session, kind: str) -> None:
    current = tag_of(client)
    before = rows.snapshot()
    for header in ('"stale"', f"W/{current}", "garbage, 'x'"):
        response = WRITES[kind](client, {"If-Match": header})
        assert response.status_code == 412, (header, response.data)
        assert response.get_json() == CHANGED and response.headers["ETag"] == current
        assert response.headers["Content-Type"] == "application/json"
    assert rows.snapshot() == before


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_matching_if_match_writes(client, rows, session, kind: str) -> None:
    current = tag_of(client)
    response = WRITES[kind](client, {"If-Match": f'"other", {current}'})
    assert response.status_code in (200, 204), response.data
    if kind == "delete":
        assert rows.session_row("s1") is None
    else:
        assert response.headers["ETag"] != current and WRITES[kind](client, {"If-Match": current}).status_code == 412


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_if_match_star(client, rows, session, kind: str) -> None:
    assert WRITES[kind](client, {"If-Match": "*"}).status_code in (200, 204)
    rows.execute("DELETE FROM ai.agno_sessions")
    missing = WRITES[kind](client, {"If-Match": "*"})
    assert missing.status_code == 412 and missing.get_json() == CHANGED and "ETag" not in missing.headers
    assert WRITES[kind](client, {}).status_code == (204 if kind == "delete" else 404)


def test_a_foreign_users_session_is_missing_to_if_match(client, rows) -> None:
    rows.session("s1", "agent", component_id="a1", user_id="ada")
    response = client.patch("/sessions/s1?user_id=bob", json={"metadata": {}}, headers={"If-Match": "*"})
    assert response.status_code == 412 and "ETag" not in response.headers


def test_bad_input_is_still_422_before_the_precondition(client, rows, session) -> None:
    before = rows.snapshot()
    response = client.post("/sessions/s1/rename", json={}, headers={"If-Match": '"stale"'})
    assert response.status_code == 422 and rows.snapshot() == before


# --------------------------------------------------------------------------- AGNO_REQUIRE_IF_MATCH


def test_required_if_match_refuses_blind_writes_with_428(make_app, rows) -> None:
    client = make_app(AGNO_REQUIRE_IF_MATCH="true").test_client()
    rows.session("s1", "agent", component_id="a1", session_data={"session_state": {"n": 0}})
    before = rows.snapshot()
    for kind, write in WRITES.items():
        response = write(client, {})
        assert response.status_code == 428, kind
        assert response.get_json() == {"detail": "If-Match is required"}
    assert rows.snapshot() == before
    assert client.post("/sessions", json={"session_id": "c1"}).status_code == 201  # creates are not gated
    assert WRITES["patch"](client, {"If-Match": tag_of(client)}).status_code == 200


# --------------------------------------------------------------------------- cost: no statement added


def statements(client) -> float:
    """SQL statements run so far (the metrics' per-statement histogram; BEGIN and COMMIT are not counted)."""
    text = client.get("/metrics").get_data(as_text=True)
    return sum(v for (name, _), v in samples(text).items() if name == "agno_session_db_query_duration_seconds_count")


@pytest.mark.parametrize(("kind", "plain", "with_if_match"), [
    ("detail", 1, 1), ("patch", 2, 2), ("state", 2, 2), ("rename", 1, 2), ("delete", 1, 2),
])
def test_the_tag_costs_no_statement(client, session, kind: str, plain: int, with_if_match: int) -> None:
    """The tag is computed by the statement that reads (or writes) the row: a request without the new headers runs
    as many statements as before the extension; If-Match adds the locking read only where the write had none."""
    write = WRITES.get(kind, lambda c, h: c.get("/sessions/s1", headers=h))
    for headers, expected in (({}, plain), ({"If-Match": "*"}, with_if_match)):
        if kind == "delete":
            client.post("/sessions", json={"session_id": "s1", "agent_id": "a1"})
        before = statements(client)
        assert write(client, headers).status_code in (200, 204)
        assert statements(client) - before == expected, headers
