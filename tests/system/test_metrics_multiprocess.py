"""/metrics under real gunicorn workers: counts summed across worker processes, and random requests adding no series."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.metrics import samples, value
from tests.support.servers import serving, worker_pids


def test_counts_are_summed_across_gunicorn_workers(db_env, tmp_path: Path) -> None:
    """Which worker the kernel gives a connection to is not ours to decide, so the workers serve one after another:
    one worker answers, is replaced (SIGTERM to it; the arbiter forks another), the new one answers; every scrape
    then sums both workers' files, and the gauges count only the live worker."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale from a previous run")
    requests = 30
    with serving({**db_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, workers=1, threads=2) as server:
        first = wait_for_workers(server.proc.pid, lambda pids: len(pids) == 1)[0]
        for _ in range(requests):
            assert server.request("GET", "/healthz", headers={"Connection": "close"})[0] == 200
        os.kill(first, signal.SIGTERM)
        wait_for_workers(server.proc.pid, lambda pids: len(pids) == 1 and first not in pids)
        for _ in range(requests):
            assert server.request("GET", "/healthz", headers={"Connection": "close"})[0] == 200
        writers = {p.name for p in metrics_dir.glob("counter_*.db")}
        scrapes = [server.request("GET", "/metrics")[2].decode() for _ in range(2)]
    assert "counter_1.db" not in writers and len(writers) == 2, writers  # both workers served and wrote
    for text in scrapes:
        assert value(text, "agno_session_http_requests_total", route="/healthz", method="GET",
                     status="200") == 2 * requests
        assert value(text, "agno_session_db_pool_connections_in_use", db_id="srv", pool="primary") == 0
        assert value(text, "agno_session_db_pool_connections_max", db_id="srv", pool="primary") == 2  # live only
        assert [v for (name, _), v in samples(text).items() if name == "agno_session_build_info"] == [1.0]


def wait_for_workers(arbiter: int, ready: Callable[[list[int]], bool], within: float = 30) -> list[int]:
    """The arbiter's worker pids once `ready` holds for them (forking is not instantaneous)."""
    deadline = time.monotonic() + within
    while not ready(pids := worker_pids(arbiter)):
        assert time.monotonic() < deadline, f"workers never became ready: {pids}"
        time.sleep(0.05)
    return pids


def _series(text: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """The series of an exposition (name and labels), values left out."""
    return set(samples(text))


def _random_requests(count: int, seed: int) -> list[tuple[str, str]]:
    """Made-up methods and paths no route matches: junk segments, trailing junk, %-encodings, overlong ones."""
    import random
    import string

    rng = random.Random(seed)
    upper = string.ascii_uppercase

    def junk(n: int) -> str:
        return "".join(rng.choice(string.ascii_letters + string.digits + "-._~") for _ in range(n))

    paths = [
        lambda: f"/{junk(rng.randint(1, 40))}",
        lambda: f"/sessions/{junk(8)}/{junk(8)}/{junk(3)}",  # trailing segments after a real route
        lambda: f"/sessions/{junk(6)}/runs/{junk(6)}/{junk(4)}",
        lambda: "/" + "".join(f"%{rng.randrange(256):02X}" for _ in range(rng.randint(1, 12))),
        lambda: f"/healthz{junk(5)}",
        lambda: f"/metrics/{junk(5)}",
        lambda: f"/{junk(3)}?" + "&".join(f"{junk(3)}={junk(5)}" for _ in range(3)),
        lambda: "/" + "/".join(junk(2) for _ in range(rng.randint(2, 30))),
    ]
    out = []
    for _ in range(count):
        method = rng.choice(["GET", "POST", "DELETE", "PATCH", "PUT"]) if rng.random() < 0.3 else \
            "".join(rng.choice(upper) for _ in range(12))
        path = rng.choice(paths)()
        if rng.random() < 0.1:
            method, path = "".join(rng.choice(upper) for _ in range(12)), "/sessions"  # a route, a method it lacks
        out.append((method, path))
    return out


def _send_all(port: int, calls: list[tuple[str, str]]) -> list[int]:
    """Every call over keep-alive connections (a new one whenever the server closed the last)."""
    import http.client

    statuses: list[int] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i, (method, path) in enumerate(calls):
        for attempt in (1, 2):
            try:
                conn.request(method, path)
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                break
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt == 2:
                    raise
        if (i + 1) % 2500 == 0:
            print(f"  {i + 1}/{len(calls)} random requests sent", flush=True)
    conn.close()
    return statuses


def test_random_methods_and_paths_add_no_series(db_env, tmp_path: Path) -> None:
    """10,000 made-up methods and unmatched paths against real gunicorn workers: every series they leave was
    already there after a normal request set with one made-up method and one unmatched path (issue 16 saw
    /metrics grow to 6 MB from 3,000 random methods)."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    normal = [("GET", "/sessions"), ("GET", "/sessions/absent"), ("POST", "/sessions"), ("GET", "/healthz"),
              ("GET", "/no/such/route"), ("ANYTHINGELSE", "/no/such/route"), ("ANYTHINGELSE", "/sessions"),
              ("PUT", "/no/such/route"), ("DELETE", "/elsewhere"), ("PATCH", "/x"), ("POST", "/x"),
              ("GET", "/metrics")]
    with serving({**db_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, workers=2, threads=4) as server:
        for _ in range(3):  # over new connections, so both workers are likely to serve some
            _send_all(server.port, normal)
        before = _series(server.request("GET", "/metrics")[2].decode())
        statuses = _send_all(server.port, _random_requests(10_000, seed=16))
        after = _series(server.request("GET", "/metrics")[2].decode())
    assert len(statuses) == 10_000 and set(statuses) <= {400, 404, 405}, set(statuses)
    assert after - before == set(), sorted(after - before)[:20]
    methods = {dict(labels).get("method") for _, labels in after} - {None}
    assert methods <= {"GET", "POST", "PUT", "PATCH", "DELETE", "other"}, methods
