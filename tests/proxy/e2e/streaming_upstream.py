"""A small upstream that streams, as AgentOS streams agent runs: server-sent events and a chunked export, one
piece every `gap` seconds, and a client that notes when each piece arrives."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.proxy.e2e.stage import LoopbackServer

EVENTS = 5
GAP = 0.5  # seconds between two pieces, as sent
# path -> (content type, one piece); the first is outside /sessions, the second inside, the third not SSE.
ROUTES = {
    "/agents/a1/runs": ("text/event-stream", b"event: RunContent\ndata: {\"content\": \"token %d\"}\n\n"),
    "/sessions/s1/events": ("text/event-stream; charset=utf-8", b"data: {\"n\": %d}\n\n"),
    "/export.ndjson": ("application/x-ndjson", b"{\"row\": %d}\n"),
}


class StreamingUpstream(LoopbackServer):
    """Chunked HTTP/1.1 answers, each piece flushed on its own."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path not in ROUTES:
                    body = b'{"detail":"Not Found"}'
                    self.send_response(404)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                content_type, piece = ROUTES[path]
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("cache-control", "no-cache")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for n in range(EVENTS):
                    if n:
                        time.sleep(GAP)
                    data = piece % n
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


@dataclass
class Arrivals:
    """When each piece reached the client (monotonic seconds), and the bytes."""

    times: list[float]
    body: bytes

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]


def receive(base: str, path: str, timeout: float = 30.0) -> Arrivals:
    """GET path and note the moment each complete piece (an SSE event, or an NDJSON line) has arrived."""
    separator = b"\n\n" if ROUTES[path][0].startswith("text/event-stream") else b"\n"
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"accept": ROUTES[path][0]})
        response = conn.getresponse()
        assert response.status == 200, (base, path, response.status)
        body, times = b"", []
        while chunk := response.read1(65536):
            body += chunk
            times += [time.monotonic()] * (body.count(separator) - len(times))
        return Arrivals(times, body)
    finally:
        conn.close()
