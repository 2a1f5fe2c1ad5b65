"""Archive, restore, the archived list, purge and legal holds over HTTP (extensions `archive` and `legal-holds`):
their answers, JWT isolation and the admin scope, the 409 of held sessions on every delete path, the 503 without
`migrate --lifecycle`, and the opt-in trigger refusing a delete made behind this service's back."""

from __future__ import annotations

import psycopg2
import pytest

from service.cli import migrate
from tests.support.jwt_tokens import ADMIN, ALICE, BOB, JWT_ENV, token
from tests.support.openapi_spec import answer_problems
from tests.support.rows import execute

HELD = b'{"detail":"Session is under legal hold"}'
ARCHIVED = "ai.agno_sessions_svc_archived_sessions"


def lifecycle_app(make_app, hold_trigger: bool = False, **env: str):
    app = make_app(**env)
    migrate(app.config["SETTINGS"], lifecycle=True, hold_trigger=hold_trigger, idempotency=True)
    return app


@pytest.fixture
def client(make_app):
    return lifecycle_app(make_app).test_client()


def seed(rows, sid: str = "s1", user_id: str | None = "u1") -> None:
    rows.session(sid, component_id="bot", user_id=user_id, session_data={"session_name": f"name {sid}"},
                 metadata={"tier": "free"})
    for i in range(2):
        rows.run(sid, {"run_id": f"{sid}-r{i}", "agent_id": "bot", "status": "COMPLETED",
                       "messages": [{"id": f"m{i}", "role": "user", "content": f"hello {i}",
                                     "created_at": 1767225600 + i}]},  # without one, agno renders the clock
                 user_id=user_id)


def test_archive_hides_the_session_and_restore_brings_back_the_same_detail(client, rows) -> None:
    seed(rows)
    before = client.get("/sessions/s1")
    assert client.post("/sessions/s1/archive", json={"reason": "tidy"}).status_code == 204
    assert client.get("/sessions/s1").status_code == 404
    assert client.get("/sessions").get_json()["data"] == []
    listed = client.get("/sessions/-/archived")
    item = listed.get_json()["data"][0]
    assert item["session_id"] == "s1" and item["session_name"] == "name s1" and item["reason"] == "tidy"
    assert isinstance(item["archived_at"], int) and item["archived_by"] is None
    assert listed.get_json()["meta"]["total_count"] == 1
    restored = client.post("/sessions/s1/restore")
    assert restored.status_code == 200 and restored.headers["ETag"]
    after = client.get("/sessions/s1")
    assert after.data == before.data and restored.data == after.data
    assert restored.headers["ETag"] == after.headers["ETag"]
    assert client.post("/sessions/s1/restore").data == b'{"detail":"Archived session with id \'s1\' not found"}'


def test_archive_answers_404_for_a_missing_session_and_412_for_a_stale_tag(client, rows) -> None:
    seed(rows)
    assert client.post("/sessions/nope/archive").status_code == 404
    stale = client.post("/sessions/s1/archive", headers={"If-Match": '"0123456789abcdef0123456789abcdef"'})
    assert stale.status_code == 412
    tag = client.get("/sessions/s1").headers["ETag"]
    assert client.post("/sessions/s1/archive", headers={"If-Match": tag}).status_code == 204


def test_restore_of_a_reused_id_is_409_and_keeps_the_archive(client, rows) -> None:
    seed(rows)
    client.post("/sessions/s1/archive")
    rows.session("s1")
    answer = client.post("/sessions/s1/restore")
    assert (answer.status_code, answer.data) == (409, b'{"detail":"Session with id \'s1\' already exists"}')
    assert rows.execute(f"SELECT count(*) FROM {ARCHIVED}") == [(1,)]


def test_bulk_archive_and_purge_with_agnos_cascade(client, rows) -> None:
    for sid in ("s1", "s2", "s3"):
        seed(rows, sid)
    rows.execute("CREATE TABLE ai.agno_compactions (compaction_id varchar PRIMARY KEY, session_id varchar NOT NULL, "
                 "created_at bigint NOT NULL)")
    rows.execute("INSERT INTO ai.agno_compactions VALUES ('c1', 's1', 1), ('c3', 's3', 1)")
    bulk = client.post("/sessions/-/archive", json={"session_ids": ["s1", "s2", "missing"]})
    assert bulk.get_json() == {"archived": ["s1", "s2"]}
    assert client.post("/sessions/-/archive", json={"session_ids": []}).status_code == 422
    assert client.delete("/sessions/-/archived/s1").status_code == 204
    assert client.delete("/sessions/-/archived/s1").status_code == 404
    assert rows.execute("SELECT session_id FROM ai.agno_compactions") == [("s3",)]
    metrics = client.get("/metrics").get_data(as_text=True)
    for action, count in (("archived", 2), ("purged", 1)):
        assert f'agno_session_lifecycle_sessions_total{{action="{action}",db_id="' in metrics
        assert any(line.startswith(f'agno_session_lifecycle_sessions_total{{action="{action}"')
                   and line.endswith(f" {count}.0") for line in metrics.splitlines())
    assert [i["session_id"] for i in client.get("/sessions/-/archived").get_json()["data"]] == ["s2"]


def test_the_archived_list_pages_by_cursor_and_filters(client, rows) -> None:
    for sid in ("s1", "s2", "s3"):
        seed(rows, sid, user_id="u2" if sid == "s3" else "u1")
    client.post("/sessions/-/archive", json={"session_ids": ["s1", "s2", "s3"]})
    first = client.get("/sessions/-/archived?limit=2&cursor=&sort_by=session_id&sort_order=asc")
    assert [i["session_id"] for i in first.get_json()["data"]] == ["s1", "s2"]
    following = first.get_json()["meta"]["next_cursor"]
    rest = client.get(f"/sessions/-/archived?limit=2&cursor={following}&sort_by=session_id&sort_order=asc")
    assert [i["session_id"] for i in rest.get_json()["data"]] == ["s3"]
    assert client.get(f"/sessions?limit=2&cursor={following}&sort_by=session_id&sort_order=asc").status_code == 400
    mine = client.get("/sessions/-/archived?user_id=u2").get_json()
    assert [i["session_id"] for i in mine["data"]] == ["s3"] and mine["meta"]["total_count"] == 1


def test_a_held_session_refuses_archive_purge_and_deletes(client, rows) -> None:
    seed(rows, "s1")
    seed(rows, "s2")
    hold = client.put("/sessions/s1/hold", json={"reason": "litigation", "until": None})
    assert hold.status_code == 200 and hold.get_json()["reason"] == "litigation"
    for answer in (client.post("/sessions/s1/archive"),
                   client.post("/sessions/-/archive", json={"session_ids": ["s2", "s1"]}),
                   client.delete("/sessions/s1"),
                   client.delete("/sessions", json={"session_ids": ["s2", "s1"], "session_types": ["agent"] * 2})):
        assert (answer.status_code, answer.data) == (409, HELD)
    assert rows.execute("SELECT count(*) FROM ai.agno_sessions") == [(2,)]
    assert client.delete("/sessions/s1/hold").status_code == 204
    assert client.delete("/sessions/s1/hold").status_code == 404
    assert client.post("/sessions/s1/archive").status_code == 204
    client.put("/sessions/s1/hold", json={"reason": "again"})  # a hold reaches archived sessions too
    assert (client.delete("/sessions/-/archived/s1").data) == HELD
    ended = client.put("/sessions/s2/hold", json={"reason": "over", "until": 1})
    assert ended.get_json()["until"] == 1 and client.delete("/sessions/s2").status_code == 204
    assert client.put("/sessions/nope/hold", json={"reason": "x"}).status_code == 404
    assert client.put("/sessions/s1/hold", json={"until": 5}).status_code == 422
    assert client.put("/sessions/s1/hold", json={"reason": "again", "until": 2.0e12}).get_json()["until"] == 2 * 10**12
    fraction = client.put("/sessions/s1/hold", json={"reason": "r", "until": 2.5})
    assert fraction.status_code == 422 and fraction.get_json()["detail"][0]["type"] == "int_from_float"


def test_without_migrate_the_routes_answer_503_and_agentos_routes_are_unchanged(make_app, rows_free_client) -> None:
    client, rows = rows_free_client
    seed(rows)
    unavailable = b'{"detail":"Archive and legal holds are not available on this database"}'
    for answer in (client.post("/sessions/s1/archive"), client.get("/sessions/-/archived"),
                   client.post("/sessions/s1/restore"), client.put("/sessions/s1/hold", json={"reason": "r"}),
                   client.delete("/sessions/-/archived/s1")):
        assert (answer.status_code, answer.data) == (503, unavailable)
    assert client.delete("/sessions/s1").status_code == 204


@pytest.fixture
def rows_free_client(app, rows):
    return app.test_client(), rows


def test_jwt_isolation_and_the_admin_scope(make_app, rows) -> None:
    client = lifecycle_app(make_app, **JWT_ENV).test_client()
    seed(rows, "a1", user_id="alice")
    assert client.post("/sessions/a1/archive", headers=BOB).status_code == 404
    assert client.post("/sessions/a1/archive", headers=token("alice", scopes=("sessions:read",))).status_code == 403
    assert client.post("/sessions/a1/archive", headers=ALICE).status_code == 204
    assert client.get("/sessions/-/archived", headers=BOB).get_json()["data"] == []
    assert client.post("/sessions/a1/restore", headers=BOB).status_code == 404
    assert client.delete("/sessions/-/archived/a1", headers=BOB).status_code == 404
    assert client.put("/sessions/a1/hold", json={"reason": "r"}, headers=ALICE).status_code == 403
    assert client.put("/sessions/a1/hold", json={"reason": "r"}, headers=ADMIN).status_code == 200
    assert client.delete("/sessions/-/archived/a1", headers=ALICE).data == HELD
    assert client.delete("/sessions/a1/hold", headers=ALICE).status_code == 403
    assert client.post("/sessions/a1/restore", headers=ALICE).get_json()["user_id"] == "alice"


def test_the_opt_in_trigger_refuses_deletes_made_behind_the_service(make_app, pg_dsn, rows) -> None:
    client = lifecycle_app(make_app, hold_trigger=True).test_client()
    seed(rows, "s1")
    seed(rows, "s2")
    client.put("/sessions/s1/hold", json={"reason": "litigation"})
    with pytest.raises(psycopg2.Error, match="Session s1 is under legal hold") as refused:
        execute(pg_dsn, "DELETE FROM ai.agno_sessions WHERE session_id = 's1'")
    assert refused.value.pgcode == "AS409"
    execute(pg_dsn, "DELETE FROM ai.agno_sessions WHERE session_id = 's2'")
    assert (client.delete("/sessions/s1").data) == HELD  # the trigger stops this service's own delete first
    execute(pg_dsn, "BEGIN; SET LOCAL agno_session.override_holds = 'on'; "
                    "DELETE FROM ai.agno_sessions WHERE session_id = 's1'; COMMIT")  # what an admin's erasure does
    assert rows.execute("SELECT count(*) FROM ai.agno_sessions") == [(0,)]


def test_the_answers_conform_to_the_document(client, rows) -> None:
    seed(rows, "s1")
    seed(rows, "s2")
    requests = [
        ("POST", "/sessions/s1/archive", {"json": {"reason": "tidy"}}, 204),
        ("POST", "/sessions/s1/archive", {}, 404),
        ("GET", "/sessions/-/archived?limit=1&cursor=", {}, 200),
        ("GET", "/sessions/-/archived?fields=session_id&include=run_count", {}, 200),
        ("POST", "/sessions/s1/restore", {}, 200),
        ("POST", "/sessions/s1/restore", {}, 404),
        ("PUT", "/sessions/s1/hold", {"json": {"reason": "litigation", "until": None}}, 200),
        ("POST", "/sessions/s1/archive", {}, 409),
        ("POST", "/sessions/-/archive", {"json": {"session_ids": ["s1", "s2"]}}, 409),
        ("DELETE", "/sessions/s1", {}, 409),
        ("DELETE", "/sessions/s1/hold", {}, 204),
        ("DELETE", "/sessions/s1/hold", {}, 404),
        ("POST", "/sessions/-/archive", {"json": {"session_ids": ["s1", "s2"], "reason": "bulk"}}, 200),
        ("DELETE", "/sessions/-/archived/s1", {}, 204),
        ("DELETE", "/sessions/-/archived/s1", {}, 404),
    ]
    assert answer_problems(client, requests, client.application.config["SETTINGS"].default_db_id) == []
