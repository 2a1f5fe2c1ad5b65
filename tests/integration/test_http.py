"""Cross-cutting HTTP behaviour: auth, CORS, routing errors, health probes, request ids, access log, 500s."""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit, urlunsplit

import pytest

from service.app import create_app
from service.core.config import load_settings
from service.core.logs import LOGGER
from tests.support.log_capture import Capture

KEY = "s3cret-key"
ALLOWED = "http://localhost:3000"
STRANGER = "https://evil.example"
PREFLIGHT_VARY = ("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, "
                  "Access-Control-Request-Private-Network")
CORS_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY"
HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def other_database(dsn: str, name: str) -> str:
    """The same server's URL with another database name (one that does not exist)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@pytest.fixture
def secured(make_app):
    """A client of an app that requires OS_SECURITY_KEY."""
    return make_app(OS_SECURITY_KEY=KEY).test_client()


@pytest.fixture
def access_log():
    """The access-log lines written while the test runs."""
    handler = Capture()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


# --- authentication -------------------------------------------------------------------------------------------


def test_missing_authorization_header_is_401(secured) -> None:
    response = secured.get("/sessions")
    assert response.status_code == 401
    assert response.data == b'{"detail":"Authorization header required"}'
    assert response.content_type == "application/json"
    assert "WWW-Authenticate" not in response.headers
    assert response.headers["Vary"] == "Origin"


@pytest.mark.parametrize("header", ["Bearer wrong", "wrong", f"Basic {KEY}", "Basic x", "Bearer", "Bearer   ",
                                    f"Bearer {KEY}x", f"Token {KEY}"])
def test_wrong_tokens_are_invalid(secured, header: str) -> None:
    response = secured.get("/sessions", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.data == b'{"detail":"Invalid authentication token"}'
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("header", [f"Bearer {KEY}", f"bearer {KEY}", f"BEARER {KEY}", f"bEaReR {KEY}", KEY])
def test_bearer_in_any_case_or_the_bare_key_passes(secured, header: str) -> None:
    response = secured.get("/sessions", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.get_json()["meta"]["total_count"] == 0


@pytest.mark.parametrize("path", ["/health", "/healthz", "/readyz"])
def test_probes_stay_open(secured, path: str) -> None:
    assert secured.get(path).status_code == 200


def test_every_sessions_route_is_guarded(secured) -> None:
    """Writes too: a refused request must not reach the database."""
    calls = [
        secured.post("/sessions?type=agent", json={"session_id": "x"}),
        secured.get("/sessions/x"),
        secured.patch("/sessions/x", json={}),
        secured.delete("/sessions/x"),
        secured.delete("/sessions", json={"session_ids": ["x"], "session_types": ["agent"]}),
        secured.post("/sessions/x/rename", json={"session_name": "n"}),
        secured.get("/sessions/x/runs"),
        secured.get("/sessions/x/run-previews"),
        secured.get("/sessions/x/runs/r"),
    ]
    assert [c.status_code for c in calls] == [401] * len(calls)
    listed = secured.get("/sessions", headers={"Authorization": f"Bearer {KEY}"}).get_json()
    assert listed["meta"]["total_count"] == 0


def test_unknown_paths_need_the_token_too(secured) -> None:
    assert secured.get("/nope").status_code == 401
    response = secured.get("/nope", headers={"Authorization": KEY})
    assert (response.status_code, response.data) == (404, b'{"detail":"Not Found"}')


def test_auth_runs_before_validation(secured) -> None:
    assert secured.get("/sessions?limit=0").status_code == 401
    response = secured.get("/sessions?limit=0", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["query", "limit"]


def test_401_for_an_allowed_origin_carries_wildcard_cors_grants(secured) -> None:
    response = secured.get("/sessions", headers={"Origin": ALLOWED})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == "*"
    assert response.headers["Vary"] == "Origin"


def test_401_for_a_disallowed_origin_has_no_grants(secured) -> None:
    response = secured.get("/sessions", headers={"Origin": STRANGER, "Authorization": "Bearer nope"})
    assert response.data == b'{"detail":"Invalid authentication token"}'
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_preflight_passes_without_a_token(secured) -> None:
    response = secured.options("/sessions", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"})
    assert (response.status_code, response.data) == (200, b"OK")


def test_no_key_configured_means_no_auth(client) -> None:
    assert client.get("/sessions", headers={"Authorization": "Bearer anything"}).status_code == 200


# --- CORS -----------------------------------------------------------------------------------------------------


def test_simple_request_from_an_allowed_origin(client) -> None:
    response = client.get("/sessions", headers={"Origin": "https://os.agno.com"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://os.agno.com"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Expose-Headers"] == "*"
    assert response.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Methods" not in response.headers


def test_simple_request_from_a_disallowed_origin(client) -> None:
    response = client.get("/sessions", headers={"Origin": STRANGER})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Expose-Headers"] == "*"
    assert response.headers["Vary"] == "Origin"


def test_no_origin_means_only_vary(client) -> None:
    response = client.get("/sessions")
    assert response.headers["Vary"] == "Origin"
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")]


def test_errors_carry_cors_headers_too(client) -> None:
    response = client.get("/sessions/missing", headers={"Origin": ALLOWED})
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Vary"] == "Origin"


def test_preflight_from_an_allowed_origin(client) -> None:
    response = client.options("/sessions", headers={
        "Origin": ALLOWED, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "content-type,x-custom"})
    assert response.status_code == 200
    assert response.data == b"OK"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Vary"] == PREFLIGHT_VARY
    assert response.headers["Access-Control-Allow-Methods"] == CORS_METHODS
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Headers"] == "content-type,x-custom"
    assert "Access-Control-Expose-Headers" not in response.headers


def test_preflight_from_a_disallowed_origin(client) -> None:
    response = client.options("/sessions/x", headers={
        "Origin": STRANGER, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert response.status_code == 400
    assert response.data == b"Disallowed CORS origin"
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == PREFLIGHT_VARY
    assert response.headers["Access-Control-Allow-Methods"] == CORS_METHODS
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization"


def test_configured_origins_replace_the_default_list(make_app) -> None:
    client = make_app(AGNO_CORS_ORIGINS="https://ui.example, https://admin.example").test_client()
    ok = client.get("/sessions", headers={"Origin": "https://admin.example"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://admin.example"
    default = client.get("/sessions", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in default.headers
    refused = client.options("/sessions", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 400


# --- routing --------------------------------------------------------------------------------------------------


def test_unknown_paths_are_404(client) -> None:
    for path in ("/nope", "/sessions/x/unknown", "/sessions/x/runs/r/extra"):
        response = client.get(path)
        assert (response.status_code, response.data) == (404, b'{"detail":"Not Found"}'), path
        assert response.headers["Vary"] == "Origin"


def test_options_without_preflight_headers_is_405(client) -> None:
    response = client.options("/sessions")
    assert (response.status_code, response.data) == (405, b'{"detail":"Method Not Allowed"}')
    assert response.headers["Allow"] == "GET"
    assert response.headers["Vary"] == "Origin"


def test_head_is_405_with_empty_body(client) -> None:
    response = client.head("/sessions")
    assert response.status_code == 405
    assert response.data == b""
    assert response.headers["Allow"] == "GET"


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/sessions/x/rename", "POST"),
    ("GET", "/sessions/x/rename", "POST"),
    ("PUT", "/sessions/x", "GET"),
    ("PUT", "/sessions", "GET"),
    ("POST", "/sessions/x/runs", "GET"),
])
def test_wrong_method_is_405_naming_the_first_route(client, method: str, path: str, allow: str) -> None:
    response = client.open(path, method=method)
    assert (response.status_code, response.data) == (405, b'{"detail":"Method Not Allowed"}')
    assert response.headers["Allow"] == allow


def test_trailing_slash_is_ignored(client, rows) -> None:
    rows.session("slash", "agent", component_id="a")
    plain, slashed = client.get("/sessions"), client.get("/sessions/")
    assert slashed.status_code == 200 and slashed.data == plain.data
    assert client.get("/sessions/slash/").get_json()["session_id"] == "slash"


def test_delete_of_a_missing_session_is_an_empty_204(client) -> None:
    response = client.delete("/sessions/never-existed")
    assert response.status_code == 204
    assert response.data == b""
    assert response.headers["Content-Type"] == "application/json"
    assert "Content-Length" not in response.headers
    assert response.headers["Vary"] == "Origin"


# --- health probes --------------------------------------------------------------------------------------------


def test_health_is_agentos_shaped_and_stable(client) -> None:
    first, second = client.get("/health"), client.get("/health")
    assert first.status_code == 200 and first.content_type == "application/json"
    assert re.fullmatch(rb'\{"status":"ok","instantiated_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z"\}',
                        first.data)
    assert first.data == second.data  # the instant the app was built, not "now"


def test_healthz_is_a_bare_ok(client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.data) == (200, b'{"status":"ok"}')


def test_readyz_names_every_database(app, client) -> None:
    db_id = app.config["SETTINGS"].default_db_id
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "databases": {db_id: "ok"}}


def test_readyz_is_503_naming_the_database_that_does_not_answer(make_app, pg_dsn: str) -> None:
    """The second database points at a database name the server does not have."""
    mapping = {"main": pg_dsn, "gone": other_database(pg_dsn, "nope")}
    make_app()  # tables for "main"; the app under test is built by hand because "gone" cannot be migrated
    app = create_app(load_settings({"AGNO_SESSION_DSN_MAP": json.dumps(mapping)}))
    try:
        client = app.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "detail": "Database 'gone' is not answering",
                                       "databases": {"main": "ok", "gone": "unavailable"}}
        assert client.get("/sessions?db_id=main").status_code == 200
        down = client.get("/sessions?db_id=gone")
        assert (down.status_code, down.data) == (503, b'{"detail":"Database \'gone\' is unavailable"}')
        assert client.get("/healthz").status_code == 200
    finally:
        app.config["REGISTRY"].close()


def test_readyz_answers_status_alone_unless_the_caller_holds_the_key(make_app) -> None:
    """With OS_SECURITY_KEY the db_ids are for the key's bearer; anyone else (wrong key too) gets the status, never
    a 401: an orchestrator's probe needs no credential."""
    app = make_app(OS_SECURITY_KEY=KEY)
    client, db_id = app.test_client(), app.config["SETTINGS"].default_db_id
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer"}):
        response = client.get("/readyz", headers=headers)
        assert (response.status_code, response.data) == (200, b'{"status":"ok"}'), headers
    for header in (f"Bearer {KEY}", KEY):
        assert client.get("/readyz", headers={"Authorization": header}).get_json() == {
            "status": "ok", "databases": {db_id: "ok"}}
    detailed = make_app(OS_SECURITY_KEY=KEY, AGNO_READYZ_DETAILS="true").test_client()
    assert detailed.get("/readyz").get_json() == {"status": "ok", "databases": {db_id: "ok"}}


def test_readyz_unready_names_nothing_without_credentials(make_app, pg_dsn: str) -> None:
    mapping = {"main": pg_dsn, "gone": other_database(pg_dsn, "nope")}
    make_app()
    app = create_app(load_settings({"AGNO_SESSION_DSN_MAP": json.dumps(mapping), "OS_SECURITY_KEY": KEY}))
    try:
        client = app.test_client()
        response = client.get("/readyz")
        assert (response.status_code, response.data) == (503, b'{"status":"unavailable"}')
        detailed = client.get("/readyz", headers={"Authorization": f"Bearer {KEY}"})
        assert detailed.status_code == 503 and detailed.get_json()["detail"] == "Database 'gone' is not answering"
    finally:
        app.config["REGISTRY"].close()


# --- request ids and the access log ---------------------------------------------------------------------------


def test_request_id_is_echoed(client) -> None:
    response = client.get("/sessions", headers={"X-Request-ID": "trace-42.a:b"})
    assert response.headers["X-Request-ID"] == "trace-42.a:b"


def test_request_id_is_generated_when_absent_or_unusable(client) -> None:
    ids = [client.get("/sessions").headers["X-Request-ID"] for _ in range(2)]
    ids.append(client.get("/sessions", headers={"X-Request-ID": "has spaces\tand tabs"}).headers["X-Request-ID"])
    ids.append(client.get("/sessions", headers={"X-Request-ID": "x" * 129}).headers["X-Request-ID"])
    assert all(HEX_ID.match(i) for i in ids)
    assert len(set(ids)) == 4


def test_fresh_request_ids_differ_in_a_forked_worker() -> None:
    """gunicorn forks its workers after the app is loaded: a child must not repeat its parent's ids."""
    import os

    from service.api.middleware import _new_request_id

    parent = {_new_request_id() for _ in range(3)}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, " ".join(_new_request_id() for _ in range(3)).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = set(os.read(read, 4096).decode().split())
    os.close(read)
    os.close(write)
    assert len(child) == 3 and all(HEX_ID.match(i) for i in child)
    assert not parent & child and {i[:16] for i in child} != {i[:16] for i in parent}


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nope", 404), ("GET", "/sessions?limit=0", 422), ("GET", "/sessions?db_id=zz", 404),
    ("PUT", "/sessions", 405), ("GET", "/sessions/missing", 404),
])
def test_errors_carry_request_ids(client, method: str, path: str, status: int) -> None:
    fresh = client.open(path, method=method)
    assert fresh.status_code == status and HEX_ID.match(fresh.headers["X-Request-ID"])
    given = client.open(path, method=method, headers={"X-Request-ID": "err-1"})
    assert given.headers["X-Request-ID"] == "err-1"


def test_401_and_preflight_carry_request_ids(secured) -> None:
    assert secured.get("/sessions", headers={"X-Request-ID": "auth-1"}).headers["X-Request-ID"] == "auth-1"
    preflight = secured.options("/sessions", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"})
    assert HEX_ID.match(preflight.headers["X-Request-ID"])


def test_one_structured_access_log_line_per_request(app, client, access_log) -> None:
    db_id = app.config["SETTINGS"].default_db_id
    listed = client.get("/sessions?limit=5", headers={"X-Request-ID": "log-1"})
    missing = client.get("/sessions/none")
    client.get("/healthz")
    entries = access_log.requests()
    assert len(entries) == 3
    first, second, third = entries
    assert first["request_id"] == "log-1" == listed.headers["X-Request-ID"]
    assert (first["method"], first["path"], first["status"], first["db_id"], first["client_ip"]) == (
        "GET", "/sessions", 200, db_id, "127.0.0.1")
    assert isinstance(first["duration_ms"], (int, float)) and first["duration_ms"] >= 0
    assert first["level"] == "info" and first["logger"] == LOGGER
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert (second["status"], second["path"], second["db_id"]) == (404, "/sessions/none", db_id)
    assert second["request_id"] == missing.headers["X-Request-ID"]
    assert (third["path"], third["status"], third["db_id"]) == ("/healthz", 200, None)
    for line in access_log.lines:
        assert "\n" not in line


def test_access_log_covers_401s_and_routing_errors(secured, access_log) -> None:
    secured.get("/sessions")
    secured.put("/sessions", headers={"Authorization": KEY})
    assert [(e["status"], e["method"]) for e in access_log.requests()] == [(401, "GET"), (405, "PUT")]


def test_forwarded_for_is_ignored_without_trusted_proxies(client, access_log) -> None:
    client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "198.51.100.1"},
               environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert access_log.requests()[0]["client_ip"] == "10.0.0.9"


@pytest.mark.parametrize(("proxies", "headers", "expected"), [
    ("1", {"X-Forwarded-For": "1.1.1.1, 203.0.113.7"}, "203.0.113.7"),
    ("2", {"X-Forwarded-For": "1.1.1.1, 203.0.113.7"}, "1.1.1.1"),
    ("3", {"X-Forwarded-For": "1.1.1.1, 203.0.113.7"}, "1.1.1.1"),
    ("1", {"X-Real-IP": "198.51.100.1"}, "198.51.100.1"),
    ("1", {}, "10.0.0.9"),
])
def test_forwarded_for_counts_behind_trusted_proxies(make_app, access_log, proxies: str, headers: dict,
                                                     expected: str) -> None:
    client = make_app(AGNO_TRUSTED_PROXIES=proxies).test_client()
    client.get("/healthz", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert access_log.requests()[-1]["client_ip"] == expected


# --- unhandled exceptions -------------------------------------------------------------------------------------


@pytest.fixture
def exploding(make_app):
    """An app with throwaway routes that fail the way a defect would."""
    app = make_app()

    def boom():
        raise ZeroDivisionError("secret detail")

    def bad_value():
        raise ValueError("do not leak this")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/bad-value", "bad_value", bad_value)
    return app.test_client()


def test_unhandled_exception_is_a_bare_500(exploding, access_log) -> None:
    response = exploding.get("/boom", headers={"Origin": ALLOWED, "X-Request-ID": "crash-1"})
    assert response.status_code == 500
    assert response.data == b'{"detail":"Internal server error (ZeroDivisionError)"}'
    assert response.content_type == "application/json"
    assert "Vary" not in response.headers
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")]
    assert response.headers["X-Request-ID"] == "crash-1"
    assert [(e["status"], e["path"]) for e in access_log.requests()] == [(500, "/boom")]
    crash = next(json.loads(line) for line in access_log.lines if json.loads(line)["msg"] == "unhandled error")
    assert crash["request_id"] == "crash-1" and "ZeroDivisionError" in crash["exc"]


def test_unhandled_exception_message_is_never_leaked(exploding) -> None:
    response = exploding.get("/bad-value")
    assert response.data == b'{"detail":"Internal server error (ValueError)"}'


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({"Access-Control-Request-Method": "GET"}, 405, b'{"detail":"Method Not Allowed"}'),  # no Origin: routed
        ({"Origin": "https://agno.com", "Access-Control-Request-Method": "get"}, 400, b"Disallowed CORS method"),
        ({"Origin": "https://agno.com", "Access-Control-Request-Method": "QUERY",
          "Access-Control-Request-Private-Network": "false"}, 400, b"Disallowed CORS private-network"),
        ({"Origin": "https://evil.com", "Access-Control-Request-Method": "FOO",
          "Access-Control-Request-Private-Network": "true"}, 400, b"Disallowed CORS origin, method, private-network"),
    ],
)
def test_preflight_checks_as_starlette_does(client, headers: dict, status: int, body: bytes) -> None:
    """Recorded from the real AgentOS: each failed preflight check is named, in this order."""
    response = client.options("/sessions", headers=headers)
    assert (response.status_code, response.data) == (status, body)


def test_readyz_is_not_fooled_by_a_busy_pool(make_app) -> None:
    """Every pooled connection in use is load, not a dead database: readiness probes on its own connection."""
    import time

    app = make_app(AGNO_POOL_SIZE="1", AGNO_REQUEST_TIMEOUT="30")
    db = next(iter(app.config["REGISTRY"]))
    with db.transaction():
        started = time.perf_counter()
        response = app.test_client().get("/readyz")
        elapsed = time.perf_counter() - started
    assert response.status_code == 200 and elapsed < 5


@pytest.mark.parametrize("path", ["/sessions/%2Fx", "/sessions//x/runs", "/sessions/a%2F/rename"])
def test_empty_path_segments_match_no_route(client, path: str) -> None:
    """Recorded from AgentOS: a %2F that leaves `//` in the path is a plain 404, never a redirect."""
    response = client.get(path)
    assert (response.status_code, response.data) == (404, b'{"detail":"Not Found"}')
