"""The extensions' benchmark (issue 19): agno-session's bounded reads and list extensions beside the real AgentOS
doing the nearest thing it can (its whole detail, its whole /runs, its offset page, its plain list).

Usage: python -m bench.extensions [--sessions 20000] [--groups bounded,lists] [--routes NAME,...] [--clients 16]
                                  [--duration 5] [--reference-timeout 60] [--light-runs]
                                  [python -m bench's database options]
Uses python -m bench's database (kept under <out>/pg*-<sessions>) with the extension data of bench.dataset (long
sessions of 50, 5,000 and 50,000 runs; metadata tiers), added once. Per route (bench.routes.extension_routes):
one probe of agno-session first; a route whose answer does not name its parameter in `Agno-Session-Applied` is
skipped as not built yet, so AgentOS's bytes are never measured as an extension. A deep page is reached by
following the next-page cursors before the load. agno-session is loaded with wrk; AgentOS is probed with one
request bounded by --reference-timeout (no answer: noted, and AgentOS restarted so the abandoned request costs
nothing later), loaded with wrk when one request takes under --slow seconds, else measured by sequential requests
for about twice --duration. The report (bench/extensions_report.py) gives cost per request (server + PostgreSQL
CPU), throughput and latency of both, and the issue's targets as verdicts.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.support.servers import Server

from . import extensions_report, sidebyside
from . import procs as bench_procs
from .routes import Route, extension_routes, wrk_script
from .sidebyside import log


def applied_names(headers: dict[str, str]) -> list[str]:
    """The parameter names of an answer's Agno-Session-Applied header (lower-cased headers)."""
    return [n.strip() for n in headers.get("agno-session-applied", "").split(",") if n.strip()]


def applies(route: Route, headers: dict[str, str]) -> bool:
    """Whether the answer names the route's extension parameter as Agno-Session-Applied does (the metadata filters
    as the one name `metadata.*`)."""
    return route.applies in applied_names(headers)


def with_query(path: str, name: str, value: str) -> str:
    """`path` with query parameter `name` set to `value` (the others kept, in order)."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return f"{parts.path}?{urlencode([*query, (name, value)])}"


def next_page(route: Route, headers: dict[str, str], body: bytes) -> str | None:
    """The next page's path after one answer: from `Link: <…>; rel="next"` or from `meta.next_cursor`."""
    if route.walk_by == "link":
        for part in headers.get("link", "").split(","):
            target, _, params = part.partition(";")
            if 'rel="next"' in params:
                return target.strip().strip("<>")
        return None
    token = json.loads(body).get("meta", {}).get("next_cursor")
    return with_query(route.paths[0], "cursor", token) if token else None


def walk(server: Server, route: Route) -> str:
    """The path of the page `route.walk` hops after paths[0], followed on agno-session before the load."""
    path = route.paths[0]
    started = time.monotonic()
    for hop in range(1, route.walk + 1):
        status, headers, body = server.request("GET", path, timeout=60)
        if status != 200:
            raise RuntimeError(f"{route.name}: page {hop} answered {status}: {body[:200]!r}")
        following = next_page(route, headers, body)
        if following is None:
            raise RuntimeError(f"{route.name}: no next page after page {hop} of the {route.walk + 1} wanted")
        path = following
        if hop % 1000 == 0 or hop == route.walk:
            log(f"  {route.name}: followed {hop}/{route.walk} next-page cursors ({time.monotonic() - started:.0f}s)")
    return path


def probe(server: Server, path: str, timeout: float) -> dict:
    """One request: status, seconds, response bytes and headers, or {"timeout": True}."""
    started = time.monotonic()
    try:
        status, headers, body = server.request("GET", path, timeout=timeout)
    except TimeoutError:
        return {"timeout": True, "seconds": timeout}
    return {"status": status, "seconds": time.monotonic() - started, "bytes": len(body), "headers": headers,
            "body": body}


def sequential(server: Server, pg_pid: int, paths: tuple[str, ...], budget: float, timeout: float) -> dict:
    """Requests one after another for about `budget` seconds (at least one): the measure() figures for a server
    too slow to load with wrk."""
    latencies: list[float] = []
    s0, p0, t0 = bench_procs.tree_cpu(server.proc.pid), bench_procs.tree_cpu(pg_pid), time.monotonic()
    m0, w0 = bench_procs.machine_busy(), os.times()
    while not latencies or time.monotonic() - t0 < budget:
        started = time.monotonic()
        status, _, _ = server.request("GET", paths[len(latencies) % len(paths)], timeout=timeout)
        latencies.append(time.monotonic() - started)
        if status != 200:
            raise RuntimeError(f"{server.name} answered {status} to {paths[0]}")
    s1, p1, elapsed = bench_procs.tree_cpu(server.proc.pid), bench_procs.tree_cpu(pg_pid), time.monotonic() - t0
    m1, w1 = bench_procs.machine_busy(), os.times()
    own = (s1 - s0) + (p1 - p0) + (w1.user + w1.system - w0.user - w0.system)  # this client's too
    n = len(latencies)
    return {"rps": n / elapsed, "p50_ms": statistics.median(latencies) * 1000, "p99_ms": max(latencies) * 1000,
            "errors": 0, "requests": n, "seconds": elapsed, "server_cpu_ms": (s1 - s0) * 1000 / n,
            "pg_cpu_ms": (p1 - p0) * 1000 / n, "server_cores": (s1 - s0) / elapsed, "pg_cores": (p1 - p0) / elapsed,
            "foreign_cores": max(0.0, (m1 - m0 - own) / elapsed)}


class Bench:
    """Both servers on one database, and how to measure one route on each."""

    def __init__(self, dsn: str, pg_pid: int, args: argparse.Namespace, workdir: Path) -> None:
        self.dsn, self.pg_pid, self.args, self.workdir = dsn, pg_pid, args, workdir
        self.a, self.b = sidebyside.start_servers(dsn, args.workers, args.threads, args.ref_python, workdir,
                                                  Path(args.service_tree))

    def stop(self) -> None:
        self.a.stop()
        self.b.stop()

    def restart_agentos(self) -> None:
        """A fresh AgentOS: the old one may still be working on a request the benchmark gave up on (its workers
        are killed by id too: a killed uvicorn master leaves them running)."""
        workers = [pid for pid in bench_procs.worker_pids(self.a.proc.pid) if pid != self.a.proc.pid]
        self.a.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.a = sidebyside.start_agentos(self.dsn, self.args.workers, self.args.ref_python, self.workdir)
        self.a.wait_healthy("/health")

    def loaded(self, server: Server, route: Route, reference: bool) -> dict:
        """wrk at --clients on `route` (one second of warm-up first)."""
        sidebyside.wrk(server.url, wrk_script(route, "warm", reference), 4, 1, self.workdir)
        sidebyside.quiet_machine(self.args.max_foreign, self.args.quiet_wait)
        tag = f"{'a' if reference else 'b'}x{self.args.nonce}"
        return sidebyside.measure(server, self.pg_pid, route, self.args.clients, self.args.duration, tag, reference,
                                  self.workdir)

    def route(self, route: Route) -> dict:
        """One route on both servers: the cell of the report (or why it was skipped)."""
        cell: dict = {"route": route.name, "group": route.group, "note": route.note, "clients": self.args.clients}
        first = probe(self.b, route.paths[0], self.args.reference_timeout)
        if first.get("status") != 200:
            return cell | {"skipped": f"agno-session answered {first.get('status', 'nothing')} to {route.paths[0]}"}
        if route.applies and not applies(route, first["headers"]):
            return cell | {"skipped": f"not built yet: the answer names no `{route.applies}` in Agno-Session-Applied"}
        if route.walk:
            route = dataclasses.replace(route, paths=(walk(self.b, route),))
            cell["path"] = route.paths[0]
            first = probe(self.b, route.paths[0], self.args.reference_timeout)
        cell["bytes"] = {"b": first["bytes"]}
        cell["applied"] = first["headers"].get("agno-session-applied", "")
        cell["b"] = self.loaded(self.b, route, False)
        cell["b_mode"] = f"wrk, {self.args.clients} clients"
        a_paths = route.a_paths or route.paths
        seen = probe(self.a, a_paths[0], self.args.reference_timeout)
        if seen.get("timeout"):
            cell["a_mode"] = f"no answer within {self.args.reference_timeout:.0f} s (not measured)"
            self.restart_agentos()
        elif seen["status"] != 200:
            cell["a_mode"] = f"answered {seen['status']} (not measured)"
        else:
            cell["bytes"]["a"] = seen["bytes"]
            if seen["seconds"] <= self.args.slow:
                cell["a"], cell["a_mode"] = self.loaded(self.a, route, True), f"wrk, {self.args.clients} clients"
            else:
                try:
                    cell["a"] = sequential(self.a, self.pg_pid, a_paths, 2 * self.args.duration,
                                           self.args.reference_timeout)
                except TimeoutError:
                    cell["a_mode"] = f"a request took over {self.args.reference_timeout:.0f} s (not measured)"
                    self.restart_agentos()
                    return cell
                cell["a_mode"] = f"sequential, {cell['a']['requests']} request(s) (one took {seen['seconds']:.1f} s)"
        return cell


def chosen(args: argparse.Namespace) -> list[Route]:
    """The routes of --groups, narrowed to --routes when given."""
    groups = {g.strip() for g in args.groups.split(",") if g.strip()}
    known = [r for r in extension_routes(args.sessions) if r.group in groups]
    wanted = {r.strip() for r in args.routes.split(",") if r.strip()}
    unknown = wanted - {r.name for r in known}
    if unknown:
        raise SystemExit(f"unknown routes {sorted(unknown)}; known: {', '.join(r.name for r in known)}")
    return [r for r in known if r.name in wanted] if wanted else known


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (the database ones are python -m bench's)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sidebyside.add_common_args(ap)
    ap.add_argument("--groups", default="bounded,lists", help="bounded (items 1-2), lists (items 3-5)")
    ap.add_argument("--routes", default="", help="comma-separated route names (default: every route of the groups)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of wrk load per server and route")
    ap.add_argument("--workers", type=int, default=1, help="worker processes per server")
    ap.add_argument("--reference-timeout", type=float, default=60.0,
                    help="seconds AgentOS gets to answer one request before the route is noted as unanswered")
    ap.add_argument("--slow", type=float, default=0.25,
                    help="AgentOS answering one request slower than this is measured sequentially, not with wrk")
    ap.add_argument("--light-runs", action="store_true",
                    help="the dataset's sessions with one small run each (bench.dataset --light-runs): for the list "
                         "routes at 1M sessions, loaded in minutes; the bounded reads use the long sessions anyway")
    ap.add_argument("--max-foreign", type=float, default=0.8, help=argparse.SUPPRESS)
    ap.add_argument("--quiet-wait", type=float, default=5.0, help="seconds to wait for a quiet machine per run")
    args = ap.parse_args(argv)
    args.extension_data = True
    return args


def run(args: argparse.Namespace) -> dict:
    """The database with the extension data, both servers, every chosen route: the results document."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    routes = chosen(args)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="agno-bench-ext-"))
    try:
        with sidebyside.database(args) as (dsn, pg_pid, dataset):
            meta = {"dataset": dataset, "workers": args.workers, "threads": args.threads, "clients": args.clients,
                    "duration": args.duration, "cores": os.cpu_count(),
                    "loadavg": Path("/proc/loadavg").read_text().split()[0],
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "argv": sys.argv[1:]}
            log(f"starting AgentOS and agno-session ({args.workers} worker(s) each)")
            bench = Bench(dsn, pg_pid, args, workdir)
            results = []
            try:
                log("warming agno-session up on every route (the first measured route is not to pay for it)")
                for route in routes:
                    sidebyside.wrk(bench.b.url, wrk_script(route, "warm", False), 4, 1, workdir)
                for i, route in enumerate(routes, 1):
                    log(f"[{i}/{len(routes)}] {route.name}")
                    cell = bench.route(route)
                    results.append(cell)
                    log(f"[{i}/{len(routes)}] {extensions_report.summary_line(cell)}")
            finally:
                bench.stop()
            return {"meta": meta, "results": results}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run, print the markdown report, write it and the JSON under --out."""
    args = parse_args(argv)
    report = run(args)
    text = extensions_report.markdown(report)
    out = Path(args.out)
    stem = f"extensions-{args.sessions}-w{args.workers}{'-' + args.label if args.label else ''}"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (out / f"{stem}.md").write_text(text)
    print(text)
    log(f"written {out / stem}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
