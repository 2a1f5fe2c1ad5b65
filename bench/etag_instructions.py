"""What entity tags cost a request without precondition headers, counted in CPU instructions instead of timed: the
service's Python side (Flask, rules, psycopg2, the tag's hashing and header) handling detail and PATCH requests in
process under valgrind, the tree before the `preconditions` extension against the current one. Instruction counts do
not depend on the machine's load, so a difference of 1 % shows where timed rounds on a shared machine swing by 30 %.
PostgreSQL's side is not counted here: `python -m bench.etag_cost` compares the statements themselves.

Usage: python -m bench.etag_instructions [--before REF] [--sessions 2000] [--requests 300] [--warmup 100]
Each tree runs twice under `valgrind --tool=callgrind` (warm-up only, then warm-up plus --requests): the difference
divided by --requests is one request's instructions, start-up and warm-up excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from . import sidebyside
from .etag_requests import BEFORE
from .routes import routes
from .sidebyside import REPO, log
from .tree_before import tree_before

# Runs inside valgrind with the tree under test first on sys.path: an app over the benchmark database, warm-up
# requests, then the measured ones; a request that fails stops it (a count of errors is no measurement).
DRIVER = """
import json, sys
from service.app import create_app
from service.core.config import load_settings
plan = json.loads(sys.argv[1])
app = create_app(load_settings(plan["env"]))
client = app.test_client()
for n in range(plan["count"]):
    path = plan["paths"][n % len(plan["paths"])]
    body = plan["body"].replace("{n}", str(n)) if plan["body"] else None
    answer = client.open(path, method=plan["method"], data=body, content_type="application/json" if body else None)
    if answer.status_code != 200:
        sys.exit(f"{plan['method']} {path}: {answer.status_code} {answer.data[:200]!r}")
"""


def instructions(tree: Path, plan: dict, count: int) -> int:
    """Instructions the driver executed for `count` requests of `plan`, start-up included (callgrind's total)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", DRIVER,
            json.dumps({**plan, "count": count})]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"valgrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(tree: Path, plan: dict, warmup: int, requests: int) -> float:
    """One request's instructions: (warm-up + requests) minus warm-up alone, over requests."""
    return (instructions(tree, plan, warmup + requests) - instructions(tree, plan, warmup)) / requests


def main(argv: list[str] | None = None) -> int:
    """Check out the tree before, count both trees' instructions per request, print the ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sidebyside.add_common_args(ap)
    ap.add_argument("--before", default=BEFORE)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=100)
    ap.set_defaults(sessions=2000)
    args = ap.parse_args(argv)
    chosen = [r for r in routes(args.sessions) if r.name in ("detail", "PATCH")]
    with tree_before(args.before, "agno-bench-etag-ir-") as (before, _tmp), sidebyside.database(args) as (dsn, _pid, _):
        env = sidebyside.service_env(dsn) | {"AGNO_LOG_LEVEL": "WARNING"}
        print("| route | before (instructions/request) | now | now / before |")
        print("|---|---:|---:|---:|")
        for route in chosen:
            plan = {"env": env, "method": route.method, "paths": list(route.paths), "body": route.body}
            counts = {}
            for name, tree in (("before", before), ("now", REPO)):
                log(f"{route.name}: counting {name} under valgrind ({args.warmup} + {args.requests})")
                counts[name] = per_request(tree, plan, args.warmup, args.requests)
            print(f"| {route.name} | {counts['before']:,.0f} | {counts['now']:,.0f} | "
                  f"{counts['now'] / counts['before']:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
