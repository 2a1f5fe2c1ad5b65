"""A small server-sent events reader for the tests (stdlib only): it parses frames as the WHATWG algorithm does
(`id:` kept even by a frame without data) and reconnects with Last-Event-ID as an EventSource would."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Stream:
    """Events read so far (their JSON), the last event id, comments, and how many connections it took."""

    port: int
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # when each event was read (epoch seconds)
    last_id: str | None = None
    comments: int = 0
    connections: int = 0
    status: int | None = None
    _conn: http.client.HTTPConnection | None = None
    _sock: socket.socket | None = None  # the open connection's socket (http.client drops its own reference to it
    # when the answer says `Connection: close`, while the response still reads from it)
    _stop: threading.Event = field(default_factory=threading.Event)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def open(self, timeout: float = 30) -> http.client.HTTPResponse:
        """One connection, resuming from the last id when there is one; the response, status checked by the caller."""
        self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Accept": "text/event-stream", **self.headers}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        self._conn.request("GET", self.path, headers=headers)
        self._sock = self._conn.sock
        response = self._conn.getresponse()
        self.status = response.status
        self.connections += 1
        return response

    def read(self, response: http.client.HTTPResponse) -> None:
        """Frames until the server closes or `close()`: events, ids and comments recorded as they come."""
        data: list[str] = []
        pending_id: str | None = None
        while not self._stop.is_set():
            raw = response.readline()
            if not raw:
                return
            line = raw.decode("utf-8").rstrip("\n")
            if line == "":
                with self._changed:
                    if pending_id is not None:
                        self.last_id = pending_id
                    if data:
                        self.events.append(json.loads("\n".join(data)))
                        self.ids.append(self.last_id or "")
                        self.arrived.append(time.time())
                    self._changed.notify_all()
                data, pending_id = [], None
            elif line.startswith(":"):
                self.comments += 1
            elif line.startswith("id:"):
                pending_id = line[3:].removeprefix(" ")
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))

    def wait_for(self, predicate, timeout: float) -> bool:  # noqa: ANN001 - a callable on this stream
        """Whether `predicate(self)` became true within `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def start(self) -> threading.Thread:
        """One connection read in a thread (no reconnect): `disconnect()` ends it, `start()` again resumes."""
        response = self.open()
        assert response.status == 200, (response.status, response.read())
        thread = threading.Thread(target=self._read_quietly, args=(response,), daemon=True)
        thread.start()
        return thread

    def _read_quietly(self, response: http.client.HTTPResponse) -> None:
        try:
            self.read(response)
        except (OSError, ValueError, AttributeError):
            pass  # disconnect() closed the socket under the reader (http.client then trips on its closed file)

    def disconnect(self) -> None:
        """Drop the connection as a client that goes away would (the reader thread ends)."""
        if self._sock is not None:
            try:
                self._sock.shutdown(2)
            except OSError:
                pass
        if self._conn is not None:
            self._conn.close()

    def close(self) -> None:
        self._stop.set()
        self.disconnect()
