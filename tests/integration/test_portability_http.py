"""Extension `portability` over HTTP: a session's bundle from GET /sessions/{id}/export imports through
POST /sessions/-/import into another database exactly; JWT isolation holds both ways; a damaged bundle is a 422
naming the line and writes nothing; an Idempotency-Key replays the first answer."""

from __future__ import annotations

import json

from tests.support.jwt_tokens import ADMIN, ALICE, BOB, JWT_ENV
from tests.support.rows import Rows

NDJSON = {"content_type": "application/x-ndjson"}


def seed(rows: Rows) -> None:
    """alice's session (one run of it written by bob's client) and bob's."""
    rows.session("a-1", user_id="alice", session_data={"session_name": "alice's", "session_state": {"k": 1}})
    rows.run("a-1", {"run_id": "r-a1", "agent_id": "ag", "status": "COMPLETED", "messages": [
        {"role": "user", "content": "secret of alice"}]}, user_id="alice")
    rows.run("a-1", {"run_id": "r-b-in-a", "agent_id": "ag", "status": "COMPLETED"}, user_id="bob")
    rows.session("b-1", user_id="bob", session_data={"session_name": "bob's"})
    rows.run("b-1", {"run_id": "r-b1", "agent_id": "ag", "status": "COMPLETED"}, user_id="bob")


def stable(body):
    """An answer without its volatile values (ids and times AgentOS generates for messages stored without them)."""
    if isinstance(body, dict):
        history = body.get("chat_history")
        if history is not None:
            body = {**body, "chat_history": [{k: v for k, v in m.items() if k not in ("id", "created_at")}
                                             for m in history]}
    return body


def test_export_then_import_into_another_layout(make_app, pg_dsn) -> None:
    app = make_app(AGNO_SESSION_DSN_MAP=json.dumps({
        "a": pg_dsn, "b": {"dsn": pg_dsn, "schema": "ai2", "session_table": "s2", "runs_table": "r2"}}))
    client = app.test_client()
    rows = Rows(pg_dsn)
    try:
        seed(rows)
        exported = client.get("/sessions/a-1/export?db_id=a")
        assert exported.status_code == 200 and exported.mimetype == "application/x-ndjson"
        lines = exported.data.splitlines()
        assert [json.loads(x)["kind"] for x in lines] == ["header", "session", "trailer"]
        answer = client.post("/sessions/-/import?db_id=b", data=exported.data, **NDJSON)
        assert answer.status_code == 200, answer.data
        assert answer.json == {"dry_run": False, "created": 1, "replaced": 0, "skipped": 0, "failed": 0,
                               "sessions": [{"session_id": "a-1", "line": 2, "status": "created"}]}
        # AgentOS's own answers about the session are the same in both layouts
        for path in ("/sessions/a-1", "/sessions/a-1/runs", "/sessions?user_id=alice"):
            a, b = client.get(f"{path}{'&' if '?' in path else '?'}db_id=a"), client.get(
                f"{path}{'&' if '?' in path else '?'}db_id=b")
            assert (a.status_code, stable(a.json)) == (b.status_code, stable(b.json)), path
        again = client.post("/sessions/-/import?db_id=b", data=exported.data, **NDJSON)
        assert again.json["skipped"] == 1
        damaged = exported.data.replace(b"alice's", b"mallory's")
        refused = client.post("/sessions/-/import?db_id=b&on_conflict=replace", data=damaged, **NDJSON)
        assert refused.status_code == 400
        assert refused.json["detail"].startswith("Bundle refused, nothing written: line 3: ")
        assert "line 2 was changed" in refused.json["detail"]
        assert client.get("/sessions/a-1?db_id=b").json["session_name"] == "alice's"
    finally:
        rows.close()


def test_isolation_exports_own_sessions_and_imports_as_the_caller(make_app, pg_dsn) -> None:
    app = make_app(**JWT_ENV)
    client = app.test_client()
    rows = Rows(pg_dsn)
    try:
        seed(rows)
        assert client.get("/sessions/b-1/export", headers=ALICE).status_code == 404  # bob's: as if missing
        mine = client.get("/sessions/a-1/export", headers=ALICE)
        assert mine.status_code == 200
        bobs = client.get("/sessions/b-1/export", headers=ADMIN).data
        client.delete("/sessions/b-1", headers=ADMIN)
        imported = client.post("/sessions/-/import", data=bobs, headers=ALICE, **NDJSON)
        assert imported.json["created"] == 1
        owners = rows.execute("SELECT DISTINCT user_id FROM ai.agno_sessions WHERE session_id = 'b-1' UNION "
                              "SELECT DISTINCT user_id FROM ai.agno_runs WHERE session_id = 'b-1'")
        assert owners == [("alice",)]  # bob's user ids became the caller's
        # bob cannot replace alice's session with his bundle, nor learn more than that it exists
        taken = client.post("/sessions/-/import?on_conflict=replace", data=mine.data, headers=BOB, **NDJSON)
        assert taken.json["failed"] == 1 and "already exists" in taken.json["sessions"][0]["reason"]
        assert rows.execute("SELECT user_id FROM ai.agno_sessions WHERE session_id = 'a-1'") == [("alice",)]
    finally:
        rows.close()


def test_idempotency_key_replays_the_import(make_app, pg_dsn) -> None:
    app = make_app()
    from service.cli import migrate

    migrate(app.config["SETTINGS"], idempotency=True)
    client = app.test_client()
    rows = Rows(pg_dsn)
    try:
        seed(rows)
        bundle = client.get("/sessions/a-1/export").data
        client.delete("/sessions/a-1")
        key = {"Idempotency-Key": "import-1"}
        first = client.post("/sessions/-/import", data=bundle, headers=key, **NDJSON)
        second = client.post("/sessions/-/import", data=bundle, headers=key, **NDJSON)
        assert first.json["created"] == 1 and second.data == first.data
        assert second.headers["Idempotent-Replayed"] == "true"
    finally:
        rows.close()
