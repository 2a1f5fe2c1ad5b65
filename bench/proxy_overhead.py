"""Overhead of the cut-over proxy: added latency (p50/p99) through mitmdump versus direct, and its CPU per request.

Usage: python -m bench.proxy_overhead --direct http://127.0.0.1:7777 --proxy http://127.0.0.1:8880 \
           --proxy-pid <mitmdump pid> [--requests 2000] [--concurrency 16 64] [PATH ...]
Clients are threads with one keep-alive connection each; the same paths are sent direct and through the
proxy, alternating by round so both see the same server state. The proxy's CPU is read from
/proc/<pid>/stat before and after the proxied rounds. Loopback targets only; bounded by --requests.
With --scenario, the script starts everything itself: make proxy-bench.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .procs import tree_cpu

DEFAULT_PATHS = ["/sessions?limit=20", "/sessions/agent-sess-1", "/sessions/agent-sess-1/runs"]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def round_of(base: str, paths: list[str], total: int, clients: int) -> list[float]:
    """Milliseconds per request for `total` GETs spread over `clients` threads."""
    url = urlsplit(base)
    if url.hostname not in LOOPBACK:
        raise SystemExit(f"refusing non-loopback target {base}")
    per_client = max(1, total // clients)
    out: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        mine = []
        for i in range(per_client):
            path = paths[(index + i) % len(paths)]
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status >= 500:
                failures.append(f"{path}: {response.status}")
        conn.close()
        with lock:
            out.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{base} answered {failures[:3]}")
    return out


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def measure(direct: str, proxy: str, pid: int | None, paths: list[str], total: int, clients: int) -> dict:
    """One concurrency level: latency direct and proxied, and the proxy's CPU per proxied request."""
    round_of(direct, paths, clients * 4, clients)  # warm-up both
    round_of(proxy, paths, clients * 4, clients)
    d = round_of(direct, paths, total, clients)
    before = tree_cpu(pid) if pid else 0.0
    started = time.perf_counter()
    p = round_of(proxy, paths, total, clients)
    wall = time.perf_counter() - started
    cpu = (tree_cpu(pid) - before) if pid else float("nan")
    return {"clients": clients, "n": len(p), "direct_p50": pct(d, 50), "direct_p99": pct(d, 99),
            "proxy_p50": pct(p, 50), "proxy_p99": pct(p, 99), "cpu_ms_per_request": cpu * 1000 / len(p),
            "proxy_rps": len(p) / wall}


def report(rows: list[dict]) -> None:
    print(f"{'clients':>7} {'n':>6} {'direct p50':>10} {'proxy p50':>10} {'added p50':>10} {'direct p99':>10} "
          f"{'proxy p99':>10} {'added p99':>10} {'p50 ratio':>9} {'p99 ratio':>9} {'CPU ms/req':>10} {'proxy rps':>9}")
    for r in rows:
        print(f"{r['clients']:>7} {r['n']:>6} {r['direct_p50']:>10.2f} {r['proxy_p50']:>10.2f} "
              f"{r['proxy_p50'] - r['direct_p50']:>10.2f} {r['direct_p99']:>10.2f} {r['proxy_p99']:>10.2f} "
              f"{r['proxy_p99'] - r['direct_p99']:>10.2f} {r['proxy_p50'] / r['direct_p50']:>8.2f}x "
              f"{r['proxy_p99'] / r['direct_p99']:>8.2f}x {r['cpu_ms_per_request']:>10.2f} {r['proxy_rps']:>9.0f}")
    print("latencies in ms; added = proxy - direct; CPU is mitmdump's own (user+system) per proxied request")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--direct", help="the primary, called directly")
    parser.add_argument("--proxy", help="the same primary through mitmdump")
    parser.add_argument("--proxy-pid", type=int, help="mitmdump's pid, for its CPU time")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round (bounded: at most 20000)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--scenario", action="store_true",
                        help="start PostgreSQL, AgentOS, agno-session and mitmdump (shadow mode) here")
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args(argv)
    total = min(args.requests, 20000)
    if args.scenario:
        return scenario(args.paths, total, args.concurrency)
    if not (args.direct and args.proxy):
        parser.error("--direct and --proxy are required without --scenario")
    report([measure(args.direct, args.proxy, args.proxy_pid, args.paths, total, c) for c in args.concurrency])
    return 0


def scenario(paths: list[str], total: int, levels: list[int]) -> int:
    """The contract stage (AgentOS + agno-session on the seeded database) with mitmdump in shadow mode."""
    from tests.proxy.e2e.stage import Mitmdump, SingleCluster

    cluster = SingleCluster(os.environ["AGNO_REFERENCE_PYTHON"]).start()
    workdir = Path(tempfile.mkdtemp(prefix="agno-proxy-bench-"))
    try:
        pair = cluster.pairs["single"]
        for mode, direct in (("shadow", pair.a.url), ("cutover", pair.b.url)):
            proxy = Mitmdump(workdir, pair.a.url, pair.b.url, mode)
            try:
                behind = "AgentOS, agno-session compared" if mode == "shadow" else "agno-session"
                print(f"\nmode {mode}: client -> mitmdump -> {behind}; direct = the same server without the proxy")
                report([measure(direct, proxy.url, proxy.proc.pid, paths, total, c) for c in levels])
                summary = proxy.summary()
                print(f"  comparisons: {summary['compared']} compared, {summary['identical']} identical, "
                      f"not compared {({k: v for k, v in summary['not_compared'].items() if v})}")
            finally:
                proxy.stop()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
