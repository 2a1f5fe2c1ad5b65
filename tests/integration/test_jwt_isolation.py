"""Per-user and per-tenant isolation: every route attempted across users and tenants, a foreign session answered
exactly as a missing one, and nothing foreign seen, counted or changed."""

from __future__ import annotations

import json

import pytest

from service.auth.caller import Caller, MissingIdentity
from service.lib.memory import CallerMemory, ConversationMemory
from service.lib.workflow import Step, Workflow
from service.storage.errors import WorkflowSessionConflict
from tests.support.jwt_tokens import ADMIN, ALICE, BOB, EMPTY, JWT_ENV, token
from tests.support.rows import Rows


def seed(rows: Rows) -> None:
    """alice's session (with a run bob's client once wrote into it), bob's, an unowned one and an ""-owned one."""
    rows.session("a-1", user_id="alice", session_data={"session_name": "alice's", "session_state": {"k": 1}})
    rows.run("a-1", {"run_id": "r-a1", "agent_id": "ag", "status": "COMPLETED", "messages": [
        {"role": "user", "content": "secret of alice"}]}, user_id="alice")
    rows.run("a-1", {"run_id": "r-b-in-a", "agent_id": "ag", "status": "COMPLETED"}, user_id="bob")
    rows.session("b-1", user_id="bob", session_data={"session_name": "bob's"})
    rows.run("b-1", {"run_id": "r-b1", "agent_id": "ag", "status": "COMPLETED"}, user_id="bob")
    rows.session("n-1", user_id=None, session_data={"session_name": "nobody's"})
    rows.session("e-1", user_id="", session_data={"session_name": "empty's"})


@pytest.fixture
def iso(make_app, pg_dsn):
    app = make_app(**JWT_ENV)  # isolation is on by default in JWT mode
    rows = Rows(pg_dsn)
    seed(rows)
    yield app.test_client(), rows
    rows.close()


# Every route with a session in its path: (method, path template, body). {id} is the session asked for.
SESSION_ROUTES = [
    ("GET", "/sessions/{id}", None),
    ("GET", "/sessions/{id}?type=agent", None),
    ("GET", "/sessions/{id}?user_id=alice", None),
    ("GET", "/sessions/{id}?history_limit=1", None),
    ("GET", "/sessions/{id}/runs", None),
    ("GET", "/sessions/{id}/runs?user_id=alice", None),
    ("GET", "/sessions/{id}/run-previews", None),
    ("GET", "/sessions/{id}/runs?limit=1&order=desc", None),
    ("GET", "/sessions/{id}/run-previews?limit=1", None),
    ("GET", "/sessions/{id}/runs/r-a1?exclude=messages", None),
    ("GET", "/sessions/{id}/runs/r-a1", None),
    ("POST", "/sessions/{id}/rename?user_id=alice", {"session_name": "pwned"}),
    ("PATCH", "/sessions/{id}?user_id=alice", {"session_name": "pwned", "session_state": {"x": 1}}),
    ("PATCH", "/sessions/{id}/state?user_id=alice", {"x": 1}),
    ("DELETE", "/sessions/{id}?user_id=alice", None),
]


def call(client, method: str, path: str, body, headers):
    data = None if body is None else json.dumps(body)
    return client.open(path, method=method, data=data, content_type="application/json", headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), SESSION_ROUTES, ids=[f"{m} {p}" for m, p, _ in SESSION_ROUTES])
@pytest.mark.parametrize("foreign", ["a-1", "n-1", "e-1"])
def test_a_foreign_session_answers_exactly_as_a_missing_one(iso, method, path, body, foreign) -> None:
    client, rows = iso
    before = rows.snapshot()
    theirs = call(client, method, path.format(id=foreign), body, BOB)
    missing = call(client, method, path.format(id="no-such-id"), body, BOB)
    assert theirs.status_code == missing.status_code
    volatile = {"X-Request-ID", "Content-Length"}  # Content-Length follows the id's length, compared via the body
    assert {k: v for k, v in theirs.headers.items() if k not in volatile} == {
        k: v for k, v in missing.headers.items() if k not in volatile}
    assert theirs.data.replace(foreign.encode(), b"<id>") == missing.data.replace(b"no-such-id", b"<id>")
    assert theirs.status_code in (204, 404)
    assert rows.snapshot() == before  # nothing read into, renamed, patched, merged or deleted


def test_list_shows_only_the_callers_rows_and_count(iso) -> None:
    client, _ = iso
    for query in ("", "?user_id=alice", "?user_id=", "?limit=1&page=2", "?session_name=alice"):
        body = client.get(f"/sessions{query}", headers=BOB).get_json()
        assert {s["session_id"] for s in body["data"]} <= {"b-1"}, query
        assert body["meta"]["total_count"] == (0 if "alice" in query and "session_name" in query else 1), query
    text = client.get("/sessions", headers=BOB).data
    assert b"alice" not in text and b"nobody" not in text


def test_list_extensions_see_only_the_callers_rows(iso) -> None:
    """Cursor pages, include and fields are the caller's list: a cursor from another user's list is refused, the
    included values never come from a foreign session."""
    client, _ = iso
    first = client.get("/sessions?cursor=&limit=1&include=run_count,last_message", headers=ALICE).get_json()
    assert [(r["session_id"], r["run_count"]) for r in first["data"]] == [("a-1", 2)]
    assert first["meta"]["next_cursor"] is None and first["meta"]["total_count"] == 1
    bob = client.get("/sessions?cursor=&limit=5&user_id=alice&include=last_message", headers=BOB).get_json()
    assert [r["session_id"] for r in bob["data"]] == ["b-1"] and bob["data"][0]["last_message"] is None
    admin = client.get("/sessions?cursor=&limit=1", headers=ADMIN).get_json()
    token = admin["meta"]["next_cursor"]
    replayed = client.get(f"/sessions?cursor={token}&limit=1", headers=ALICE)
    assert replayed.status_code == 400 and replayed.get_json() == {"detail": "Cursor does not match the query"}


def test_admin_is_unscoped_and_its_user_id_query_filters(iso) -> None:
    client, _ = iso
    assert client.get("/sessions", headers=ADMIN).get_json()["meta"]["total_count"] == 4
    only = client.get("/sessions?user_id=alice", headers=ADMIN).get_json()
    assert [s["session_id"] for s in only["data"]] == ["a-1"]
    assert client.get("/sessions/a-1", headers=ADMIN).status_code == 200


def test_own_sessions_work_on_every_route(iso) -> None:
    client, rows = iso
    assert client.get("/sessions/a-1", headers=ALICE).get_json()["session_name"] == "alice's"
    assert [r["run_id"] for r in client.get("/sessions/a-1/runs", headers=ALICE).get_json()] == ["r-a1", "r-b-in-a"]
    assert client.get("/sessions/a-1/runs/r-b1", headers=ALICE).get_json() == {
        "detail": "Run with ID r-b1 not found in session a-1"}
    assert client.post("/sessions/a-1/rename", json={"session_name": "mine"}, headers=ALICE).status_code == 200
    assert client.patch("/sessions/a-1/state", json={"k": 2}, headers=ALICE).get_json()["session_state"] == {"k": 2}
    assert client.delete("/sessions/a-1", headers=ALICE).status_code == 204
    assert rows.session_row("a-1") is None


def test_create_stamps_the_token_sub_and_409s_say_nothing_about_foreign_ids(iso) -> None:
    client, rows = iso
    created = client.post("/sessions", json={"session_id": "new-1", "user_id": "alice"}, headers=BOB)
    assert created.status_code == 201 and created.get_json()["user_id"] == "bob"
    assert rows.session_row("new-1")["user_id"] == "bob"
    for foreign in ("a-1", "n-1", "e-1"):
        taken = client.post("/sessions", json={"session_id": foreign}, headers=BOB)
        assert taken.status_code == 409
        assert taken.get_json()["detail"] == ("Could not create a session with the supplied session_id. Omit "
                                              "session_id to have one generated, or choose a different one.")
    own = client.post("/sessions", json={"session_id": "b-1"}, headers=BOB)
    assert own.get_json()["detail"] == "Session with id 'b-1' already exists. Use PATCH /sessions/b-1 to update it."
    admin = client.post("/sessions", json={"session_id": "adm", "user_id": "alice"}, headers=ADMIN)
    assert admin.get_json()["user_id"] == "root"  # AgentOS stamps the sub for admins too


def test_bulk_delete_removes_only_own_sessions_and_never_runs_of_kept_ones(iso) -> None:
    client, rows = iso
    ids = ["a-1", "b-1", "n-1", "e-1"]
    response = client.delete("/sessions?user_id=alice", json={"session_ids": ids, "session_types": ["agent"] * 4},
                             headers=BOB)
    assert response.status_code == 204
    assert rows.session_row("b-1") is None and rows.run_ids("b-1") == []
    assert all(rows.session_row(i) is not None for i in ("a-1", "n-1", "e-1"))
    assert rows.run_ids("a-1") == ["r-a1", "r-b-in-a"]  # bob's run inside alice's session stays (AgentOS: deleted)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/sessions", None), ("POST", "/sessions", {"session_id": "x", "user_id": "alice"}),
    ("DELETE", "/sessions", {"session_ids": ["e-1"], "session_types": ["agent"]}),
    *SESSION_ROUTES])
def test_an_empty_or_missing_sub_is_no_identity(iso, method, path, body) -> None:
    client, rows = iso
    before = rows.snapshot()
    for headers in (EMPTY, token(None)):
        response = call(client, method, path.format(id="e-1"), body, headers)
        assert response.status_code == 403
        assert response.get_json() == {"detail": "Authenticated request is missing a user identity"}
    assert rows.snapshot() == before


def test_isolation_off_restores_agentos_behaviour(make_app, pg_dsn) -> None:
    client = make_app(**JWT_ENV, AGNO_USER_ISOLATION="false").test_client()
    rows = Rows(pg_dsn)
    seed(rows)
    try:
        assert client.get("/sessions/a-1", headers=BOB).status_code == 200
        assert client.get("/sessions", headers=BOB).get_json()["meta"]["total_count"] == 4
        created = client.post("/sessions", json={"session_id": "x", "user_id": "carol"}, headers=EMPTY)
        assert created.get_json()["user_id"] == "carol"  # deviation jwt-empty-sub: "" is not stamped
    finally:
        rows.close()


@pytest.fixture
def tenants(make_app, pg_dsn):
    """Two tenants, each with its own database (schemas stand in for databases here)."""
    mapping = {"acme-db": {"dsn": pg_dsn, "schema": "ai", "tenant": "acme"},
               "globex-db": {"dsn": pg_dsn, "schema": "ai2", "tenant": "globex"}}
    app = make_app(**JWT_ENV, AGNO_SESSION_DSN_MAP=json.dumps(mapping), AGNO_JWT_TENANT_CLAIM="tenant")
    acme, globex = Rows(pg_dsn, schema="ai"), Rows(pg_dsn, schema="ai2")
    acme.session("acme-s", user_id="alice", session_data={"session_name": "acme secret"})
    globex.session("globex-s", user_id="alice", session_data={"session_name": "globex secret"})
    yield app.test_client(), acme, globex
    acme.close()
    globex.close()


def test_a_tenant_never_reaches_another_tenants_database(tenants) -> None:
    client, acme, globex = tenants
    at_acme = token("alice", tenant="acme")
    admin_at_acme = token("root", scopes=("agent_os:admin",), tenant="acme")
    assert [s["session_id"] for s in client.get("/sessions", headers=at_acme).get_json()["data"]] == ["acme-s"]
    before = globex.snapshot()
    for headers in (at_acme, admin_at_acme):
        for method, path, body in [("GET", "/sessions", None), ("POST", "/sessions", {"session_id": "z"}),
                                   ("DELETE", "/sessions", {"session_ids": ["globex-s"], "session_types": ["agent"]}),
                                   *SESSION_ROUTES]:
            target = path.format(id="globex-s")
            target += ("&" if "?" in target else "?") + "db_id=globex-db"
            response = call(client, method, target, body, headers)
            assert response.status_code == 404, (method, target)
            assert response.get_json() == {"detail": "No database found with id 'globex-db'"}
    assert globex.snapshot() == before
    assert client.get("/sessions/globex-s", headers=at_acme).status_code == 404  # no db_id: its own database
    assert client.get("/sessions?db_id=acme-db", headers=at_acme).status_code == 200


def test_tokens_without_a_tenant_are_refused(tenants) -> None:
    client, _, _ = tenants
    missing = client.get("/sessions", headers=token("alice"))
    assert missing.status_code == 401 and missing.get_json() == {
        "detail": 'Invalid token: Token is missing the "tenant" claim'}
    wrong_type = client.get("/sessions", headers=token("alice", tenant=["acme"]))
    assert wrong_type.get_json() == {"detail": 'Invalid token: The "tenant" claim must be a non-empty string'}
    unknown = client.get("/sessions", headers=token("alice", tenant="initech"))
    assert unknown.status_code == 400


def test_workflow_library_takes_the_callers_identity(app, rows) -> None:
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    flow = Workflow("w", "wf", [Step("s", lambda ctx: "done")], db=db)
    flow.run("hi", session_id="wf-alice", caller=Caller("alice", isolated=True))
    assert rows.session_row("wf-alice")["user_id"] == "alice"
    with pytest.raises(WorkflowSessionConflict):
        flow.run("hi", session_id="wf-alice", user_id="alice", caller=Caller("bob", isolated=True))
    rows.session("wf-nobody", "workflow", user_id=None)
    with pytest.raises(WorkflowSessionConflict):
        flow.run("hi", session_id="wf-nobody", caller=Caller("bob", isolated=True))
    with pytest.raises(MissingIdentity):
        flow.run("hi", session_id="wf-x", caller=Caller(None, isolated=True))
    flow.run("hi", session_id="wf-alice", user_id="alice", caller=Caller("root", isolated=False))  # admin


def test_memory_library_takes_the_callers_identity() -> None:
    memory = ConversationMemory()
    memory.add("alice", {"role": "user", "content": "alice's"})
    bob = CallerMemory(memory, Caller("bob", isolated=True))
    bob.add("alice", {"role": "user", "content": "bob's"})
    assert bob.get_messages("alice") == [{"role": "user", "content": "bob's"}]
    bob.clear_all()
    assert memory.get_messages("alice") == [{"role": "user", "content": "alice's"}] and memory.size("bob") == 0
    with pytest.raises(MissingIdentity):
        CallerMemory(memory, Caller("", isolated=True)).get_messages("alice")
    admin = CallerMemory(memory, Caller("root"))
    assert admin.get_messages("alice") == [{"role": "user", "content": "alice's"}]


def test_readyz_and_metrics_name_no_tenant_to_a_caller_without_credentials(tenants) -> None:
    """Under tenants /readyz is status only but to an admin token, which sees its own tenant's databases; /metrics
    (db_id labels) refuses every scrape until AGNO_METRICS_TOKEN is set."""
    client, _, _ = tenants
    for headers in ({}, token("alice", tenant="acme"), token("root", scopes=("agent_os:admin",))):
        response = client.get("/readyz", headers=headers)
        assert (response.status_code, response.data) == (200, b'{"status":"ok"}'), headers
    admin = client.get("/readyz", headers=token("root", scopes=("agent_os:admin",), tenant="globex"))
    assert admin.get_json() == {"status": "ok", "databases": {"globex-db": "ok"}}
    for headers in ({}, ADMIN, token("root", scopes=("agent_os:admin",), tenant="acme")):
        scrape = client.get("/metrics", headers=headers)
        assert scrape.status_code == 401 and b"-db" not in scrape.data
        assert scrape.get_json()["detail"] == ("Metrics name every tenant's databases: set AGNO_METRICS_TOKEN and "
                                               "scrape with it")


def test_readyz_details_switch_is_refused_under_tenants(pg_dsn) -> None:
    from service.core.config import ConfigError, load_settings

    mapping = {"acme-db": {"dsn": pg_dsn, "tenant": "acme"}}
    with pytest.raises(ConfigError, match="AGNO_READYZ_DETAILS=true would show every tenant's db_id"):
        load_settings({**JWT_ENV, "AGNO_SESSION_DSN_MAP": json.dumps(mapping), "AGNO_JWT_TENANT_CLAIM": "tenant",
                       "AGNO_READYZ_DETAILS": "true"})


def test_a_metrics_token_opens_metrics_under_tenants(make_app, pg_dsn) -> None:
    mapping = {"acme-db": {"dsn": pg_dsn, "schema": "ai", "tenant": "acme"}}
    client = make_app(**JWT_ENV, AGNO_SESSION_DSN_MAP=json.dumps(mapping), AGNO_JWT_TENANT_CLAIM="tenant",
                      AGNO_METRICS_TOKEN="prom-credential").test_client()
    scrape = client.get("/metrics", headers={"Authorization": "Bearer prom-credential"})
    assert scrape.status_code == 200 and b'db_id="acme-db"' in scrape.data
    assert client.get("/sessions", headers={"Authorization": "Bearer prom-credential"}).status_code == 401
