"""Side-by-side latency of the same GETs against two servers (AgentOS and agno-session), with ratios.

Usage: python scripts/compare_latency.py --a http://127.0.0.1:7777 --b http://127.0.0.1:8080 \
           [--requests 200] [PATH ...]
Sequential keep-alive requests on one connection each; reports the mean and p95 per path and A/B ratios.
Only loopback targets are accepted: this is a bounded local measurement, not a load test.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from urllib.parse import urlsplit

DEFAULT_PATHS = ["/sessions?limit=20", "/sessions?type=agent&limit=50", "/sessions/agent-large",
                 "/sessions/agent-sess-1/runs", "/sessions/agent-sess-1/runs/run-a1"]


def timings(base: str, path: str, count: int) -> list[float]:
    """Milliseconds per request for `count` sequential GETs after one warm-up."""
    url = urlsplit(base)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing non-loopback target {base}")
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    out = []
    for i in range(count + 1):
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        if response.status >= 500:
            raise SystemExit(f"{base}{path} answered {response.status}")
        if i:
            out.append((time.perf_counter() - started) * 1000)
    conn.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Print one line per path: A and B mean/p95 in ms and how many times faster B is."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="reference server (AgentOS)")
    parser.add_argument("--b", required=True, help="server under test (agno-session)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    args = parser.parse_args(argv)
    print(f"{'path':45} {'A mean':>8} {'A p95':>8} {'B mean':>8} {'B p95':>8} {'A/B':>6}")
    for path in args.paths:
        a, b = timings(args.a, path, args.requests), timings(args.b, path, args.requests)
        a_mean, b_mean = statistics.fmean(a), statistics.fmean(b)
        a_p95, b_p95 = statistics.quantiles(a, n=20)[18], statistics.quantiles(b, n=20)[18]
        print(f"{path:45} {a_mean:8.2f} {a_p95:8.2f} {b_mean:8.2f} {b_p95:8.2f} {a_mean / b_mean:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
