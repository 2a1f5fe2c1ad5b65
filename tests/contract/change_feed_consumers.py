"""The change feed's two consumers in the proof workload (change_feed_load.py), each in a thread of its own, each
resuming on its own after a cut: a long-poll client of `GET /sessions/-/changes` that resumes from the last
`next_cursor` it got, and a server-sent events client of `agno-session serve-events` that reconnects with
Last-Event-ID as an EventSource does. `cut()` closes the client's socket in the middle of a request or stream and
returns once the consumer has seen the cut (so every cut counts); the consumer then stays away until `resume()`, so
the writes committed meanwhile can only reach it through its resume cursor."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable

from tests.support.sse import Stream

WAIT = 5  # seconds each long-poll waits
CUT_WITHIN = 120  # seconds a cut may take to be seen: a healthy consumer sees it at once
RETRY_PAUSE = 0.2  # seconds before asking again after a refusal (the database restarting) or a cut


class Consumer:
    """What both transports share: the events read with their arrival times, refusals and cuts counted, a stop."""

    name = "consumer"

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.arrived: list[float] = []
        self.refused = 0  # answers other than 200 while the database was away (503), retried
        self.cuts = 0  # cuts this consumer saw and resumed after
        self.failure: list[str] = []
        self.stop = threading.Event()
        self.gate = threading.Event()  # cleared by a cut: the consumer stays disconnected until resume()
        self.gate.set()
        self._thread = threading.Thread(target=self._guarded, daemon=True, name=self.name)

    def start(self) -> None:
        self._thread.start()

    def _guarded(self) -> None:
        try:
            self.follow()
        except Exception as exc:  # the comparison reports it
            self.failure.append(f"{self.name}: {exc!r}")

    def follow(self) -> None:
        raise NotImplementedError

    def cut(self) -> None:
        raise NotImplementedError

    def resume(self, after_session: str | None = None) -> None:
        """Let the consumer connect again after a cut (`after_session`: see EventStream.resume)."""
        self.gate.set()

    def _wait_at_gate(self) -> bool:
        """Wait while a cut holds the consumer away; False once it is stopped."""
        while not self.gate.wait(0.1):
            if self.stop.is_set():
                return False
        return not self.stop.is_set()

    def wait_for(self, predicate: Callable[[Consumer], bool], timeout: float) -> bool:
        """Whether `predicate(self)` became true within `timeout` seconds (checked every 50 ms; False at once when
        the consumer failed)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if self.failure or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self.stop.set()
        self._thread.join(WAIT + 30)


class LongPoll(Consumer):
    """Long-polls with `wait=5` from `cursor`, one connection per request; a cut request is asked again with the
    same cursor (what the server may have answered on the cut connection is read again, never skipped)."""

    name = "long-poll"

    def __init__(self, port: int, cursor: str) -> None:
        super().__init__()
        self.port, self.cursor = port, cursor
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._cut_conn: http.client.HTTPConnection | None = None

    def follow(self) -> None:
        while self._wait_at_gate():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT + 60)
            status: int | None = None
            try:
                conn.connect()
                with self._lock:
                    self._conn = conn
                conn.request("GET", f"/sessions/-/changes?limit=1000&wait={WAIT}"
                                    f"&after={urllib.parse.quote(self.cursor)}")
                response = conn.getresponse()
                status, body = response.status, response.read()
            except (OSError, http.client.HTTPException):
                status, body = None, b""
            finally:
                with self._lock:
                    self._conn = None
                    if self._cut_conn is conn and status is None:
                        self.cuts += 1  # what this request may have read is asked for again from the same cursor
                conn.close()
            if status != 200:
                if status not in (None, 503) or self.stop.is_set():
                    if not self.stop.is_set():
                        raise AssertionError(f"the change feed answered {status}: {body[:300]!r}")
                    return
                self.refused += status == 503
                time.sleep(RETRY_PAUSE)
                continue
            page = json.loads(body)
            now = time.time()
            self.events += page["data"]
            self.arrived += [now] * len(page["data"])
            self.cursor = page["next_cursor"]

    def cut(self) -> None:
        """Close the socket of a request in flight (one waiting for changes, or being answered) and hold the
        consumer away; repeated until a cut lands before the answer was read whole, so the request fails."""
        deadline = time.monotonic() + CUT_WITHIN
        while time.monotonic() < deadline:
            cuts = self.cuts
            with self._lock:
                conn = self._conn if self._conn is not None and self._conn.sock is not None else None
                if conn is not None:
                    self.gate.clear()
                    self._cut_conn = conn
                    _shut(conn)
            if conn is None:
                time.sleep(0.01)  # between two requests: the next one is in flight at once
                continue
            if self.wait_for(lambda c, cut=conn: c._conn is not cut, CUT_WITHIN) and self.cuts > cuts:
                return
            self.gate.set()  # its answer had been read whole: cut the next request
        raise AssertionError(f"{self.name}: no request in flight to cut within {CUT_WITHIN} s")

    def close(self) -> None:
        self.stop.set()
        with self._lock:
            if self._conn is not None:
                _shut(self._conn)
        self._thread.join(WAIT + 30)


class EventStream(Consumer):
    """A stream of `agno-session serve-events` from `cursor` (sent as Last-Event-ID, as a resuming EventSource
    does); whenever the stream ends (a cut, the server closing it) it reconnects with the last id it got."""

    name = "sse"
    PATH = "/sessions/-/events"

    def __init__(self, port: int, cursor: str) -> None:
        super().__init__()
        self.stream = Stream(port, self.PATH)
        self.stream.last_id = cursor
        self.events, self.arrived = self.stream.events, self.stream.arrived
        self.open = False
        self.watcher = Stream(port, self.PATH)  # never cut: once it has an event, so has the event process's poller
        self.watcher.last_id = cursor

    def start(self) -> None:
        self.watcher.start()
        super().start()

    def follow(self) -> None:
        while self._wait_at_gate():
            try:
                response = self.stream.open(timeout=WAIT + 60)
            except (OSError, http.client.HTTPException):
                time.sleep(RETRY_PAUSE)
                continue
            if response.status != 200:
                body = response.read()
                if response.status != 503:
                    raise AssertionError(f"the event stream answered {response.status}: {body[:300]!r}")
                self.refused += 1
                time.sleep(RETRY_PAUSE)
                continue
            self.open = True
            try:
                self.stream.read(response)
            except (OSError, ValueError, AttributeError, http.client.HTTPException):
                pass  # the socket was closed under the reader: reconnect from the last id
            self.open = False

    def cut(self) -> None:
        """Close the open stream's socket mid-stream; returns once the reader has ended (the consumer stays away)."""
        if not self.wait_for(lambda c: self.open, CUT_WITHIN):
            raise AssertionError(f"{self.name}: no open stream to cut within {CUT_WITHIN} s")
        self.gate.clear()
        self.stream.disconnect()
        if not self.wait_for(lambda c: not self.open, CUT_WITHIN):
            frame = sys._current_frames().get(self._thread.ident)
            where = "".join(traceback.format_stack(frame)) if frame else "?"  # where the reader is stuck
            raise AssertionError(f"{self.name}: the cut stream did not end within {CUT_WITHIN} s\n{where}")
        self.cuts += 1

    def resume(self, after_session: str | None = None) -> None:
        """Reconnect, once the event process's poller has read `after_session`'s last write (so a resume that did
        not send Last-Event-ID would start past what was committed while away, and miss it); returns streaming."""
        if after_session is not None and not self.watcher.wait_for(
                lambda s: any(e["session_id"] == after_session for e in s.events[-50:]), CUT_WITHIN):
            raise AssertionError(f"{self.name}: serve-events did not deliver {after_session} within {CUT_WITHIN} s")
        before = self.stream.connections
        self.gate.set()
        if not self.wait_for(lambda c: self.stream.connections > before and self.open, CUT_WITHIN):
            raise AssertionError(f"{self.name}: did not reconnect within {CUT_WITHIN} s (status {self.stream.status})")

    def close(self) -> None:
        self.stop.set()
        self.stream.close()
        self.watcher.close()
        self._thread.join(WAIT + 30)


def _shut(conn: http.client.HTTPConnection) -> None:
    """Close a client connection's socket under its reader, as a network cut would."""
    try:
        conn.sock.shutdown(2)  # type: ignore[union-attr]
    except OSError:
        pass
