"""gunicorn's threaded worker, but a connection reaches a thread only with a whole request in hand.

gthread hands every new connection to a pool thread, which then waits for a request head that may never come:
a few idle or slow clients (slowloris) hold every thread. Here the worker's event loop reads each connection
without blocking until its request (head and body) is buffered, within time limits, and only then hands it to
a thread. Idle and slow connections cost a file descriptor and their bytes, never a thread.
"""

from __future__ import annotations

import errno
import selectors
import socket
import struct
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

from service.server.framing import RequestBuffer, Verdict

_RECV = 64 * 1024
_SWEEP_EVERY = 0.5  # seconds between passes that close connections past their time limit
_LINGER = 2.0  # after an early answer, seconds to drain what the client still sends before closing
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _early_answer(status: str, detail: str) -> bytes:
    """A complete `Connection: close` answer in AgentOS's `{"detail": ...}` shape, written by the event loop."""
    body = b'{"detail":"' + detail.encode() + b'"}'
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode() + body


ANSWERS = {
    Verdict.HEAD_TOO_LARGE: _early_answer("431 Request Header Fields Too Large", "Request header fields are too large"),
    Verdict.LINE_TOO_LONG: _early_answer("414 Request-URI Too Long", "Request line is too long"),
}
TIMED_OUT = _early_answer("408 Request Timeout", "Request timed out waiting for the client")


class Parked:
    """A connection the event loop is reading: its buffer, its deadline, and whether it is only being drained."""

    __slots__ = ("conn", "request", "deadline", "draining", "started", "registered")

    def __init__(self, conn: TConn, request: RequestBuffer, deadline: float) -> None:
        self.conn = conn
        self.request = request
        self.deadline = deadline
        self.draining = False
        self.started = bool(request.data)  # a byte of the request has arrived
        self.registered = False  # with the poller, waiting for bytes


class ParkingWorker(ThreadWorker):
    """Connections wait in the event loop (idle, head, body) and go to the thread pool with a whole request.

    Limits come from the app's settings through gunicorn's config: `keepalive` (idle until the first byte),
    `agno_header_timeout` and `agno_body_timeout` (head and body after it), `agno_max_head_bytes`,
    `agno_max_body_bytes` and `agno_buffer_budget` (body bytes this worker holds at once; past it a request goes
    to its thread early and the thread reads the rest, each read and write bounded by the body timeout).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        limits = self.app.agno_limits  # type: ignore[attr-defined]
        self.header_timeout: float = limits["header_timeout"]
        self.body_timeout: float = limits["body_timeout"]
        self.max_head: int = limits["max_head_bytes"]
        self.max_body: int = limits["max_body_bytes"]
        self.budget: int = limits["buffer_budget"]
        self.parked: dict[TConn, Parked] = {}
        self.buffered = 0
        self._next_sweep = 0.0
        self._socket_timeout = struct.pack("ll", int(self.body_timeout), int(self.body_timeout % 1 * 1e6))

    # --- where connections come from: new, kept alive, or with a pipelined request behind the last one

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        # A thread's blocking reads and writes on this socket give up after the body timeout.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, self._socket_timeout)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, self._socket_timeout)
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking from here
        self._park(conn, b"", time.monotonic() + self.cfg.keepalive)

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection has bytes: read its next request in the loop, not in a thread."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._park(conn, b"", time.monotonic() + self.header_timeout, read_now=True)

    def enqueue_req(self, conn: TConn) -> None:
        """gthread calls this after an answer when the client already sent more: that may be only part of a
        request, so it is parked like any other."""
        self._park(conn, conn.parser.unreader.take_buffered(), time.monotonic() + self.header_timeout)

    # --- the event loop's side

    def _park(self, conn: TConn, data: bytes, deadline: float, read_now: bool = False) -> None:
        parked = Parked(conn, RequestBuffer(self.max_head, self.max_body, data), deadline)
        self.parked[conn] = parked
        if read_now:  # the socket is readable: most requests are whole after this one read, with no poller round
            self._on_readable(parked, conn.sock)
        elif data:
            self._judge(parked, parked.request.verdict())
        if conn in self.parked and not parked.registered:
            self._watch(parked)

    def _watch(self, parked: Parked) -> None:
        self.poller.register(parked.conn.sock, selectors.EVENT_READ, partial(self._on_readable, parked))
        parked.registered = True

    def _on_readable(self, parked: Parked, _sock: socket.socket) -> None:
        try:
            chunk = parked.conn.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._close(parked)
            return
        if parked.draining:
            return
        if not parked.started:
            parked.started = True
            parked.deadline = time.monotonic() + self.header_timeout
        request = parked.request
        had_head = request.head_end >= 0
        held = request.buffered_body()
        verdict = request.feed(chunk)
        self.buffered += request.buffered_body() - held
        if not had_head and request.head_end >= 0:
            parked.deadline = time.monotonic() + self.body_timeout
        self._judge(parked, verdict)

    def _judge(self, parked: Parked, verdict: Verdict) -> None:
        """Act on a verdict: keep reading, hand the request to a thread, or answer it here."""
        request = parked.request
        if verdict is Verdict.WAIT:
            if request.head_end < 0:
                return
            if request.expects_continue:
                request.drop_expect()
                self._send(parked, _CONTINUE)
            if self.buffered <= self.budget:
                return
            verdict = Verdict.READY  # over the memory budget: the thread reads the rest of this body
        if verdict is Verdict.READY:
            self._hand_over(parked)
        else:
            self._send(parked, ANSWERS[verdict])
            self._drain(parked)

    def _hand_over(self, parked: Parked) -> None:
        conn = parked.conn
        self._forget(parked)
        if parked.registered:
            self.poller.unregister(conn.sock)
        conn.agno_request = bytes(parked.request.data)
        conn.data_ready = True
        super().enqueue_req(conn)

    def _drain(self, parked: Parked) -> None:
        """After an early answer: stop writing, read and discard for a moment so the answer is not lost to a
        reset, then close."""
        self.buffered -= parked.request.buffered_body()
        parked.request = RequestBuffer(0, 0)
        parked.draining = True
        parked.deadline = time.monotonic() + _LINGER
        try:
            parked.conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        if not parked.registered:
            self._watch(parked)

    def _send(self, parked: Parked, data: bytes) -> None:
        """A short write from the loop; a client that cannot take a few hundred bytes loses them."""
        try:
            parked.conn.sock.send(data)
        except OSError:
            pass

    def _forget(self, parked: Parked) -> None:
        self.parked.pop(parked.conn, None)
        self.buffered -= parked.request.buffered_body()

    def _close(self, parked: Parked) -> None:
        self._forget(parked)
        if parked.registered:
            self.poller.unregister(parked.conn.sock)
        self.nr_conns -= 1
        parked.conn.close()

    def murder_pending(self) -> None:
        """gthread's timeout pass, run after every turn of the loop: also close parked connections past their
        deadline (a started request gets a 408 first), at most twice a second."""
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_EVERY
        for parked in [p for p in self.parked.values() if p.deadline <= now]:
            if parked.started and not parked.draining:
                self._send(parked, TIMED_OUT)
            self._close(parked)

    def _cap_keepalive(self, deadline: float) -> None:
        """A stopping worker gives parked connections what it gives kept-alive ones: a short grace."""
        super()._cap_keepalive(deadline)
        self._next_sweep = 0.0
        for parked in self.parked.values():
            parked.deadline = min(parked.deadline, deadline)

    # --- the thread's side

    def handle(self, conn: TConn) -> object:
        """Give gunicorn's parser the buffered request before it would read the socket."""
        data = getattr(conn, "agno_request", b"")
        conn.agno_request = b""
        conn.init()  # the parser, made once per connection (gthread's handle() sets the socket blocking next)
        if data:
            conn.parser.unreader.unread(data)
        return super().handle(conn)
