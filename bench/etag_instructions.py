"""What entity tags cost a request without precondition headers, counted in CPU instructions instead of timed, on
both sides of the request: the service's Python side (Flask, rules, psycopg2, the tag's hashing and header) handling
detail and PATCH requests in process under valgrind, and the PostgreSQL backend serving it, also under valgrind; the
tree before the `preconditions` extension against the current one. Instruction counts do not depend on the
machine's load, so a difference of 1 % shows where timed rounds on a shared machine swing by 30 %.

Usage: python -m bench.etag_instructions [--before REF] [--sessions 2000] [--requests 300] [--warmup 100]
Each tree runs twice (warm-up only, then warm-up plus --requests): the difference divided by --requests is one
request's instructions, start-up and warm-up excluded; the trees take turns before, now, now, before and each
side's two counts are averaged. PostgreSQL (the distribution's server, restarted on the
benchmark's cluster under callgrind, autovacuum off) counts each backend when its connection closes; with --dsn
(a server this benchmark does not own) only the service's side is counted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from . import pg_callgrind, sidebyside
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
import psycopg2
probe = psycopg2.connect(plan["env"]["AGNO_PG_DSN"])
with probe.cursor() as cur:  # the backends that served the app: every other client of this database
    cur.execute("SELECT array_agg(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND datname = current_database() AND pid <> pg_backend_pid()")
    print(json.dumps({"backends": cur.fetchone()[0] or []}))
probe.close()
"""


def instructions(tree: Path, plan: dict, count: int, server_out: Path | None) -> tuple[int, int]:
    """Instructions the driver executed for `count` requests of `plan`, start-up included (callgrind's total), and
    those of the PostgreSQL backends that served it (0 without `server_out`, the counted server's directory)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", DRIVER,
            json.dumps({**plan, "count": count})]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or not found:
        raise SystemExit(f"valgrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    backends = json.loads(done.stdout.strip().splitlines()[-1])["backends"]
    served = pg_callgrind.backend_instructions(server_out, backends) if server_out else 0
    return int(found.group(1)), served


def per_request(tree: Path, plan: dict, warmup: int, requests: int, server_out: Path | None) -> tuple[float, float]:
    """One request's instructions, the service's and PostgreSQL's: (warm-up + requests) minus warm-up alone, over
    requests."""
    full = instructions(tree, plan, warmup + requests, server_out)
    warm = instructions(tree, plan, warmup, server_out)
    return (full[0] - warm[0]) / requests, (full[1] - warm[1]) / requests


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
    with tree_before(args.before, "agno-bench-etag-ir-") as (before, _tmp):
        with sidebyside.database(args) as (dsn, _pid, _):  # loads the dataset once; stops its server on leaving
            data = pg_callgrind.data_directory(dsn)
        env = sidebyside.service_env(dsn) | {"AGNO_LOG_LEVEL": "WARNING"}
        trees = {"before": before, "now": REPO}
        if args.dsn:
            log("--dsn: PostgreSQL is not this benchmark's to restart; counting the service's side only")
            with sidebyside.database(args):
                report(chosen, env, trees, args, None)
        else:
            log(f"starting PostgreSQL under callgrind on {data}")
            with pg_callgrind.counted_server(data, dsn) as server_out:
                report(chosen, env, trees, args, server_out)
    return 0


def report(chosen: list, env: dict, trees: dict[str, Path], args: argparse.Namespace, server_out: Path | None
           ) -> None:
    """Count every route on both trees; print one table row per route and side, and their sum."""
    print("| route | side | before (instructions/request) | now | now / before |")
    print("|---|---|---:|---:|---:|")
    for route in chosen:
        plan = {"env": env, "method": route.method, "paths": list(route.paths), "body": route.body}
        counted: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for name in [*trees, *reversed(trees)]:  # ABBA: what one order leaves behind (dead rows, hint bits) evens out
            log(f"{route.name}: counting {name} under valgrind ({args.warmup} + {args.requests})")
            counted[name].append(per_request(trees[name], plan, args.warmup, args.requests, server_out))
        counts = {name: tuple(sum(side) / len(runs) for side in zip(*runs, strict=True))
                  for name, runs in counted.items()}
        sides = [("service", 0)] + ([("PostgreSQL", 1)] if server_out else [])
        rows = [(side, counts["before"][k], counts["now"][k]) for side, k in sides]
        if server_out:
            rows.append(("both", sum(counts["before"]), sum(counts["now"])))
        for side, was, now in rows:
            print(f"| {route.name} | {side} | {was:,.0f} | {now:,.0f} | {now / was:.4f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
