"""The change feed's proof at full size (issue 24, proof 6): 10,000 transactions by agno 3.1.10 itself, by this
service through `agno-session serve`, held open across later commits (injected commit delays) and rolled back, read
at once by a long-polling consumer and an SSE consumer of `agno-session serve-events`, while both consumers' sockets
are cut, the service's and the event process's database connections are terminated and PostgreSQL is restarted;
each consumer's events are compared with the change log and with the tables' final state (0 lost, 0 duplicated),
then the commit-to-event latency of creates made with nothing held open, per transport (p50, p95, max). The
workload is the contract test's (tests/contract/change_feed_load.py), scaled up.

Usage: python -m bench.change_feed [--transactions 10000] [--timed 500] [--every 25] [--restarts 1]
It starts a PostgreSQL it can stop and start, `agno-session serve` (2 workers, 4 threads) and `agno-session
serve-events` of its own; agno runs in the reference venv (AGNO_REFERENCE_PYTHON, default .venv-agentos/bin/python).
Prints progress, then the figures; exits 1 when anything was lost or doubled or p95 passed 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.contract import change_feed_load as load
from tests.contract.change_feed_consumers import Consumer
from tests.contract.change_feed_stack import proof_stack

REPO = Path(__file__).resolve().parents[1]
P95_TARGET = 1.0  # seconds


def measure(args: argparse.Namespace, workdir: Path) -> int:
    """Run the workload; print the comparison and the latency figures; 1 when anything was lost or doubled."""
    rounds = max(1, -(-(args.transactions - args.timed - 1) // 8))  # 8 transactions a round on average
    started = time.monotonic()

    def progress(done: int, total: int, outcome: load.Outcome, consumers: dict[str, Consumer]) -> None:
        if done % max(1, total // 40) == 0 or done == total:
            read = ", ".join(f"{name} {len(c.events)}" for name, c in consumers.items())
            print(f"round {done}/{total} ({time.monotonic() - started:.0f} s): {outcome.transactions} transactions, "
                  f"events read: {read}; faults: {dict(outcome.faults)}", file=sys.stderr, flush=True)
    with proof_stack(workdir, args.ref_python) as stack:
        done, consumers, start = load.run(stack, rounds, args.timed, args.every, args.restarts, progress)
        seconds = time.monotonic() - started
        verdicts = load.verdicts(stack, done, consumers, start)
        logged = len(stack.logged_events(start))
        terminated = stack.terminated
    print(f"transactions: {done.transactions} in {seconds:.0f} s ({rounds} rounds, each with a transaction held open "
          f"across it and one rolled back, then {args.timed} timed creates and the last one); changes logged: "
          f"{logged}")
    print(f"faults: {dict(done.faults)} ({terminated} backends terminated; cuts seen: "
          + ", ".join(f"{name} {c.cuts}" for name, c in consumers.items()) + ")")
    failed = False
    for name, consumer in consumers.items():
        verdict, lags = verdicts[name], load.latencies(done, consumer)
        print(f"{name}: events {len(consumer.events)}, lost {verdict.lost}, duplicated {verdict.duplicated}, "
              f"other problems {len(verdict.problems)}, 503s retried {consumer.refused}"
              + "".join(f"\n  {p}" for p in verdict.problems[:20]))
        p95 = statistics.quantiles(lags, n=20)[-1] if len(lags) >= 20 else max(lags, default=float("inf"))
        if lags:
            print(f"  commit-to-event over {len(lags)} creates: p50 {statistics.median(lags) * 1000:.0f} ms, "
                  f"p95 {p95 * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
        failed |= bool(verdict.lost or verdict.duplicated or verdict.problems) or len(lags) != args.timed
        failed |= p95 > P95_TARGET
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10000)
    parser.add_argument("--timed", type=int, default=500)
    parser.add_argument("--every", type=int, default=25, help="rounds between two faults")
    parser.add_argument("--restarts", type=int, default=1, help="PostgreSQL restarts, spread over the rounds")
    parser.add_argument("--ref-python",
                        default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="change-feed-bench-") as tmp:
        return measure(args, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
