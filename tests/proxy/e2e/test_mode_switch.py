"""The mode switched at run time (PUT /mode) under continuous probes: no connection refused or cut, every answer
from the backend the mode names, and each mode's evidence in its own report directory."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.proxy.e2e.stage import Mitmdump

SWITCHES = ("cutover", "reverse", "shadow", "cutover", "shadow")
PROBES_PER_MODE = 12  # probes that start and end inside each mode's stretch, at least


@dataclass
class Probe:
    started: float
    ended: float
    path: str
    status: int | None
    from_sessions: bool
    error: str | None


class Prober:
    """Threads that keep sending reads through the proxy, each on one kept-alive connection."""

    def __init__(self, base: str, threads: int = 3) -> None:
        self.host, self.port = base.removeprefix("http://").split(":")
        self.probes: list[Probe] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self) -> None:
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        n = 0
        while not self.stopping.is_set():
            path = "/sessions?limit=2" if n % 2 == 0 else "/health"
            n += 1
            started = time.monotonic()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                probe = Probe(started, time.monotonic(), path, response.status,
                              response.getheader("x-request-id") is not None, None)
            except (OSError, http.client.HTTPException) as exc:
                probe = Probe(started, time.monotonic(), path, None, False, f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
            with self.lock:
                self.probes.append(probe)
        conn.close()

    def count(self) -> int:
        with self.lock:
            return len(self.probes)

    def wait_for(self, more: int, timeout: float = 120.0) -> None:
        """Until `more` further probes have finished (progress, not a fixed sleep)."""
        target, deadline = self.count() + more, time.monotonic() + timeout
        while self.count() < target:
            assert time.monotonic() < deadline, f"probes stalled at {self.count()} of {target}"
            time.sleep(0.05)

    def stop(self) -> list[Probe]:
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=90)
        return self.probes


def test_bad_mode_is_refused_with_a_json_detail(cluster, workdir):
    pair = cluster.pairs["single"]
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "shadow")
    try:
        request = urllib.request.Request(f"{proxy.control}/mode", data=b'{"mode": "sideways"}', method="PUT")
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("PUT /mode sideways was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400 and "one of shadow, cutover, reverse" in json.loads(exc.read())["detail"]
        assert proxy.summary()["mode"] == "shadow"
    finally:
        proxy.stop()


def test_switching_modes_under_continuous_probes_drops_nothing(cluster, workdir):
    pair = cluster.pairs["single"]
    proxy = Mitmdump(workdir, pair.a.url, pair.b.url, "shadow")
    prober = Prober(proxy.url)
    windows: list[tuple[str, float, float]] = []  # mode, its PUT answered, the next PUT sent
    try:
        mode, since = "shadow", time.monotonic()
        prober.wait_for(PROBES_PER_MODE * 2)
        for new in SWITCHES:
            sent = time.monotonic()
            windows.append((mode, since, sent))
            assert proxy.switch(new)["mode"] == new
            mode, since = new, time.monotonic()
            prober.wait_for(PROBES_PER_MODE * 2)
        windows.append((mode, since, time.monotonic()))
        probes = prober.stop()
        proxy.settled(0)  # every comparison finished (the counts are per run)
        runs = json.loads((proxy.reports / "runs.json").read_text())["runs"]
    finally:
        prober.stop()
        proxy.stop()
    assert [p for p in probes if p.error or p.status != 200] == []
    for mode, start, end in windows:
        inside = [p for p in probes if start < p.started and p.ended < end]
        routed = [p for p in inside if p.path.startswith("/sessions")]
        assert len(inside) >= PROBES_PER_MODE, (mode, len(inside))
        assert all(p.from_sessions == (mode != "shadow") for p in routed), f"{mode}: answered by the wrong side"
        assert not any(p.from_sessions for p in inside if p.path == "/health"), f"{mode}: /health left AgentOS"
    assert [r["mode"] for r in runs] == ["shadow", *SWITCHES]
    for run in runs:
        directory = proxy.reports / run["dir"]
        summary = json.loads((directory / "summary.json").read_text())
        assert summary["mode"] == run["mode"] and summary["seen"] > 0, run
        if run["mode"] == "cutover":
            assert summary["compared"] == 0 and not (directory / "differences.ndjson").exists()
        records = _records(directory)
        assert all(r["mode"] == run["mode"] for r in records)
    print(f"\n{len(probes)} probes through {len(SWITCHES)} switches, none refused or failed; runs: "
          f"{[r['dir'] for r in runs]}")


def _records(directory: Path) -> list[dict]:
    path = directory / "differences.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
