"""The parking worker under real gunicorn: idle and slow connections hold no thread, heads are bounded, and
requests arriving in pieces (pipelined, chunked, `Expect: 100-continue`) are served as before."""

from __future__ import annotations

import json
import socket

import pytest

from tests.support.servers import AgnoSession, serving


def connect(server: AgnoSession, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def read_answers(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """`count` answers with Content-Length bodies from a kept-alive connection."""
    buffer, answers = b"", []
    while len(answers) < count:
        head_end = buffer.find(b"\r\n\r\n")
        if head_end < 0:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {answers}"
            buffer += chunk
            continue
        head = buffer[:head_end].decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in head if line.lower().startswith("content-length:"))
        while len(buffer) < head_end + 4 + length:
            buffer += sock.recv(65536)
        answers.append((int(head[0].split()[1]), buffer[head_end + 4:head_end + 4 + length]))
        buffer = buffer[head_end + 4 + length:]
    return answers


def get(path: str, extra: bytes = b"") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: t\r\n".encode() + extra + b"\r\n"


@pytest.fixture
def one_thread(db_env):
    """One worker with one thread: any connection that held a thread while waiting would stop the next request."""
    with serving(db_env, workers=1, threads=1) as server:
        yield server


def test_idle_and_half_sent_requests_hold_no_thread(one_thread: AgnoSession) -> None:
    held = [connect(one_thread) for _ in range(20)]
    for sock in held[:10]:
        sock.sendall(b"GET /sessions HTTP/1.1\r\nHost: t\r\nX-Half: ")  # a head begun, never finished
    body = b'{"session_id": "slow-body"}'
    held[10].sendall(b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n{" % len(body))  # a body begun, never finished
    try:
        status, _, answer = one_thread.request("GET", "/sessions", timeout=5)
        assert (status, json.loads(answer)["meta"]["total_count"]) == (200, 0)
        held[10].sendall(body[1:])  # the slow body completes: it is served then, on the same connection
        assert read_answers(held[10], 1)[0][0] == 201
    finally:
        for sock in held:
            sock.close()


def test_a_head_within_the_limit_is_served_one_beyond_is_431_before_it_ends(one_thread: AgnoSession) -> None:
    limit = 128 * 1024
    with connect(one_thread) as sock:  # a 100 KiB header, as AgentOS's server takes it
        sock.sendall(get("/sessions", b"X-Big: " + b"b" * 100 * 1024 + b"\r\nConnection: close\r\n"))
        assert read_all(sock).startswith(b"HTTP/1.1 200 OK\r\n")
    with connect(one_thread) as sock:  # one byte over the limit and no end of head: answered without waiting
        sock.sendall(b"GET /sessions HTTP/1.1\r\nX-Big: " + b"b" * limit)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert answer.endswith(b'\r\n\r\n{"detail":"Request header fields are too large"}')
    assert b"Content-Type: application/json\r\n" in answer
    with connect(one_thread) as sock:  # eight times the limit, sent whole: the same answer
        try:
            sock.sendall(get("/sessions", b"X-Big: " + b"b" * 8 * limit + b"\r\n"))
        except OSError:
            pass  # the server may stop reading once it has answered
        assert read_all(sock).startswith(b"HTTP/1.1 431 ")
    with connect(one_thread) as sock:
        sock.sendall(b"GET /sessions?q=" + b"q" * limit)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 414 Request-URI Too Long\r\n")
    assert answer.endswith(b'{"detail":"Request line is too long"}')
    assert one_thread.request("GET", "/healthz")[0] == 200


def test_requests_in_pieces_pipelined_chunked_or_expecting_continue(one_thread: AgnoSession) -> None:
    with connect(one_thread) as sock:
        sock.sendall(get("/healthz") + get("/sessions")[:20])  # a whole request and the start of the next
        assert read_answers(sock, 1) == [(200, b'{"status":"ok"}')]
        sock.sendall(get("/sessions")[20:])
        assert read_answers(sock, 1)[0][0] == 200
        body = b'{"session_id": "chunked", "session_name": "In chunks"}'
        sock.sendall(b"POST /sessions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n" % (10, body[:10]))
        sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body) - 10, body[10:]))
        status, answer = read_answers(sock, 1)[0]
        assert (status, json.loads(answer)["session_name"]) == (201, "In chunks")
        body = b'{"session_name": "Continued"}'
        sock.sendall(b"PATCH /sessions/chunked HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        status, answer = read_answers(sock, 1)[0]
        assert (status, json.loads(answer)["session_name"]) == (200, "Continued")  # and no second 100 Continue


def test_a_head_not_finished_within_the_header_timeout_is_408(db_env) -> None:
    with serving({**db_env, "AGNO_HEADER_TIMEOUT": "1"}, workers=1, threads=1) as server:
        with connect(server, timeout=30) as sock:
            sock.sendall(b"GET /sessions HTTP/1.1\r\nHost: t\r\n")
            answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert answer.endswith(b'{"detail":"Request timed out waiting for the client"}')
        with connect(server, timeout=30) as sock:  # an idle connection is closed without an answer
            assert read_all(sock) == b""


def test_stopping_does_not_wait_for_idle_or_half_sent_connections(db_env) -> None:
    server = AgnoSession(db_env, workers=1, threads=2)
    held = [connect(server) for _ in range(30)]
    for sock in held[::2]:
        sock.sendall(b"GET /sessions HTTP/1.1\r\nHost: t\r\n")
    try:
        assert server.request("GET", "/healthz")[0] == 200
        code, took = server.stop(within=25)
        assert code == 0 and took < 15, took  # not the 30 s graceful timeout, nor the 10 s header timeout
    finally:
        for sock in held:
            sock.close()
        server.kill()
