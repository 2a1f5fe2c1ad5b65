"""The real thing: `agno-session serve` under gunicorn, spoken to over TCP, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest

from tests.support.graceful_stop import patch_during_sigterm
from tests.support.rows import Rows
from tests.support.servers import AgnoSession, serving, worker_pids


def test_serves_http_and_stops_gracefully_on_sigterm(db_env, pg_dsn: str) -> None:
    with serving(db_env) as server:
        deadline = time.monotonic() + 5  # gunicorn reports ready just before it forks the workers
        while len(worker_pids(server.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(worker_pids(server.proc.pid)) == 2
        status, headers, body = server.request("GET", "/healthz")
        assert (status, body) == (200, b'{"status":"ok"}')
        status, headers, body = server.request("POST", "/sessions?type=agent",
                                               {"session_id": "over-tcp", "session_name": "Real HTTP"},
                                               headers={"X-Request-ID": "tcp-1"})
        assert status == 201, body
        assert headers["content-type"] == "application/json" and headers["x-request-id"] == "tcp-1"
        status, headers, body = server.request("GET", "/sessions", headers={"Origin": "http://localhost:3000"})
        assert status == 200
        assert [s["session_name"] for s in json.loads(body)["data"]] == ["Real HTTP"]
        assert headers["vary"] == "Origin" and headers["access-control-allow-origin"] == "http://localhost:3000"
        status, headers, body = server.request("DELETE", "/sessions/over-tcp")
        assert (status, body, headers["content-type"]) == (204, b"", "application/json")
        assert "content-length" not in headers and "transfer-encoding" not in headers
        status, headers, body = server.request("GET", "/nope")
        assert (status, body) == (404, b'{"detail":"Not Found"}') and len(headers["x-request-id"]) == 32
        # the app is built once before forking, so every worker reports the same instant
        instants = {json.loads(server.request("GET", "/health")[2])["instantiated_at"] for _ in range(12)}
        assert len(instants) == 1
        assert server.request("GET", "/readyz")[2] == b'{"status":"ok","databases":{"srv":"ok"}}'
        code, took = server.stop()
        assert code == 0
        assert took < 8
    entries = server.access_log()
    posted = next(e for e in entries if e["request_id"] == "tcp-1")
    assert (posted["method"], posted["path"], posted["status"], posted["db_id"], posted["client_ip"]) == (
        "POST", "/sessions", 201, "srv", "127.0.0.1")
    assert len(entries) == 18


def test_serve_creates_missing_tables(db_env, pg_dsn: str) -> None:
    with serving(db_env, workers=1, threads=2) as server:
        rows = Rows(pg_dsn)
        try:
            assert rows.execute("SELECT count(*) FROM ai.agno_sessions") == [(0,)]
            assert rows.execute("SELECT count(*) FROM ai.agno_runs") == [(0,)]
        finally:
            rows.close()
        assert server.stop()[0] == 0


def test_in_flight_request_finishes_during_graceful_stop(db_env, pg_dsn: str) -> None:
    """A request waiting on a row lock when SIGTERM arrives is still answered before the process exits."""
    with serving(db_env, workers=1, threads=2) as server:
        status, body = patch_during_sigterm(server, pg_dsn)
        assert status == 200 and json.loads(body)["session_name"] == "late"
        assert server.proc.wait(10) == 0


def test_statement_timeout_answers_504(db_env, pg_dsn: str) -> None:
    with serving({**db_env, "AGNO_REQUEST_TIMEOUT": "1"}, workers=1, threads=2) as server:
        rows = Rows(pg_dsn)
        rows.session("locked", "agent", component_id="a", session_data={"session_name": "before"})
        locker = psycopg2.connect(pg_dsn)
        try:
            with locker.cursor() as cur:
                cur.execute("SELECT 1 FROM ai.agno_sessions WHERE session_id = 'locked' FOR UPDATE")
            started = time.monotonic()
            status, headers, body = server.request("PATCH", "/sessions/locked", {"session_name": "after"})
            took = time.monotonic() - started
            assert (status, body) == (504, b'{"detail":"Request timed out"}')
            assert headers["content-type"] == "application/json" and headers["vary"] == "Origin"
            assert 0.9 <= took < 4
            locker.rollback()
            assert (rows.session_row("locked")["session_data"] or {}).get("session_name") == "before"
            status, _, body = server.request("PATCH", "/sessions/locked", {"session_name": "after"})
            assert status == 200 and json.loads(body)["session_name"] == "after"
        finally:
            locker.close()
            rows.close()
        assert server.stop()[0] == 0
    assert any(e["status"] == 504 and e["path"] == "/sessions/locked" for e in server.access_log())


def test_requests_wait_for_a_free_pooled_connection(db_env, pg_dsn: str) -> None:
    """One connection, eight threads, sixteen requests: the others queue behind a request holding it."""
    with serving({**db_env, "AGNO_POOL_SIZE": "1"}, workers=1, threads=8) as server:
        rows = Rows(pg_dsn)
        rows.session("held", "agent", component_id="a")
        for i in range(3):
            rows.session(f"s{i}", "agent", component_id="a", created_at=1767225600 + i)
        locker = psycopg2.connect(pg_dsn)
        try:
            with locker.cursor() as cur:
                cur.execute("SELECT 1 FROM ai.agno_sessions WHERE session_id = 'held' FOR UPDATE")
            finished: dict[int, float] = {}

            def call(i: int) -> int:
                if i == 0:
                    status = server.request("PATCH", "/sessions/held", {"session_name": "h"})[0]
                else:
                    status = server.request("GET", f"/sessions?limit={i}")[0]
                finished[i] = time.monotonic()
                return status

            with ThreadPoolExecutor(16) as pool:
                holder = pool.submit(call, 0)
                time.sleep(0.3)  # the PATCH now holds the only connection, waiting on the row lock
                others = [pool.submit(call, i) for i in range(1, 16)]
                time.sleep(0.7)
                assert not any(f.done() for f in others)  # queued, not failed
                released = time.monotonic()
                locker.rollback()
                statuses = [holder.result(20)] + [f.result(20) for f in others]
            assert statuses == [200] * 16
            assert all(finished[i] >= released for i in range(1, 16))
        finally:
            locker.close()
            rows.close()
        assert server.stop()[0] == 0



def raw_status_line(port: int, method: str, path: str, body: bytes = b"", headers: tuple[str, ...] = ()) -> bytes:
    """The first line of the answer, byte for byte, as the client reads it off the socket."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *headers]
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        received = b""
        while b"\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    return received.split(b"\r\n", 1)[0]


def test_status_lines_carry_agentos_reason_phrases(db_env, pg_dsn: str) -> None:
    """Each status this service answers, with the reason phrase the real AgentOS (uvicorn, Python 3.11) sends;
    agno's client quotes it in its error messages, so werkzeug's `404 NOT FOUND` would show."""
    env = {**db_env, "OS_SECURITY_KEY": "k", "AGNO_MAX_BODY_BYTES": "1000", "AGNO_REQUEST_TIMEOUT": "1"}
    auth = ("Authorization: Bearer k",)
    origin = "Origin: http://localhost:3000"
    with serving(env, workers=1, threads=4) as server:
        def line(method: str, path: str, body: bytes = b"", headers: tuple[str, ...] = auth) -> bytes:
            return raw_status_line(server.port, method, path, body, headers)

        rows = Rows(pg_dsn)
        rows.session("locked", "agent", component_id="a")
        locker = psycopg2.connect(pg_dsn)
        try:
            got = {
                "200": line("GET", "/sessions"),
                "201": line("POST", "/sessions?type=agent", b'{"session_id": "line"}'),
                "409": line("POST", "/sessions?type=agent", b'{"session_id": "line"}'),
                "204": line("DELETE", "/sessions/line"),
                "400": line("GET", "/sessions?table=agno_sessions"),
                "401": line("GET", "/sessions", headers=()),
                "404": line("GET", "/sessions/missing"),
                "405": line("PUT", "/sessions"),
                "413": line("POST", "/sessions?type=agent", b'{"session_name": "%s"}' % (b"x" * 1000)),
                "422": line("GET", "/sessions?page=abc"),
                "503": line("GET", "/sessions/x/media/images/a.png"),
                "preflight 200": line("OPTIONS", "/sessions", headers=(origin, "Access-Control-Request-Method: GET")),
                "preflight 400": line("OPTIONS", "/sessions", headers=("Origin: http://elsewhere.example",
                                                                      "Access-Control-Request-Method: GET")),
            }
            with locker.cursor() as cur:  # a row lock outlasting the 1 s statement timeout
                cur.execute("SELECT 1 FROM ai.agno_sessions WHERE session_id = 'locked' FOR UPDATE")
            got["504"] = line("PATCH", "/sessions/locked", b'{"session_name": "late"}')
            locker.rollback()
            with locker.cursor() as cur:  # a column the service reads has gone: an unhandled error
                cur.execute("ALTER TABLE ai.agno_sessions RENAME COLUMN user_id TO user_id_gone")
            locker.commit()
            got["500"] = line("GET", "/sessions/locked")
        finally:
            locker.close()
            rows.close()
        assert server.stop()[0] == 0
    assert got == {
        "200": b"HTTP/1.1 200 OK",
        "201": b"HTTP/1.1 201 Created",
        "409": b"HTTP/1.1 409 Conflict",
        "204": b"HTTP/1.1 204 No Content",
        "400": b"HTTP/1.1 400 Bad Request",
        "401": b"HTTP/1.1 401 Unauthorized",
        "404": b"HTTP/1.1 404 Not Found",
        "405": b"HTTP/1.1 405 Method Not Allowed",
        "413": b"HTTP/1.1 413 Request Entity Too Large",
        "422": b"HTTP/1.1 422 Unprocessable Entity",
        "503": b"HTTP/1.1 503 Service Unavailable",
        "preflight 200": b"HTTP/1.1 200 OK",
        "preflight 400": b"HTTP/1.1 400 Bad Request",
        "504": b"HTTP/1.1 504 Gateway Timeout",
        "500": b"HTTP/1.1 500 Internal Server Error",
    }

@pytest.fixture
def data_dir(tmp_path: Path):
    """An embedded database's home; its server is stopped if a test left it running."""
    yield tmp_path
    pid_file = tmp_path / "pgdata" / "postmaster.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass


def test_embedded_database_survives_restarts(data_dir: Path) -> None:
    env = {"AGNO_DATA_DIR": str(data_dir)}
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    with serving(env, workers=1, threads=2) as first:
        assert pid_file.exists()
        status, _, body = first.request("POST", "/sessions?type=agent",
                                        {"session_id": "persisted", "session_name": "Kept across restarts"})
        assert status == 201, body
        assert first.request("GET", "/readyz")[2] == b'{"status":"ok","databases":{"embedded":"ok"}}'
        assert first.stop()[0] == 0
    assert not pid_file.exists()  # the embedded PostgreSQL was stopped with the service
    with serving(env, workers=1, threads=2) as second:
        status, _, body = second.request("GET", "/sessions/persisted")
        assert status == 200
        assert json.loads(body)["session_name"] == "Kept across restarts"
        assert second.stop()[0] == 0
    assert not pid_file.exists()


def test_every_line_is_json_and_listening_openly_is_warned(db_env) -> None:
    """Beyond loopback with neither key nor JWT, serve warns at start; every line it writes, gunicorn's own
    included, is a JSON object."""
    warned = "without authentication"
    for env, expect_warning in (({"AGNO_SERVICE_HOST": "0.0.0.0"}, True), ({}, False),
                                ({"AGNO_SERVICE_HOST": "0.0.0.0", "OS_SECURITY_KEY": "k"}, False)):
        server = AgnoSession({**db_env, **env}, workers=1, threads=2)
        try:
            assert server.request("GET", "/healthz")[0] == 200
            assert server.stop()[0] == 0
        finally:
            server.kill()
        entries = [json.loads(line) for line in server.lines]  # fails on any line that is not JSON
        assert {e["logger"] for e in entries} >= {"agno_session", "gunicorn.error"}
        assert any(warned in e["msg"] and e["level"] == "warning" for e in entries) == expect_warning, env
