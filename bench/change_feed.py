"""The change feed's proof at full size (issue 24, proof 6): 10,000 transactions by agno 3.1.10 itself, by this
service through `agno-session serve`, held open across later commits (injected commit delays) and rolled back, read
by a long-polling consumer and compared with the tables' final state (0 lost, 0 duplicated), then the
commit-to-event latency of creates made with nothing held open (p50, p95, max). The workload is the contract test's
(tests/contract/change_feed_load.py), scaled up.

Usage: python -m bench.change_feed [--transactions 10000] [--timed 500]
It starts an embedded PostgreSQL and `agno-session serve` (2 workers, 4 threads) of its own; agno runs in the
reference venv (AGNO_REFERENCE_PYTHON, default .venv-agentos/bin/python). Prints progress, then the figures.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from service.cli import migrate
from service.core.config import load_settings
from tests.contract import change_feed_load as load
from tests.contract.agno_client import T0, AgnoWriter
from tests.contract.harness import Database
from tests.contract.tables import Tables
from tests.support.servers import serving

REPO = Path(__file__).resolve().parents[1]


def measure(dsn: str, transactions: int, timed: int, ref_python: str, workdir: Path) -> int:
    """Run the workload; print the comparison and the latency figures; 1 when anything was lost or doubled."""
    database = Database(dsn.replace("postgresql://", "postgresql+psycopg://", 1), Tables())
    agno = AgnoWriter(ref_python, database, workdir / "agno-writer.log")
    try:
        agno("upsert_session", session_id="first", user_id="u1", created_at=T0)  # agno creates its tables
        migrate(load_settings({"AGNO_PG_DSN": dsn}), changes=True, out=io.StringIO())
        rounds = max(1, -(-(transactions - timed) // 8))  # 8 transactions a round on average: at least as many
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if done % max(1, total // 20) == 0 or done == total:
                print(f"round {done}/{total} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        with serving({"AGNO_PG_DSN": dsn}, workers=2, threads=4) as server:
            done, feed = load.run(agno, server, dsn, rounds, timed, progress)
        problems = load.compare(done, feed, dsn)
        seconds = time.monotonic() - started
    finally:
        agno.close()
    lags = load.latencies(done, feed)
    print(f"transactions: {done.transactions} in {seconds:.0f} s ({rounds} rounds with a transaction held open "
          f"across each and one rolled back, then {timed} timed creates); events read: {len(feed.events)}")
    print(f"lost or duplicated: {len(problems)}" + "".join(f"\n  {p}" for p in problems[:20]))
    if lags:
        p95 = statistics.quantiles(lags, n=20)[-1] if len(lags) >= 20 else max(lags)
        print(f"commit-to-event over {len(lags)} creates (long-poll wait={load.WAIT} s): p50 "
              f"{statistics.median(lags) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
    return 1 if problems or len(lags) != timed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10000)
    parser.add_argument("--timed", type=int, default=500)
    parser.add_argument("--ref-python",
                        default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    args = parser.parse_args()
    from service.embedded import embedded_server

    with tempfile.TemporaryDirectory(prefix="change-feed-bench-") as tmp:
        server = embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            return measure(server.get_uri(), args.transactions, args.timed, args.ref_python, Path(tmp))
        finally:
            server.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
