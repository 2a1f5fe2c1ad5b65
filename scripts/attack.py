#!/usr/bin/env python3
"""Hostile and careless clients against an HTTP service, with normal requests probed all along: does it hold?

Usage: python3 scripts/attack.py URL [--idle 256] [--slowloris 64] [--slow-body 64] [--half-head 64]
                                 [--seconds 20] [--probe PATH ...] [--header 'Name: value' ...] [--json FILE]
                                 [--only PHASE ...] [--insecure]

Standard library only (Python 3.8+): an operator can copy this one file and point it at their own deployment
(http or https; URL may carry a path prefix, e.g. https://example.org/agno). It attacks only URL's host and port.

Phases, one after the other:
  idle+slowloris  --idle connections that send nothing, plus --slowloris connections sending a request head one
                  byte a second (never finishing);
  slow-body       --slow-body connections sending a complete `POST /sessions` head (Content-Length 4096), then
                  the body one byte a second (never valid JSON, so nothing is created if it ever completes);
  half-head       --half-head connections sending half of a request head at once, then nothing.
A connection the server closes is counted and reopened, so the pressure stays on for the whole phase. Meanwhile
every probe path (default /healthz /readyz /sessions, --header values sent with them) is requested every 0.2 s,
alternately on a new connection and on a kept-alive one; a probe is ok when it is answered within 2 s with a
status below 500 (a 401 is an answer). When the phase's connections are closed, the next 10 probes in a row must
be ok (recovery). A phase held when >= 99% of its probes were ok and the service recovered.
Exit code: 0 when every phase held, 1 when one did not, 2 when the service did not answer before the attack.

Library use (tests, deploy checks): `run(url, **options) -> Report` (`.held`, `.table()`, `.to_dict()`) and
`Probe(url, paths, headers)` for normal requests with the same rules.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import selectors
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

PHASES = ("idle+slowloris", "slow-body", "half-head")
DEFAULT_PROBES = ("/healthz", "/readyz", "/sessions")
DEADLINE = 2.0  # a probe answered later than this is slow
INTERVAL = 0.2  # between two rounds of probes
TRICKLE = 1.0  # seconds between two bytes of a slow connection
REOPEN_DELAY = 0.2  # before a connection the server closed is opened again
RECOVERY_PROBES = 10
HELD_RATIO = 0.99
BODY_LENGTH = 4096
PROGRESS_EVERY = 2.0


class NotAnswering(Exception):
    """The service did not answer normally before an attack: there is nothing to measure."""


@dataclass(frozen=True)
class Target:
    """Where to send everything: scheme, host, port and the URL's path prefix."""

    scheme: str
    host: str
    port: int
    base: str
    insecure: bool = False

    @classmethod
    def parse(cls, url: str, insecure: bool = False) -> Target:
        """Split an http(s) URL, refusing anything else with a clear message."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL with a host, got {url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ValueError(f"bad port in {url!r}") from exc
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/"), insecure)

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def tls(self) -> ssl.SSLContext | None:
        """The client TLS context for https targets (unverified with --insecure)."""
        if self.scheme != "https":
            return None
        context = ssl.create_default_context()
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.tls())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


# --- normal requests -------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One probe: ok (answered in time, status < 500), slow (no answer within the deadline) or failed."""

    path: str
    verdict: str
    seconds: float
    status: int | None = None
    error: str = ""

    def describe(self) -> str:
        """`/path verdict (why)`, for reports."""
        return f"{self.path} {self.verdict} ({self.error or self.status})"


class Probe:
    """Normal requests to the service, judged by one rule: answered within `deadline` with a status below 500."""

    def __init__(self, url: str | Target, paths: Iterable[str] = DEFAULT_PROBES,
                 headers: dict[str, str] | None = None, deadline: float = DEADLINE) -> None:
        self.target = url if isinstance(url, Target) else Target.parse(url)
        self.paths = tuple(paths)
        self.headers = {"Host": self.target.host_header, "User-Agent": "attack.py probe", **(headers or {})}
        self.deadline = deadline
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[threading.Lock, list[http.client.HTTPConnection | None]]] = {
            path: (threading.Lock(), [None]) for path in self.paths}

    def once(self, path: str, keep_alive: bool = False) -> Outcome:
        """One request to `path`, on a fresh connection or on the path's kept-alive one when it is free."""
        lock, slot = self._kept[path] if keep_alive and path in self._kept else (None, None)
        if lock is None or not lock.acquire(blocking=False):
            return self._request(path, None)
        try:
            return self._request(path, slot)
        finally:
            lock.release()

    def record(self, path: str, keep_alive: bool = False) -> Outcome:
        """`once`, kept in `outcomes`."""
        outcome = self.once(path, keep_alive)
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def answers(self, count: int = RECOVERY_PROBES) -> list[Outcome]:
        """`count` probes in a row, cycling through the paths, each on a new connection."""
        return [self.once(self.paths[i % len(self.paths)]) for i in range(count)]

    def take(self) -> list[Outcome]:
        """The recorded outcomes, cleared."""
        with self._lock:
            taken, self.outcomes = self.outcomes, []
        return taken

    def _request(self, path: str, slot: list | None) -> Outcome:
        started = time.monotonic()
        reused = slot is not None and slot[0] is not None
        conn = slot[0] if reused else self.target.connection(self.deadline)
        try:
            try:
                status = self._exchange(conn, path)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not reused:  # a kept-alive connection the server closed while idle: retry once, as clients do
                    raise
                conn.close()
                conn = self.target.connection(max(0.1, self.deadline - (time.monotonic() - started)))
                status = self._exchange(conn, path)
        except (TimeoutError, socket.timeout) as exc:  # noqa: UP041 (distinct before Python 3.10)
            conn.close()
            self._keep(slot, None)
            return Outcome(path, "slow", time.monotonic() - started, error=type(exc).__name__)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._keep(slot, None)
            return Outcome(path, "failed", time.monotonic() - started, error=f"{type(exc).__name__}: {exc}"[:120])
        seconds = time.monotonic() - started
        self._keep(slot, conn if slot is not None else None)
        if slot is None:
            conn.close()
        if status >= 500:
            return Outcome(path, "failed", seconds, status, f"status {status}")
        return Outcome(path, "ok" if seconds <= self.deadline else "slow", seconds, status)

    def _exchange(self, conn: http.client.HTTPConnection, path: str) -> int:
        conn.request("GET", self.target.base + path, headers=self.headers)
        response = conn.getresponse()
        response.read()
        if response.will_close:
            conn.close()
        return response.status

    @staticmethod
    def _keep(slot: list | None, conn: http.client.HTTPConnection | None) -> None:
        if slot is not None:
            slot[0] = conn


# --- hostile connections ---------------------------------------------------------------------------------------


@dataclass
class _Hostile:
    """One attacking connection: what it sends at once (burst), what it sends one byte a second (trickle)."""

    kind: str
    burst: bytes
    trickle: bytes
    sock: socket.socket | None = None
    state: str = "closed"  # closed -> connecting -> (handshake) -> open -> closed ...
    sent: int = 0
    next_at: float = 0.0
    ever_open: bool = False


def _payloads(kind: str, target: Target) -> tuple[bytes, bytes]:
    """The burst and the trickle of each kind of hostile connection."""
    host = target.host_header
    path = target.base + "/sessions"
    if kind == "idle":
        return b"", b""
    if kind == "slowloris":
        head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: attack.py slowloris\r\n"
        return b"", (head + "".join(f"X-Pad-{i}: {i}\r\n" for i in range(2000))).encode()
    if kind == "slow-body":
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: attack.py slow-body\r\n"
                f"Content-Type: application/json\r\nContent-Length: {BODY_LENGTH}\r\n\r\n")
        body = b'{"session_name": "' + b"a" * (BODY_LENGTH - 18)  # never closed: invalid JSON if ever complete
        return head.encode(), body
    if kind == "half-head":
        head = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: attack.py half-head\r\n"
                "Accept: application/json\r\nAccept-Encoding: identity\r\n\r\n").encode()
        return head[: len(head) // 2], b""
    raise ValueError(f"unknown kind of connection {kind!r}")


class Swarm:
    """A phase's hostile connections, driven by one thread and a selector; one the server closes is reopened."""

    def __init__(self, target: Target, counts: dict[str, int]) -> None:
        self.target = target
        self.counts = {kind: n for kind, n in counts.items() if n > 0}
        self.conns = [_Hostile(kind, *_payloads(kind, target)) for kind, n in self.counts.items() for _ in range(n)]
        self.closed_by_server = 0
        self.reopened = 0
        self.connect_failures = 0
        self._tls = target.tls()
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="attack-swarm", daemon=True)
        self._address = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)[0]

    @property
    def open(self) -> int:
        return sum(conn.state == "open" for conn in self.conns)

    def start(self, settle: float = 5.0) -> None:
        """Open every connection, and wait (up to `settle` s) until they are established."""
        now = time.monotonic()
        for conn in self.conns:
            self._connect(conn, now)
        self._thread.start()
        deadline = time.monotonic() + settle
        while self.open < len(self.conns) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Close every connection (the client hangs up; nothing more is counted)."""
        self._stop.set()
        self._thread.join()
        for conn in self.conns:
            self._drop(conn)
        self._selector.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.05):
                self._ready(key.data)
            now = time.monotonic()
            for conn in self.conns:
                if conn.next_at > now:
                    continue
                if conn.state == "closed":
                    self.reopened += 1
                    self._connect(conn, now)
                elif conn.state == "open" and conn.sent < len(conn.trickle):
                    self._send(conn, conn.trickle[conn.sent:conn.sent + 1], now)
                    conn.sent += 1
                    conn.next_at = now + TRICKLE

    def _connect(self, conn: _Hostile, now: float) -> None:
        family, kind, proto, _, address = self._address
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            sock.connect(address)
        except BlockingIOError:
            pass
        except OSError:
            sock.close()
            self._failed(conn, now)
            return
        conn.sock, conn.state, conn.sent = sock, "connecting", 0
        self._selector.register(sock, selectors.EVENT_WRITE, conn)

    def _ready(self, conn: _Hostile) -> None:
        now = time.monotonic()
        if conn.sock is None:  # dropped earlier in the same round of events
            return
        if conn.state == "connecting":
            if conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                self._drop(conn)
                self._failed(conn, now)
            elif self._tls is not None and conn.kind != "idle":  # idle stays raw TCP: not even a handshake
                self._selector.unregister(conn.sock)
                conn.sock = self._tls.wrap_socket(conn.sock, server_hostname=self.target.host,
                                                  do_handshake_on_connect=False)
                self._selector.register(conn.sock, selectors.EVENT_WRITE, conn)
                conn.state = "handshake"
                self._handshake(conn, now)
            else:
                self._established(conn, now)
        elif conn.state == "handshake":
            self._handshake(conn, now)
        else:
            self._read(conn, now)

    def _handshake(self, conn: _Hostile, now: float) -> None:
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
        except ssl.SSLWantWriteError:
            self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        except OSError:
            self._closed(conn, now)
        else:
            self._established(conn, now)

    def _established(self, conn: _Hostile, now: float) -> None:
        self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
        conn.state, conn.ever_open = "open", True
        conn.next_at = now + random.uniform(0, TRICKLE)  # spread the trickles over the second
        if conn.burst:
            self._send(conn, conn.burst, now)

    def _send(self, conn: _Hostile, data: bytes, now: float) -> None:
        try:
            conn.sock.sendall(data)  # at most a few hundred bytes: the socket buffer takes them at once
        except (BlockingIOError, ssl.SSLWantWriteError):
            pass
        except OSError:
            self._closed(conn, now)

    def _read(self, conn: _Hostile, now: float) -> None:
        try:
            data = conn.sock.recv(4096)
        except (BlockingIOError, ssl.SSLWantReadError):
            return
        except OSError:
            data = b""
        if not data:  # an answer (e.g. 408) is read and ignored; the end of the stream is the server's close
            self._closed(conn, now)

    def _closed(self, conn: _Hostile, now: float) -> None:
        self.closed_by_server += 1
        self._drop(conn)
        conn.next_at = now + REOPEN_DELAY

    def _failed(self, conn: _Hostile, now: float) -> None:
        self.connect_failures += 1
        conn.state, conn.next_at = "closed", now + REOPEN_DELAY

    def _drop(self, conn: _Hostile) -> None:
        if conn.sock is not None:
            try:
                self._selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
            conn.sock.close()
        conn.sock, conn.state = None, "closed"


# --- phases and the report -------------------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class PhaseReport:
    """What one phase tried and how the service answered meanwhile and afterwards."""

    phase: str
    hostile: dict[str, int]
    established: int
    closed_by_server: int
    reopened: int
    connect_failures: int
    probes: int
    ok: int
    slow: int
    failed: int
    p50: float
    p99: float
    max: float
    recovered: bool
    recovery: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        return self.probes > 0 and self.ok >= HELD_RATIO * self.probes and self.recovered

    def to_dict(self) -> dict:
        return {**asdict(self), "held": self.held}


@dataclass
class Report:
    """Every phase's report; `held` when each phase held."""

    url: str
    phases: list[PhaseReport]
    heads: HeadCost | None = None

    @property
    def held(self) -> bool:
        measured = bool(self.phases) or self.heads is not None
        return measured and all(phase.held for phase in self.phases) and (self.heads is None or self.heads.linear)

    def to_dict(self) -> dict:
        heads = None if self.heads is None else {**asdict(self.heads), "linear": self.heads.linear}
        return {"url": self.url, "held": self.held, "phases": [phase.to_dict() for phase in self.phases],
                "heads": heads}

    def table(self) -> str:
        """One line per phase, for people."""
        head = (f"{'phase':<15} {'hostile':>12} {'closed':>7} {'reopened':>8} {'probes ok':>11} "
                f"{'p50':>7} {'p99':>7} {'max':>7} {'recovered':>9}  verdict")
        lines = [head, "-" * len(head)]
        for p in self.phases:
            hostile = "+".join(str(n) for n in p.hostile.values())
            lines.append(f"{p.phase:<15} {hostile:>12} {p.closed_by_server:>7} {p.reopened:>8} "
                         f"{f'{p.ok}/{p.probes}':>11} {p.p50:>6.3f}s {p.p99:>6.3f}s {p.max:>6.3f}s "
                         f"{'yes' if p.recovered else 'NO':>9}  {'held' if p.held else 'FAILED'}")
        for p in self.phases:
            if p.errors:
                reasons = ", ".join(f"{reason} x{n}" for reason, n in p.errors.items())
                lines.append(f"{p.phase}: probes not ok: {reasons}")
        if self.heads is not None:
            lines.append(self.heads.line())
        return "\n".join(lines)


@dataclass
class HeadCost:
    """What a request head costs the service per byte at its size limit and at eight times it."""

    limit: int
    at_limit: dict[str, float | int]  # bytes, seconds (median), status
    at_8x: dict[str, float | int]

    @property
    def linear(self) -> bool:
        """A head eight times the limit may cost more in all, never more per byte (allowing for noise: 2x)."""
        return self.per_byte(self.at_8x) <= 2 * self.per_byte(self.at_limit)

    @staticmethod
    def per_byte(sample: dict[str, float | int]) -> float:
        return float(sample["seconds"]) / float(sample["bytes"])

    def line(self) -> str:
        def one(sample: dict[str, float | int]) -> str:
            return (f"{sample['bytes']} bytes -> {sample['status']} in {float(sample['seconds']) * 1000:.1f} ms "
                    f"({self.per_byte(sample) * 1e9:.1f} ns/byte)")
        return (f"request heads: {one(self.at_limit)}; 8x: {one(self.at_8x)} -> "
                f"{'linear' if self.linear else 'NOT linear'}")


def measure_heads(target: Target, limit: int, repeats: int = 5) -> HeadCost:
    """Send a head of `limit` bytes and one of 8 x `limit` (one padded header field), `repeats` times each; the
    median time from the first byte sent to the answer's status line."""

    def head(size: int) -> bytes:
        start = f"GET {target.base}/healthz HTTP/1.1\r\nHost: {target.host_header}\r\nX-Pad: ".encode()
        end = b"\r\nConnection: close\r\n\r\n"
        return start + b"p" * max(0, size - len(start) - len(end)) + end

    def once(data: bytes) -> tuple[float, int]:
        raw = socket.create_connection((target.host, target.port), timeout=30)
        context = target.tls()
        sock = context.wrap_socket(raw, server_hostname=target.host) if context else raw
        with sock:
            started = time.perf_counter()
            try:
                sock.sendall(data)
            except OSError:
                pass  # refused before the end: the answer is already on its way
            answer = b""
            try:
                while b"\r\n" not in answer:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            except OSError:
                pass
            took = time.perf_counter() - started
        status = answer.split(b" ", 2)[1] if answer.count(b" ") >= 2 else b"0"
        return took, int(status) if status.isdigit() else 0

    samples = {}
    for name, size in (("at_limit", limit), ("at_8x", 8 * limit)):
        data = head(size)
        runs = sorted(once(data) for _ in range(repeats))
        seconds, status = runs[len(runs) // 2]
        samples[name] = {"bytes": len(data), "seconds": seconds, "status": status}
    return HeadCost(limit, samples["at_limit"], samples["at_8x"])


def _wait_answering(probe: Probe, within: float) -> None:
    """Before a phase: the service answers every probe path, else there is nothing to measure."""
    deadline = time.monotonic() + within
    while True:
        outcomes = [probe.once(path) for path in probe.paths]
        if all(o.verdict == "ok" for o in outcomes):
            return
        untrusted = any(o.error.startswith("SSLCertVerificationError") for o in outcomes)
        if untrusted or time.monotonic() >= deadline:
            reasons = "; ".join(o.describe() for o in outcomes if o.verdict != "ok")
            hint = " (--insecure accepts a certificate this machine does not trust)" if untrusted else ""
            raise NotAnswering(f"{probe.target.scheme}://{probe.target.host_header}{probe.target.base} "
                               f"does not answer normally before the attack ({reasons}){hint}")
        time.sleep(0.5)


def run_phase(phase: str, counts: dict[str, int], probe: Probe, seconds: float,
              progress: Callable[[str], None]) -> PhaseReport:
    """Open the phase's hostile connections, probe for `seconds`, close them, then check recovery."""
    swarm = Swarm(probe.target, counts)
    total = len(swarm.conns)
    kinds = ", ".join(f"{n} {kind}" for kind, n in swarm.counts.items())
    progress(f"[{phase}] opening {total} hostile connections ({kinds})")
    swarm.start()
    established = swarm.open
    progress(f"[{phase}] {established}/{total} established; probing {', '.join(probe.paths)} for {seconds:g} s")
    probe.take()
    threads: list[threading.Thread] = []
    started = time.monotonic()
    last_note, tick = started, 0
    try:
        while (now := time.monotonic()) < started + seconds:
            for path in probe.paths:
                thread = threading.Thread(target=probe.record, args=(path, tick % 2 == 1), daemon=True)
                thread.start()
                threads.append(thread)
            tick += 1
            if now - last_note >= PROGRESS_EVERY:
                last_note = now
                done = list(probe.outcomes)
                progress(f"[{phase}] {now - started:5.1f}s  probes ok {sum(o.verdict == 'ok' for o in done)}"
                         f"/{len(done)}  hostile open {swarm.open}/{total}  closed by server "
                         f"{swarm.closed_by_server}")
            time.sleep(max(0.0, started + tick * INTERVAL - time.monotonic()))
        for thread in threads:
            thread.join()
    finally:
        swarm.stop()
    recovery = probe.answers(RECOVERY_PROBES)
    outcomes = probe.take()
    latencies = [o.seconds for o in outcomes]
    errors = Counter(o.describe() for o in outcomes if o.verdict != "ok")
    report = PhaseReport(
        phase=phase, hostile=swarm.counts, established=established, closed_by_server=swarm.closed_by_server,
        reopened=swarm.reopened, connect_failures=swarm.connect_failures, probes=len(outcomes),
        ok=sum(o.verdict == "ok" for o in outcomes), slow=sum(o.verdict == "slow" for o in outcomes),
        failed=sum(o.verdict == "failed" for o in outcomes), p50=_percentile(latencies, 0.5),
        p99=_percentile(latencies, 0.99), max=max(latencies, default=0.0),
        recovered=all(o.verdict == "ok" for o in recovery),
        recovery=[f"{o.path} {o.verdict} {o.seconds:.3f}s" for o in recovery], errors=dict(errors.most_common(5)))
    progress(f"[{phase}] done: probes ok {report.ok}/{report.probes}, closed by server {report.closed_by_server}, "
             f"recovered {'yes' if report.recovered else 'NO'} -> {'held' if report.held else 'FAILED'}")
    return report


def run(url: str, idle: int = 256, slowloris: int = 64, slow_body: int = 64, half_head: int = 64,
        seconds: float = 20.0, probes: Iterable[str] = DEFAULT_PROBES, headers: dict[str, str] | None = None,
        only: Iterable[str] | None = None, insecure: bool = False,
        progress: Callable[[str], None] | None = None, head_limit: int = 0) -> Report:
    """Every phase (or those in `only`) in turn against `url`; raises NotAnswering when it is down beforehand."""
    chosen = list(only) if only else list(PHASES)
    unknown = [name for name in chosen if name not in PHASES]
    if unknown:
        raise ValueError(f"unknown phase(s) {unknown}; choose from {list(PHASES)}")
    say = progress or (lambda _line: None)
    probe = Probe(Target.parse(url, insecure), probes, headers)
    _raise_open_files(idle + slowloris + max(slow_body, half_head) + 256)
    counts = {"idle+slowloris": {"idle": idle, "slowloris": slowloris}, "slow-body": {"slow-body": slow_body},
              "half-head": {"half-head": half_head}}
    phases: list[PhaseReport] = []
    for phase in PHASES:
        if phase in chosen and sum(counts[phase].values()) > 0:
            _wait_answering(probe, within=30.0 if phases else 5.0)  # later: time to get over the previous phase
            phases.append(run_phase(phase, counts[phase], probe, seconds, say))
    heads = None
    if head_limit:
        say(f"[heads] {head_limit} bytes and 8 x {head_limit}, 5 times each")
        heads = measure_heads(probe.target, head_limit)
    return Report(url, phases, heads)


def _raise_open_files(needed: int) -> None:
    """Lift the soft limit on open files towards the hard one when the attack needs more sockets."""
    try:
        import resource
    except ImportError:  # not on this platform; the sockets will tell
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else min(needed, hard),
                                                    hard))


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a count cannot be negative")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the service's base URL, e.g. http://127.0.0.1:7777")
    parser.add_argument("--idle", type=_count, default=256, help="idle connections (idle+slowloris phase)")
    parser.add_argument("--slowloris", type=_count, default=64, help="slow-header connections (idle+slowloris)")
    parser.add_argument("--slow-body", type=_count, default=64, help="slow-body connections")
    parser.add_argument("--half-head", type=_count, default=64, help="half-sent-head connections")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--probe", action="append", dest="probes", metavar="PATH",
                        help=f"path probed during the attack (repeatable; default {' '.join(DEFAULT_PROBES)})")
    parser.add_argument("--header", action="append", type=_header, default=[], metavar="'NAME: VALUE'",
                        help="header sent with the probes, e.g. 'Authorization: Bearer ...' (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--only", nargs="+", choices=PHASES, metavar="PHASE",
                        help=f"run only these phases ({', '.join(PHASES)})")
    parser.add_argument("--insecure", action="store_true", help="https: do not verify the certificate")
    parser.add_argument("--head-limit", type=_count, default=131072, metavar="BYTES",
                        help="the service's request-head limit: heads of that size and 8 times it are timed, "
                             "and must cost no more per byte at 8x (0: skip; default 131072)")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    try:
        Target.parse(args.url)
    except ValueError as exc:
        parser.error(str(exc))
    for path in args.probes or ():
        if not path.startswith("/"):
            parser.error(f"a probe path starts with '/', got {path!r}")
    try:
        report = run(args.url, idle=args.idle, slowloris=args.slowloris, slow_body=args.slow_body,
                     half_head=args.half_head, seconds=args.seconds, probes=args.probes or DEFAULT_PROBES,
                     headers=dict(args.header), only=args.only, insecure=args.insecure,
                     progress=lambda line: print(line, file=sys.stderr, flush=True), head_limit=args.head_limit)
    except NotAnswering as exc:
        print(f"attack.py: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report.to_dict(), out, indent=2)
            out.write("\n")
    print("every phase held" if report.held else "at least one phase FAILED")
    return 0 if report.held else 1


if __name__ == "__main__":
    sys.exit(main())
