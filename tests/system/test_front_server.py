"""`AGNO_FRONT=nginx agno-session serve` for real: the real nginx in front of the real gunicorn, on a real database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from service.core.config import ConfigError
from service.server import front
from tests.contract import replay
from tests.support.front_conf import rendered
from tests.support.graceful_stop import patch_during_sigterm
from tests.support.rows import Rows
from tests.support.servers import CLI, AgnoSession, worker_pids

CORPUS = Path(__file__).resolve().parents[1] / "contract" / "requests.txt"
VOLATILE = {"date", "x-request-id"}  # per answer; every other header must be the same through nginx


@pytest.fixture(scope="module", autouse=True)
def nginx_installed() -> None:
    """These tests need the real nginx: missing, they fail and say how to install it (never a skip)."""
    try:
        front.nginx_binary()
    except ConfigError as exc:
        pytest.fail(f"{exc}", pytrace=False)


def fronted(env: dict[str, str], workers: int = 1, threads: int = 4) -> AgnoSession:
    return AgnoSession({**env, "AGNO_FRONT": "nginx"}, workers, threads)


def raw(port: int, data: bytes, timeout: float = 15) -> bytes:
    """Send bytes as they are and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def alive(pids: list[int], within: float = 10) -> list[int]:
    """The processes still running after up to `within` seconds (a killed one may take a moment; zombies are gone)."""
    deadline = time.monotonic() + within
    while True:
        running = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                running.append(pid)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.1)


def status_and_body(answer: bytes) -> tuple[str, str, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    content_type = next(line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("content-type:"))
    return lines[0], content_type, body


def test_answers_through_nginx_as_the_bare_server_does(db_env, pg_dsn: str) -> None:
    rows = Rows(pg_dsn)
    bare = AgnoSession(db_env, 1, 4)
    fronted_server = None
    try:
        rows.session("agent-sess-1", "agent", component_id="a", session_data={"session_name": "one"})
        rows.session("team-sess-1", "team", component_id="t", user_id="u1")
        fronted_server = fronted(db_env)
        requests = replay.parse_corpus(CORPUS.read_text(encoding="utf-8"), variables={"DB_ID": "srv"})
        for req in requests:
            a = replay.send(f"http://127.0.0.1:{bare.port}", req)
            b = replay.send(f"http://127.0.0.1:{fronted_server.port}", req)
            compared = tuple(sorted((set(a.headers) | set(b.headers)) - VOLATILE))
            assert replay.compare(a, b, compared) == [], req.label()  # status line, every header, body bytes
        assert len(requests) > 100
        assert b.headers["server"] == "gunicorn"  # nginx passes gunicorn's own Server and Date on
        assert fronted_server.stop()[0] == 0  # (a SIGKILL would leave its runtime directory behind)
    finally:
        rows.close()
        bare.kill()
        if fronted_server is not None:
            fronted_server.kill()


def test_refusals_are_json_in_the_service_shape(db_env) -> None:
    server = fronted({**db_env, "AGNO_MAX_BODY_BYTES": "1000", "AGNO_MAX_HEAD_BYTES": "8192"})
    try:
        status, headers, body = server.request("POST", "/sessions", {"session_id": "x" * 2000})
        assert (status, headers["content-type"], body) == (
            413, "application/json", b'{"detail":"Request body is larger than 1000 bytes"}')
        assert headers["server"] == "nginx"
        start, end = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ", b"\r\nConnection: close\r\n\r\n"
        at_limit = start + b"p" * (8192 - len(start) - len(end)) + end  # nginx adds fields: still served
        assert status_and_body(raw(server.port, at_limit)) == ("HTTP/1.1 200 OK", "application/json",
                                                               b'{"status":"ok"}')
        over = start + b"p" * 5000 + b"\r\nX-Pad-2: " + b"p" * 5000 + end  # fields nginx holds, a head over the limit
        assert status_and_body(raw(server.port, over)) == ("HTTP/1.1 431 Request Header Fields Too Large",
                                                           "application/json",
                                                           b'{"detail":"Request header fields are too large"}')
        head = b"GET /sessions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        assert status_and_body(raw(server.port, head)) == (
            "HTTP/1.1 400 Bad Request", "application/json", b'{"detail":"Request header fields are too large"}')
        line = b"GET /sessions?q=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert status_and_body(raw(server.port, line)) == (
            "HTTP/1.1 400 Bad Request", "application/json", b'{"detail":"Request line is too long"}')
        assert status_and_body(raw(server.port, b"NOT HTTP AT ALL\r\n\r\n")) == (
            "HTTP/1.1 400 Bad Request", "application/json", b'{"detail":"Invalid HTTP request received."}')
        status, _, body = server.request("GET", "/healthz")
        assert (status, body) == (200, b'{"status":"ok"}')
        assert server.stop()[0] == 0
    finally:
        server.kill()


def test_the_log_shows_the_real_client_and_a_client_cannot_spoof_it(db_env) -> None:
    direct = fronted(db_env)
    behind_one = fronted({**db_env, "AGNO_TRUSTED_PROXIES": "1"})
    try:
        direct.request("GET", "/healthz", headers={"X-Request-ID": "spoof", "X-Forwarded-For": "203.0.113.9",
                                                   "X-Real-IP": "203.0.113.9"})
        # an ingress in front of the pod appended the client it saw; nginx appends the ingress (here: us)
        behind_one.request("GET", "/healthz", headers={"X-Request-ID": "ingress",
                                                       "X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
        assert direct.stop()[0] == 0 and behind_one.stop()[0] == 0
    finally:
        direct.kill()
        behind_one.kill()
    (spoofed,) = [e for e in direct.access_log() if e["request_id"] == "spoof"]
    assert spoofed["client_ip"] == "127.0.0.1"
    (forwarded,) = [e for e in behind_one.access_log() if e["request_id"] == "ingress"]
    assert forwarded["client_ip"] == "203.0.113.7"


def test_sigterm_answers_the_request_in_flight_and_stops_both(db_env, pg_dsn: str) -> None:
    server = fronted(db_env)
    try:
        children = worker_pids(server.proc.pid)  # gunicorn's arbiter and nginx's master
        assert len(children) == 2
        processes = children + [w for c in children for w in worker_pids(c)]
        status, body = patch_during_sigterm(server, pg_dsn)
        assert status == 200 and json.loads(body)["session_name"] == "late"
        assert server.proc.wait(40) == 0
        assert alive(processes) == []
    finally:
        server.kill()


def test_the_service_exits_non_zero_when_nginx_dies(db_env) -> None:
    server = fronted(db_env)
    try:
        (nginx,) = [pid for pid in worker_pids(server.proc.pid)
                    if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"nginx")]
        workers = worker_pids(nginx)  # the master is killed outright: its workers must not stay behind
        os.kill(nginx, signal.SIGKILL)
        assert server.proc.wait(40) == 1
        assert any("nginx exited unexpectedly" in line for line in server.lines)
        assert workers and alive(workers) == []
    finally:
        server.kill()


def test_a_front_that_cannot_start_stops_the_service(db_env: dict[str, str]) -> None:
    """nginx cannot listen (the port is bound elsewhere, not listening, so nothing answers there): gunicorn is
    stopped too and serve exits 1, saying why."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run([CLI, "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
                              env={**base, **db_env, "AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_FRONT": "nginx"},
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]  # nginx's own lines too: every line JSON
    assert any(e["logger"] == "agno_session.nginx" and "bind()" in e["msg"] for e in entries)
    assert any(e["msg"] == "nginx did not start" for e in entries)


def test_a_client_over_its_requests_in_progress_gets_503_and_others_are_served(db_env: dict[str, str]) -> None:
    """AGNO_FRONT_CONN_PER_IP: two slow bodies from this address hold its two places (nginx counts a request once
    its head is read); a third request from it is refused with the JSON 503 until one of them ends."""
    server = fronted({**db_env, "AGNO_FRONT_CONN_PER_IP": "2"})
    slow = []
    try:
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
            sock.sendall(b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{")
            slow.append(sock)
        refused = None
        for _ in range(50):  # nginx counts the slow requests once it has read their heads: a moment after sending
            answer = raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if answer.startswith(b"HTTP/1.1 503"):
                refused = answer
                break
            time.sleep(0.1)
        assert refused is not None, "the third request in progress from one address was never refused"
        assert status_and_body(refused) == ("HTTP/1.1 503 Service Temporarily Unavailable", "application/json",
                                            b'{"detail":"Too many requests in progress from this address"}')
        slow.pop().close()
        deadline = time.monotonic() + 15
        while server.request("GET", "/healthz")[0] != 200:
            assert time.monotonic() < deadline, "a place freed by a closed request was never given back"
            time.sleep(0.1)
        for sock in slow:  # nginx would wait for a slow body in progress before it stops
            sock.close()
        assert server.stop()[0] == 0
    finally:
        for sock in slow:
            sock.close()
        server.kill()


def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(rendered(tmp_path))
    try:
        binary = front.nginx_binary()
    except ConfigError as exc:
        pytest.fail(f"{exc}")
    done = subprocess.run([binary, "-t", "-p", f"{tmp_path}/", "-c", str(conf), "-e", "stderr"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
