"""What entity tags cost a request that sends no precondition header: agno-session as it was before the
`preconditions` extension and as it is, served side by side on one database and loaded in alternating rounds with
wrk on the detail and PATCH routes; per route, the median ratio (now / before) of the CPU one request costs (the
server's and PostgreSQL's) and of p50 latency.

Usage: python -m bench.etag_requests [--before REF] [--sessions 2000] [--rounds 6] [--duration 3] [--clients 8]
The tree before is checked out from REF (default: the commit before the extension was merged) into a temporary
git worktree; the database is python -m bench's (kept under <out>/pg*-<sessions>).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from . import sidebyside
from .routes import routes
from .sidebyside import log
from .tree_before import tree_before

BEFORE = "3d8ed38^1"  # main just before the merge of the preconditions extension


def per_request_cpu(cell: dict) -> float:
    """Milliseconds of CPU one request cost: the server's and PostgreSQL's."""
    return cell["server_cpu_ms"] + cell["pg_cpu_ms"]


def main(argv: list[str] | None = None) -> int:
    """Check out the tree before, serve both, alternate rounds, print the ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sidebyside.add_common_args(ap)
    ap.add_argument("--before", default=BEFORE)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.set_defaults(sessions=2000)
    args = ap.parse_args(argv)
    chosen = [r for r in routes(args.sessions) if r.name in ("detail", "PATCH")]
    with tree_before(args.before, "agno-bench-etag-") as (before, tmp), sidebyside.database(args) as (dsn, pg_pid, _):
        servers = {"before": sidebyside.start_agno_session(dsn, 1, args.threads, tmp, before),
                   "now": sidebyside.start_agno_session(dsn, 1, args.threads, tmp)}
        try:
            for server in servers.values():
                server.wait_healthy("/healthz")
            run(servers, pg_pid, chosen, args, tmp)
        finally:
            for server in servers.values():
                server.stop()
    return 0


def run(servers: dict, pg_pid: int, chosen: list, args: argparse.Namespace, workdir: Path) -> None:
    """Alternating rounds (which server goes first alternates too); the medians of the per-round ratios."""
    for route in chosen:
        cpu, p50 = [], []
        for n in range(args.rounds):
            cells = {}
            for name in (("before", "now") if n % 2 == 0 else ("now", "before")):
                cells[name] = sidebyside.measure(servers[name], pg_pid, route, args.clients, args.duration,
                                                 f"{name}{n}", False, workdir)
            cpu.append(per_request_cpu(cells["now"]) / per_request_cpu(cells["before"]))
            p50.append(cells["now"]["p50_ms"] / cells["before"]["p50_ms"])
            log(f"{route.name} round {n + 1}/{args.rounds}: CPU per request now/before {cpu[-1]:.3f} "
                f"({per_request_cpu(cells['now']):.3f} / {per_request_cpu(cells['before']):.3f} ms), "
                f"p50 {p50[-1]:.3f}")
        print(f"{route.name}: median ratio now/before over {args.rounds} rounds: CPU per request "
              f"{statistics.median(cpu):.3f}, p50 latency {statistics.median(p50):.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
