"""Loopback server processes for the tests, the contract harness, the benchmarks and the operator scripts: a free
port, a process started with its output in a log, a health poll, one HTTP request, a graceful stop."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.procs import children

CLI = str(Path(sys.executable).parent / "agno-session")
STARTUP_SECONDS = 20


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terminate(proc: subprocess.Popen, timeout: float = 15) -> int:
    """SIGTERM, then SIGKILL if it lingers; the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Server:
    """One server process, where it listens and (optionally) the file its output goes to."""

    def __init__(self, name: str, url: str, proc: subprocess.Popen, log: Path | None = None) -> None:
        self.name, self.url, self.proc, self.log = name, url, proc, log

    @property
    def port(self) -> int:
        """The loopback port it listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def wait_healthy(self, path: str = "/health", timeout: float = 300.0) -> None:
        """Poll `path` until it answers 200; fail with the server's log when it dies or hangs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout:.0f}s{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        """The end of the server's log (empty without one), for failure messages."""
        if self.log is None or not self.log.exists():
            return ""
        return "\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None,
                timeout: float = 15) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection (a JSON body when given): status, lower-cased headers, body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            all_headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, body=data, headers={**all_headers, **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def stop(self, within: float = 20) -> tuple[int, float]:
        """SIGTERM (SIGKILL if it lingers past `within`): the exit code and how long the stop took."""
        started = time.monotonic()
        code = terminate(self.proc, within)
        return code, time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL, for clean-up after a failure."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def launch(name: str, argv: list[str], env: dict[str, str], port: int, cwd: Path, log: Path) -> Server:
    """Start one server with its output in `log` (not yet answering: wait_healthy before use)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, f"http://127.0.0.1:{port}", proc, log)


class AgnoSession(Server):
    """A running `agno-session serve` (gunicorn) on a free port, its JSON stderr read continuously into `lines`;
    ready when it logs that it listens."""

    def __init__(self, env: dict[str, str], workers: int, threads: int, cli: str = CLI,
                 cwd: Path | None = None) -> None:
        port = free_port()
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
        proc = subprocess.Popen(
            [cli, "serve", "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
            env={**base, "AGNO_SERVICE_HOST": "127.0.0.1", **env}, cwd=cwd,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        super().__init__("agno-session", f"http://127.0.0.1:{port}", proc)
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP_SECONDS):
            self.kill()
            raise AssertionError("server did not start:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        marker = f"session service listening on :{self.port}"
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))
            if marker in line:
                self._ready.set()

    def tail(self, lines: int = 40) -> str:
        """The last lines it wrote to stderr."""
        return "\n" + "\n".join(self.lines[-lines:])

    def stop(self, within: float = 20) -> tuple[int, float]:
        """SIGTERM, then the exit code and how long the graceful stop took (SIGKILL past `within`)."""
        stopped = super().stop(within)
        self._reader.join(5)
        return stopped

    def access_log(self) -> list[dict]:
        """The access-log entries it wrote, parsed."""
        entries = []
        for line in self.lines:
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("msg") == "request":
                    entries.append(entry)
        return entries


@contextmanager
def serving(env: dict[str, str], workers: int = 2, threads: int = 4) -> Iterator[AgnoSession]:
    """`agno-session serve` for the block, killed on leaving (a test that wants a graceful stop calls stop())."""
    server = AgnoSession(env, workers, threads)
    try:
        yield server
    finally:
        server.kill()


def worker_pids(parent: int) -> list[int]:
    """Child processes of the gunicorn arbiter (its workers)."""
    return children().get(parent, [])
