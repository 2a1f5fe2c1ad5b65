"""The end-to-end stage: the contract harness's AgentOS and agno-session on one database, the real mitmdump
with the addon in front, and small stand-in candidates (one that alters a field, one that hangs)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

from tests.contract import replay
from tests.contract.harness import REPO, Cluster, Database, Pair
from tests.contract.tables import Tables
from tests.support.servers import free_port, terminate

VOLATILE_HEADERS = frozenset({"date"})  # the only header two answers a second apart may differ in


class SingleCluster(Cluster):
    """Only the contract test's `single` setup: PostgreSQL, AgentOS, the seed, agno-session."""

    def _start(self) -> None:
        socket_dir = self._start_postgres()
        main = Database(f"postgresql+psycopg://postgres@/contract?host={socket_dir}", Tables())
        reference = self._reference("single", [main], {})
        reference.wait_healthy()
        self._seed(main)
        main.tables.snapshot(main.dsn)
        service = self._service("single", [main], {})
        service.wait_healthy()
        self.pairs["single"] = Pair("single", reference, service, [main], {"DB_ID": main.db_id})


@dataclass
class Raw:
    """A response as the client saw it: status line, headers in order with their case, body bytes."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def comparable(self, ignore: frozenset[str] = VOLATILE_HEADERS) -> tuple:
        """Everything but the Date header and values AgentOS makes up per call (uuid4s, "now")."""
        now = time.time()
        body = replay.mask_volatile(self.body, now - 600, now)
        return self.status, self.reason, [(k, v) for k, v in self.headers if k.lower() not in ignore], body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


def exchange(base: str, method: str, target: str, headers: list[tuple[str, str]] | None = None,
             body: bytes | None = None, timeout: float = 60.0) -> Raw:
    """One request on a fresh connection, sent like the contract's replay.send (target verbatim)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    sent = {k: v for k, v in (headers or [])}
    if body is not None and not any(k.lower() == "content-type" for k in sent):
        sent["Content-Type"] = "application/json"
    sent = {k: v for k, v in sent.items() if v != ""}
    started = time.perf_counter()
    try:
        conn.request(method, quote(target, safe="!#$%&'()*+,/:;=?@[]~"), body=body, headers=sent)
        resp = conn.getresponse()
        data = resp.read()
        return Raw(resp.status, resp.reason, resp.getheaders(), data, time.perf_counter() - started)
    finally:
        conn.close()


class Mitmdump:
    """The real mitmdump with the addon, in front of AgentOS, with a control listener of its own."""

    def __init__(self, workdir: Path, agentos: str, sessions: str, mode: str, **options: str) -> None:
        self.port, self.control_port = free_port(), free_port()
        self.url, self.control = f"http://127.0.0.1:{self.port}", f"http://127.0.0.1:{self.control_port}"
        self.reports = workdir / f"report-{mode}-{self.port}"  # one <mode>-<time>/ directory per run inside
        self.log = workdir / f"mitmdump-{self.port}.log"
        sets = {"shadow_mode": mode, "shadow_agentos": agentos, "shadow_sessions": sessions,
                "shadow_report_dir": str(self.reports), "shadow_control_port": str(self.control_port),
                "shadow_body_limit": str(1 << 20), "connection_strategy": "lazy",
                "confdir": str(workdir / "mitmproxy-conf"),
                # A loaded test machine can make AgentOS slower than the 5 s default; every pair must be compared.
                "shadow_timeout": "30", **options}
        argv = [os.environ["AGNO_MITMDUMP"], "-q", "-s", str(REPO / "proxy" / "shadow.py"),
                "--mode", f"reverse:{agentos}@127.0.0.1:{self.port}",
                "--mode", f"reverse:http://127.0.0.1:9@127.0.0.1:{self.control_port}"]
        for name, value in sets.items():
            argv += ["--set", f"{name}={value}"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mitmdump exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                self.summary()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"mitmdump not ready in {timeout:.0f}s:\n{self.log.read_text()}")

    def summary(self) -> dict:
        with urllib.request.urlopen(f"{self.control}/summary", timeout=5) as response:
            return json.loads(response.read())

    @property
    def report_dir(self) -> Path:
        """The current run's report directory."""
        return Path(self.summary()["report_dir"])

    def switch(self, mode: str) -> dict:
        """PUT /mode on the control API; the answer (or the error's JSON) with its status."""
        request = urllib.request.Request(f"{self.control}/mode", data=json.dumps({"mode": mode}).encode(),
                                         method="PUT", headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def settled(self, seen: int, timeout: float = 60.0) -> dict:
        """The summary once `seen` requests are counted and no comparison is pending, and summary.json agrees."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            summary = self.summary()
            if summary["seen"] >= seen and summary["pending"] == 0:
                time.sleep(0.5)  # summary.json trails the counts by a fraction of a second
                return json.loads((Path(summary["report_dir"]) / "summary.json").read_text())
            time.sleep(0.2)
        raise AssertionError(f"not settled in {timeout}s: {self.summary()}")

    def records(self) -> list[dict]:
        path = self.report_dir / "differences.ndjson"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def stop(self) -> None:
        terminate(self.proc)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class LoopbackServer:
    """A threaded HTTP server on a free loopback port, serving `handler` in the background until stop()."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = _Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FieldRewriter(LoopbackServer):
    """A candidate that forwards to agno-session and alters one field: top-level `session_name`."""

    def __init__(self, upstream: str, field: str = "session_name", value: str = "injected") -> None:
        target = urlsplit(upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                try:
                    document = json.loads(data)
                    if isinstance(document, dict) and field in document:
                        document[field] = value
                        data = json.dumps(document, separators=(",", ":")).encode()
                except ValueError:
                    pass
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = do_OPTIONS = _forward

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)


class Hang:
    """A candidate that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self._stop = True
        self.sock.close()
        for conn in self.held:
            conn.close()


def dead_url() -> str:
    """A loopback URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"
