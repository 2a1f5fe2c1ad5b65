"""Ratio regression check (CI): agno-session's throughput over AgentOS's, per route, on a small dataset.

Usage: python -m bench.check [--update] [--rounds 5] [--baseline bench/baseline.json] [python -m bench
options]. Only ratios measured in one run are compared, never absolute times: both servers share the machine's
noise. Each route's ratio is the median of --rounds rounds (each a fresh pair of servers, alternating which goes
first), because a single 2-second run on a shared 2-core machine can swing by a third. A route fails when its
median falls below two thirds of the baseline's; failing routes get another set of rounds first. CPU per request
(server + PostgreSQL) of both is reported beside each ratio, as the steadier view of where a regression sits.

The baseline (bench/baseline.json) is the median of 9 rounds of one tree, measured with `--update --rounds 9`
(with `--service-tree` when it is an older checkout): a baseline from few rounds can sit at the top of the
spread of single rounds (which reach a third on a shared 2-core machine) and put the floor inside the noise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from . import sidebyside

BASELINE = Path(__file__).with_name("baseline.json")
ROUTES = "list,list by user,detail,runs,single run,create,PATCH"
ALLOWED_LOSS = 1 / 3


def measure(extra: list[str], routes: str, rounds: int) -> dict[str, dict]:
    """Each route's median ratio (agno-session / AgentOS) at 16 clients on a 2,000-session dataset, over `rounds`
    rounds, with the CPU-per-request ratio beside it."""
    samples: dict[str, list[tuple[float, float]]] = {}
    for n in range(rounds):
        sidebyside.log(f"ratio check: round {n + 1}/{rounds} ({routes})")
        args = sidebyside.parse_args(["--sessions", "2000", "--clients", "16", "--duration", "2", "--no-pgbench",
                                 "--no-floor", "--quiet-wait", "2", "--routes", routes, "--label", "check",
                                 "--out", str(sidebyside.REPO / "reports" / "bench"), *extra])
        for r in sidebyside.run(args)["results"]:
            if r["ratio"]:
                cost = [r[k]["server_cpu_ms"] + r[k]["pg_cpu_ms"] for k in ("a", "b")]
                samples.setdefault(r["route"], []).append((r["ratio"], cost[0] / cost[1] if cost[1] else 0.0))
    return {route: {"ratio": round(statistics.median(s[0] for s in got), 2),
                    "cpu_ratio": round(statistics.median(s[1] for s in got), 2),
                    "rounds": [round(s[0], 2) for s in got]} for route, got in samples.items()}


def regressions(ratios: dict[str, float], baseline: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Routes whose ratio lost more than a third of the baseline's: route → (measured, baseline)."""
    return {route: (ratios.get(route, 0.0), base) for route, base in baseline.items()
            if ratios.get(route, 0.0) < base * (1 - ALLOWED_LOSS)}


def main(argv: list[str] | None = None) -> int:
    """Measure, compare with the baseline (or write it with --update); exit 1 on a regression."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="write the measured ratios as the new baseline")
    ap.add_argument("--baseline", default=str(BASELINE))
    ap.add_argument("--rounds", type=int, default=5, help="rounds per route; the median ratio counts")
    args, extra = ap.parse_known_args(argv)
    measured = measure(extra, ROUTES, args.rounds)
    ratios = {route: m["ratio"] for route, m in measured.items()}
    if args.update:
        Path(args.baseline).write_text(json.dumps(ratios, indent=2) + "\n")
        print(f"baseline written to {args.baseline}")
        return 0
    baseline = json.loads(Path(args.baseline).read_text())
    failed = regressions(ratios, baseline)
    if failed:
        sidebyside.log(f"re-measuring {', '.join(failed)} before failing")
        again = measure(extra, ",".join(failed), args.rounds)
        for route, m in again.items():
            if m["ratio"] > measured[route]["ratio"]:
                measured[route] = m
        ratios = {route: m["ratio"] for route, m in measured.items()}
        failed = regressions(ratios, baseline)
    print("| route | ratio (median) | rounds | baseline | floor (2/3) | CPU-cost ratio | verdict |")
    print("|---|---:|---|---:|---:|---:|---|")
    for route, base in baseline.items():
        m = measured.get(route, {"ratio": 0.0, "cpu_ratio": 0.0, "rounds": []})
        verdict = "REGRESSION" if route in failed else "ok"
        print(f"| {route} | {m['ratio']:.2f}× | {' '.join(f'{r:.1f}' for r in m['rounds'])} | {base:.2f}× | "
              f"{base * (1 - ALLOWED_LOSS):.2f}× | {m['cpu_ratio']:.2f}× | {verdict} |")
    if failed:
        print(f"{len(failed)} route(s) lost more than a third of their ratio to AgentOS: {', '.join(sorted(failed))}")
    else:
        print(f"ratios within a third of the baseline on every route ({len(baseline)} routes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
