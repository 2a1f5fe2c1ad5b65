"""A webhook receiver for tests: a real HTTP server in the test process that checks every Standard Webhooks
signature as the docs tell receivers to (written apart from the deliverer's code), records what it accepted, and
answers 500 for the sessions it is told to fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Accepted events in arrival order; bad signatures and failed deliveries counted apart."""

    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.key = base64.b64decode(secret.removeprefix("whsec_"))
        self.accepted: list[tuple[str, dict]] = []  # (webhook-id, body)
        self.refused_signatures = 0
        self.failed: list[str] = []  # webhook-ids answered 500
        self.failing: set[str] = set()  # session ids answered 500
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["content-length"]))
                status = receiver.receive(self.headers, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"  # from this machine; containers differ
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def verified(self, headers: object, body: bytes) -> bool:
        """The receiver's check: HMAC-SHA256 of `id.timestamp.body`, compared in constant time with each `v1,`
        signature of the header."""
        msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]  # type: ignore[index]
        expected = base64.b64encode(hmac.new(self.key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256)
                                    .digest()).decode()
        sent = [part.split(",", 1)[1] for part in headers["webhook-signature"].split() if part.startswith("v1,")]  # type: ignore[index]
        return any(hmac.compare_digest(expected, s) for s in sent)

    def receive(self, headers: object, body: bytes) -> int:
        with self.lock:
            if not self.verified(headers, body):
                self.refused_signatures += 1
                return 400
            event = json.loads(body)
            msg_id = headers["webhook-id"]  # type: ignore[index]
            if event["data"]["session_id"] in self.failing:
                self.failed.append(msg_id)
                return 500
            self.accepted.append((msg_id, event))
            return 204

    def ids(self) -> list[str]:
        with self.lock:
            return [msg_id for msg_id, _ in self.accepted]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
