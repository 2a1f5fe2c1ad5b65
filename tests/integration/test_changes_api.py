"""GET /sessions/-/changes (extension `change-feed`): the issue's answer shape from the head onwards, cursors that
resume without loss or repeat and refuse tampering (400) and pruned positions (410), filters and JWT isolation,
include=session rendering the list's row, long-polling that wakes on a commit, and 422s for bad parameters."""

from __future__ import annotations

import io
import threading
import time

import pytest

from service.cli import migrate
from service.core.config import load_settings
from service.storage import changes
from service.storage.registry import open_database
from tests.support.jwt_tokens import ADMIN, ALICE, JWT_ENV
from tests.support.openapi_spec import answer_problems
from tests.support.rows import Rows

TABLE = "ai.agno_sessions_svc_changes"


def install(pg_dsn: str) -> None:
    migrate(load_settings({"AGNO_PG_DSN": pg_dsn}), changes=True, out=io.StringIO())


@pytest.fixture
def feed(make_app, pg_dsn):
    app = make_app(AGNO_DB_ID="db1")
    install(pg_dsn)
    rows = Rows(pg_dsn)
    yield app.test_client(), rows
    rows.close()


def head(client, query: str = "", headers=None) -> str:
    answer = client.get(f"/sessions/-/changes{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["next_cursor"]


def drain(client, cursor: str, query: str = "", headers=None) -> tuple[list[dict], str]:
    found = []
    while True:
        answer = client.get(f"/sessions/-/changes?after={cursor}{query}", headers=headers)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        found += body["data"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return found, cursor


def test_without_the_change_log_it_answers_503(make_app):
    client = make_app().test_client()
    answer = client.get("/sessions/-/changes")
    assert answer.status_code == 503
    assert answer.get_json() == {"detail": "The change feed is not available on this database"}


def test_the_feed_starts_at_the_head_and_has_the_issues_shape(feed):
    client, rows = feed
    rows.session("before", "agent")
    cursor = head(client)
    rows.session("s1", "team", component_id="team-1", user_id="u1")
    rows.execute("UPDATE ai.agno_sessions SET summary = '{\"summary\": \"x\"}' WHERE session_id = 's1'")
    answer = client.get(f"/sessions/-/changes?after={cursor}&limit=1")
    assert answer.headers["Agno-Session-Applied"] == "after,limit"
    body = answer.get_json()
    assert body["has_more"] is True and len(body["data"]) == 1
    event = body["data"][0]
    assert list(event) == ["id", "type", "at", "db_id", "session_id", "session_type", "user_id", "component_id",
                           "run_id", "changed"]
    assert (event["type"], event["db_id"], event["session_id"], event["session_type"], event["user_id"],
            event["component_id"], event["run_id"], event["changed"]) == (
        "session.created", "db1", "s1", "team", "u1", "team-1", None, [])
    assert isinstance(event["at"], int)
    rest, _ = drain(client, event["id"])  # an event's id resumes right after it
    assert [(e["type"], e["changed"]) for e in rest] == [("session.updated", ["summary"])]
    again, _ = drain(client, body["next_cursor"])
    assert again == rest


def test_cursors_refuse_tampering_and_other_filters(feed):
    client, _ = feed
    cursor = head(client, "?type=agent")
    broken = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    assert client.get(f"/sessions/-/changes?after={broken}&type=agent").get_json() == {"detail": "Invalid cursor"}
    answer = client.get(f"/sessions/-/changes?after={cursor}&type=team")
    assert answer.status_code == 400
    assert answer.get_json() == {"detail": "Cursor does not match the query"}


def test_a_cursor_older_than_the_log_is_410(feed, pg_dsn):
    client, rows = feed
    cursor = head(client)
    rows.session("old", "agent")
    rows.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
    rows.execute(f"UPDATE {TABLE} SET at = at - 8 * 86400 * 1000")
    rows.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    db = open_database(load_settings({"AGNO_PG_DSN": pg_dsn}).databases[0], 1, 10.0)
    try:
        assert changes.prune(db, 7 * 86400, int(time.time() * 1000)) == 1
    finally:
        db.close()
    answer = client.get(f"/sessions/-/changes?after={cursor}")
    assert answer.status_code == 410
    assert answer.data == b'{"detail":"Cursor is older than the change log; resynchronise with GET /sessions"}'


def test_filters_narrow_the_feed(feed):
    client, rows = feed
    query = "&type=agent&events=run.*"
    cursor = head(client, "?" + query[1:])
    rows.session("a", "agent", component_id="ag")
    rows.session("t", "team", component_id="tm")
    rows.run("a", {"run_id": "r1", "agent_id": "ag"})
    rows.run("t", {"run_id": "r2", "team_id": "tm"})
    events, _ = drain(client, cursor, query)
    assert [(e["type"], e["run_id"]) for e in events] == [("run.created", "r1")]


def test_include_session_embeds_the_list_row_read_at_delivery(feed):
    client, rows = feed
    cursor = head(client, "?include=session")
    rows.session("s1", "agent", component_id="ag", session_data={"session_name": "named"}, metadata={"k": 1})
    rows.session("s2", "agent", component_id="ag")
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 's2'")
    events, _ = drain(client, cursor, "&include=session")
    listed = {row["session_id"]: row for row in client.get("/sessions").get_json()["data"]}
    assert [(e["session_id"], e["session"]) for e in events] == [
        ("s1", listed["s1"]), ("s2", None), ("s2", None)]


@pytest.mark.parametrize(("query", "loc"), [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("wait=31", "wait"), ("wait=-1", "wait"),
    ("events=session.renamed", "events"), ("events=", "events"), ("include=runs", "include"), ("type=bot", "type"),
])
def test_bad_parameters_are_422(feed, query, loc):
    client, rows = feed
    before = rows.snapshot()
    answer = client.get(f"/sessions/-/changes?{query}")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["detail"][0]["loc"] == ["query", loc]
    assert rows.snapshot() == before


def test_a_long_poll_answers_with_a_commit_made_while_it_waits(feed):
    client, rows = feed
    cursor = head(client)
    answers: list = []
    polling = threading.Thread(target=lambda: answers.append(
        client.get(f"/sessions/-/changes?after={cursor}&wait=20").get_json()))
    polling.start()
    writer = Rows(rows.dsn)
    writer.session("late", "agent")
    writer.close()
    polling.join(30)
    assert answers and [e["session_id"] for e in answers[0]["data"]] == ["late"]


def test_a_long_poll_with_nothing_to_say_moves_its_cursor_on(feed):
    client, rows = feed
    cursor = head(client)
    body = client.get(f"/sessions/-/changes?after={cursor}&wait=1").get_json()
    assert body["data"] == [] and body["has_more"] is False
    rows.session("next", "agent")
    events, _ = drain(client, body["next_cursor"])
    assert [e["session_id"] for e in events] == ["next"]


def test_a_scoped_caller_sees_only_its_own_sessions_events(make_app, pg_dsn):
    client = make_app(**JWT_ENV).test_client()
    install(pg_dsn)
    rows = Rows(pg_dsn)
    alice, admin = ALICE, ADMIN
    try:
        mine, everyone = head(client, headers=alice), head(client, headers=admin)
        mine_for_bob = head(client, "?user_id=bob", headers=alice)
        rows.session("a-1", user_id="alice")
        rows.session("b-1", user_id="bob")
        rows.run("a-1", {"run_id": "r-bob-in-a", "agent_id": "ag"}, user_id="bob")  # alice's session, bob's run
        rows.run("b-1", {"run_id": "r-b", "agent_id": "ag"}, user_id="bob")
        rows.session("n-1", user_id=None)
        seen, _ = drain(client, mine, headers=alice)
        assert [(e["session_id"], e["run_id"]) for e in seen] == [("a-1", None), ("a-1", "r-bob-in-a")]
        asked_for_bob, _ = drain(client, mine_for_bob, "&user_id=bob", headers=alice)
        assert asked_for_bob == []  # asking for another user's events narrows, never widens
        admin_seen, _ = drain(client, everyone, headers=admin)
        assert {e["session_id"] for e in admin_seen} == {"a-1", "b-1", "n-1"}
        # a cursor read for alice is bound to her: replayed by the admin it is refused, not widened
        assert client.get(f"/sessions/-/changes?after={mine}", headers=admin).status_code == 400
    finally:
        rows.close()


def test_answers_with_the_log_conform_to_the_document(feed):
    client, rows = feed
    cursor = head(client, "?include=session")
    rows.session("s1", "agent", component_id="ag", session_data={"session_name": "n"})
    rows.run("s1", {"run_id": "r1", "agent_id": "ag"})
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 's1'")
    requests = [("GET", f"/sessions/-/changes?after={cursor}&include=session", {}, 200),
                ("GET", "/sessions/-/changes?events=session.*,run.created&limit=1000&wait=0", {}, 200),
                ("GET", f"/sessions/-/changes?after={cursor}&type=team", {}, 400),
                ("GET", "/sessions/-/changes?events=nothing", {}, 422)]
    assert answer_problems(client, requests, "db1") == []
