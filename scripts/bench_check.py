"""Ratio regression check for CI: agno-session's throughput over AgentOS's, per route, on a small dataset.

Usage: python scripts/bench_check.py [--update] [--baseline scripts/bench_baseline.json] [bench.py options]
Only ratios measured in one run are compared, never absolute times: both servers share the machine's noise.
A route fails when its ratio falls below two thirds of the baseline's; failing routes are measured once more
before the check fails, since a single 3-second run on a shared machine can be disturbed.
Not part of `make test`: it needs wrk, takes about two minutes, and one ratio swings by a third on a loaded
2-core machine, so it runs as `make bench-check` (a CI job on a dedicated runner).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import bench

BASELINE = Path(__file__).with_name("bench_baseline.json")
ROUTES = "list,list by user,detail,runs,single run,create,PATCH"
ALLOWED_LOSS = 1 / 3


def measure(extra: list[str], routes: str) -> dict[str, float]:
    """Each route's ratio (agno-session / AgentOS) at 16 clients on a 2,000-session dataset."""
    args = bench.parse_args(["--sessions", "2000", "--clients", "16", "--duration", "3", "--no-pgbench", "--no-floor",
                             "--quiet-wait", "2", "--routes", routes, "--out", str(bench.REPO / "reports" / "bench"),
                             *extra])
    report = bench.run(args)
    return {r["route"]: round(r["ratio"], 2) for r in report["results"] if r["ratio"]}


def regressions(ratios: dict[str, float], baseline: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Routes whose ratio lost more than a third of the baseline's: route → (measured, baseline)."""
    return {route: (ratios.get(route, 0.0), base) for route, base in baseline.items()
            if ratios.get(route, 0.0) < base * (1 - ALLOWED_LOSS)}


def main(argv: list[str] | None = None) -> int:
    """Measure, compare with the baseline (or write it with --update); exit 1 on a regression."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="write the measured ratios as the new baseline")
    ap.add_argument("--baseline", default=str(BASELINE))
    args, extra = ap.parse_known_args(argv)
    ratios = measure(extra, ROUTES)
    print(json.dumps(ratios, indent=2))
    if args.update:
        Path(args.baseline).write_text(json.dumps(ratios, indent=2) + "\n")
        print(f"baseline written to {args.baseline}")
        return 0
    baseline = json.loads(Path(args.baseline).read_text())
    failed = regressions(ratios, baseline)
    if failed:
        bench.log(f"re-measuring {', '.join(failed)} once before failing")
        again = measure(extra, ",".join(failed))
        failed = regressions({**ratios, **{k: max(v, ratios.get(k, 0.0)) for k, v in again.items()}}, baseline)
    for route, (measured, base) in sorted(failed.items()):
        print(f"REGRESSION {route}: ratio {measured:.2f} < 2/3 of baseline {base:.2f}")
    if not failed:
        print(f"ratios within a third of the baseline on every route ({len(baseline)} routes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
