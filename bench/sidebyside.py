"""Side-by-side benchmark: the real AgentOS and agno-session on the same dataset, database and worker count.

Usage: python -m bench [--sessions 20000] [--clients 16,64] [--duration 5] [--workers 1[,2,4]]
                               [--routes list,detail] [--no-indexes] [--no-floor] [--ref-python PATH]
                               [--out reports/bench]
Starts a PostgreSQL (the distribution's when installed, else the embedded one; kept in <out>/pg*-<sessions>,
reloaded only when the dataset changes), loads the deterministic dataset (bench/dataset.py) once, and for
each worker count starts both servers with that many workers and drives every route with identical wrk load,
alternating which server goes first. Per route and client count it reports throughput, p50, p99, the ratio, and
CPU per request of the server and of PostgreSQL (from /proc), plus the machine's other load during the run; a
run disturbed by foreign load above --max-foreign cores is repeated once. The framework floor (/healthz, no
database) is measured like a route; pgbench runs the list variants' and the detail's SQL as the database's own
ceiling. The report (bench/report.py) says per route whether the issue's targets are met and, where
not, what bounds the route. Loopback only; every run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import Server, free_port, launch

from . import dataset as bench_dataset
from . import postgres as bench_postgres
from . import procs as bench_procs
from . import report as bench_report
from .routes import FLOOR, Route, routes, wrk_script

REPO = Path(__file__).resolve().parents[1]
DATASET_VERSION = 1  # bump when bench/dataset.py's rows change: cached databases are reloaded
EXTENSION_DATA_VERSION = 1  # likewise for its long sessions and metadata tiers (bench.dataset.extend)
LIGHT_RUNS_VERSION = 1  # likewise for --light-runs' one small run per session (in the marker only when chosen)


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def create_bench_database(socket_dir: str) -> str:
    """The embedded server's `bench` database (created when missing); its libpq DSN."""
    import psycopg2

    admin = psycopg2.connect(f"postgresql://postgres@/postgres?host={socket_dir}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE bench")
    admin.close()
    return f"postgresql://postgres@/bench?host={socket_dir}"


def postmaster_pid(dsn: str) -> int:
    """The pid of the (local) server behind `dsn`, from its data directory's postmaster.pid."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('data_directory')")
        data_dir = cur.fetchone()[0]
    conn.close()
    return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])


def prepare_database(dsn: str, sessions: int, seed: int, indexes: bool, extension_data: bool = False,
                     light_runs: bool = False) -> None:
    """agno's tables (and this service's indexes) in `dsn`, and the dataset unless the same one is there; with
    `extension_data`, the long sessions and metadata tiers too (added to, or removed from, a loaded dataset without
    reloading it: a 1M dataset takes over an hour to load); with `light_runs`, one small run per session (marked,
    so a light and a full dataset are never taken for each other)."""
    import psycopg2

    args = ["migrate", "--indexes"] if indexes else ["migrate"]
    subprocess.run([sys.executable, "-m", "service.cli", *args], check=True, cwd=REPO, capture_output=True,
                   env={**service_env(dsn), "AGNO_LOG_LEVEL": "WARNING"})
    if not indexes:
        drop_service_indexes(dsn)
    base = {"version": DATASET_VERSION, "sessions": sessions, "seed": seed}
    base |= {"light_runs": LIGHT_RUNS_VERSION} if light_runs else {}
    marker = base | ({"extension_data": EXTENSION_DATA_VERSION} if extension_data else {})
    forget_created(dsn)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS public.bench_meta (marker jsonb)")
        cur.execute("SELECT marker FROM public.bench_meta")
        found = cur.fetchone()
        if found and found[0] == marker:
            log(f"dataset already loaded: {sessions} sessions (seed {seed}){' with extension data' * extension_data}")
        else:
            cur.execute("DELETE FROM public.bench_meta")
            if not found or {k: v for k, v in found[0].items() if k != "extension_data"} != base:
                log(f"loading dataset: {sessions} sessions (seed {seed}){', light runs' * light_runs}")
                bench_dataset.load(dsn, sessions, seed, light=light_runs)
            elif "extension_data" in found[0] and not extension_data:
                log("removing the extension data (long sessions, metadata tiers)")
                bench_dataset.retract(dsn)
            if extension_data:
                log("adding the extension data (long sessions, metadata tiers)")
                bench_dataset.extend(dsn, sessions, seed)
            cur.execute("INSERT INTO public.bench_meta VALUES (%s)", (json.dumps(marker),))
    conn.close()


def forget_created(dsn: str, prefix: str = "bench-new-") -> None:
    """Remove what an earlier run's `create` left (a run stopped before its `delete`), so the dataset is the same;
    with a longer `prefix`, only what one tagged load created."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('ai.agno_sessions') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("DELETE FROM ai.agno_runs WHERE session_id LIKE %s", (prefix + "%",))
            cur.execute("DELETE FROM ai.agno_sessions WHERE session_id LIKE %s", (prefix + "%",))
    conn.close()


def drop_service_indexes(dsn: str) -> None:
    """Remove this service's optional indexes, to measure without them."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'ai' AND indexname LIKE '%\\_svc\\_%'")
        for (name,) in cur.fetchall():
            cur.execute(f'DROP INDEX ai."{name}"')
    conn.close()


def service_env(dsn: str) -> dict[str, str]:
    """The environment agno-session runs with: this database only, nothing inherited from AGNO_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "REF_"))}
    return env | {"AGNO_PG_DSN": dsn}


def start_agentos(dsn: str, workers: int, ref_python: str, logs: Path) -> Server:
    """The real AgentOS (uvicorn) with `workers` worker processes; wait_healthy("/health") before use."""
    port = free_port()
    ref_url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    env = service_env(dsn) | {"REF_DB_URLS": json.dumps([{"url": ref_url}]), "PYTHONPATH": str(REPO)}
    env.pop("AGNO_PG_DSN")
    argv = [ref_python, "-m", "uvicorn", "tests.contract.reference_app:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    return launch("AgentOS", argv, env, port, REPO, logs / "AgentOS.log")


def start_agno_session(dsn: str, workers: int, threads: int, logs: Path, service_tree: Path = REPO) -> Server:
    """agno-session (gunicorn) with `workers` worker processes; wait_healthy("/healthz") before use."""
    port = free_port()
    env = service_env(dsn) | {"AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_SERVICE_PORT": str(port),
                              "AGNO_WORKERS": str(workers), "AGNO_THREADS": str(threads),
                              "AGNO_LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "service.cli", "serve"]
    return launch("agno-session", argv, env, port, service_tree, logs / "agno-session.log")


def start_servers(dsn: str, workers: int, threads: int, ref_python: str, logs: Path,
                  service_tree: Path = REPO) -> tuple[Server, Server]:
    """The real AgentOS (uvicorn) and agno-session (gunicorn), each with `workers` worker processes, answering."""
    a = start_agentos(dsn, workers, ref_python, logs)
    b = start_agno_session(dsn, workers, threads, logs, service_tree)
    a.wait_healthy("/health")
    b.wait_healthy("/healthz")
    return a, b


def wrk_argv(url: str, script: Path, clients: int, duration: float) -> list[str]:
    """One bounded wrk run: one thread, `clients` connections, whole seconds."""
    return ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(script), url]


def wrk_summary(returncode: int, stdout: str, stderr: str) -> dict:
    """The BENCHJSON summary a finished wrk run printed (bench_routes' Lua)."""
    found = re.search(r"^BENCHJSON (.*)$", stdout, re.MULTILINE)
    if returncode or not found:
        raise SystemExit(f"wrk failed ({returncode}):\n{stdout}\n{stderr}")
    return json.loads(found.group(1))


def wrk(url: str, script: str, clients: int, duration: float, workdir: Path) -> dict:
    """One bounded wrk run (one thread, `clients` connections); its BENCHJSON summary."""
    path = workdir / "route.lua"
    path.write_text(script)
    done = subprocess.run(wrk_argv(url, path, clients, duration), capture_output=True, text=True,
                          timeout=duration + 60)
    return wrk_summary(done.returncode, done.stdout, done.stderr)


def measure(server: Server, pg_pid: int, route: Route, clients: int, duration: float, tag: str, reference: bool,
            workdir: Path) -> dict:
    """Load one server with one route; throughput, latency and CPU per request of the server, PostgreSQL and
    everything else on the machine. A server too slow to answer every client once runs again, 3x longer."""
    while True:
        script = wrk_script(route, f"{tag}d{duration:g}", reference)
        s0, p0 = bench_procs.tree_cpu(server.proc.pid), bench_procs.tree_cpu(pg_pid)
        m0, t0, w0 = bench_procs.machine_busy(), time.monotonic(), os.times()
        result = wrk(server.url, script, clients, duration, workdir)
        s1, p1 = bench_procs.tree_cpu(server.proc.pid), bench_procs.tree_cpu(pg_pid)
        m1, t1, w1 = bench_procs.machine_busy(), time.monotonic(), os.times()
        if result["requests"] >= clients or duration >= 60:
            break
        log(f"  {server.name} answered {result['requests']} requests to {clients} clients: running 3x longer")
        duration *= 3
    requests = max(1, result["requests"])
    wrk_cpu = (w1.children_user + w1.children_system) - (w0.children_user + w0.children_system)
    elapsed = t1 - t0
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": result["status_errors"] + result["socket_errors"],
        "requests": result["requests"],
        "seconds": duration,
        "server_cpu_ms": (s1 - s0) * 1000 / requests,
        "pg_cpu_ms": (p1 - p0) * 1000 / requests,
        "server_cores": (s1 - s0) / elapsed,
        "pg_cores": (p1 - p0) / elapsed,
        "foreign_cores": max(0.0, ((m1 - m0) - (s1 - s0) - (p1 - p0) - wrk_cpu) / elapsed),
    }


def quiet_machine(threshold: float, wait: float) -> float:
    """Wait up to `wait` seconds for the machine's load (cores busy) to drop under `threshold`; the last load."""
    deadline = time.monotonic() + wait
    while True:
        m0 = bench_procs.machine_busy()
        time.sleep(1.0)
        busy = bench_procs.machine_busy() - m0
        if busy < threshold or time.monotonic() >= deadline:
            return busy
        log(f"machine busy ({busy:.2f} cores): waiting for it to calm down")


def run_cell(a: Server, b: Server, pg_pid: int, route: Route, clients: int, args: argparse.Namespace, order: int,
             workdir: Path, workers: int = 1) -> dict:
    """Both servers on one route at one client count, in alternating order; a disturbed pair runs again once."""
    for attempt in range(2):
        quiet_machine(args.max_foreign, args.quiet_wait)
        pair = [(a, "a", True), (b, "b", False)]
        if order % 2:
            pair.reverse()
        out = {}
        for server, key, reference in pair:
            tag = f"{key}{clients}w{workers}x{attempt}t{args.nonce}"
            out[key] = measure(server, pg_pid, route, clients, args.duration, tag, reference, workdir)
        foreign = max(out["a"]["foreign_cores"], out["b"]["foreign_cores"])
        if foreign <= args.max_foreign or attempt:
            break
        log(f"  {route.name} @{clients}: foreign load {foreign:.2f} cores, repeating once")
    out["ratio"] = out["b"]["rps"] / out["a"]["rps"] if out["a"]["rps"] else None
    out["p99_ratio"] = out["b"]["p99_ms"] / out["a"]["p99_ms"] if out["a"]["p99_ms"] else None
    return out


def ceiling_queries(dsn: str, chosen: list[Route], service_tree: Path) -> dict[str, str]:
    """The SQL (parameters bound) agno-session runs for each chosen list variant (from the route's first path) and
    for the detail, composed by the served tree's own code in a child process started in that tree, the way the
    server is (not by whatever `service` this process or the virtualenv's editable install would import)."""
    wanted = [{"name": r.name, "path": r.paths[0]} for r in chosen if r.method == "GET" and r is not FLOOR]
    env = {**os.environ, "PYTHONPATH": str(service_tree)}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("ceiling_sql.py"))], cwd=service_tree,
                          env=env, input=json.dumps({"dsn": dsn, "routes": wanted}), capture_output=True, text=True,
                          timeout=120)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return json.loads(done.stdout)


def pgbench_ceiling(dsn: str, chosen: list[Route], duration: float, workdir: Path, service_tree: Path = REPO) -> dict:
    """Transactions per second of the SQL agno-session runs for the chosen list variants and the detail, straight
    from pgbench at 16 clients: what PostgreSQL alone can do on this machine."""
    pgbench = shutil.which("pgbench") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None)
    if not pgbench:
        return {"skipped": "pgbench not found"}
    try:
        queries = ceiling_queries(dsn, chosen, service_tree)
    except Exception as exc:  # the service's query API changed under the benchmark: no ceiling, the run stands
        return {"skipped": f"cannot compose the service's SQL: {exc!r}"}
    out = {}
    for i, (name, text) in enumerate(queries.items()):
        script = workdir / f"ceiling-{i}.sql"
        script.write_text(text + ";\n")
        done = subprocess.run([str(pgbench), "-n", "-f", str(script), "-c", "16", "-j", "1", "-T",
                               str(max(1, round(duration))), dsn],
                              capture_output=True, text=True, timeout=duration + 60)
        found = re.search(r"tps = ([\d.]+)", done.stdout)
        out[name] = float(found.group(1)) if found else f"failed: {done.stderr.strip()[:200]}"
        log(f"  pgbench {name}: {out[name]}")
    return out


def worker_list(text: str) -> list[int]:
    """--workers: one count or a comma list (1,2,4)."""
    counts = [int(w) for w in text.split(",") if w.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts are whole numbers ≥ 1, e.g. 1,2,4")
    return counts


def add_common_args(ap: argparse.ArgumentParser) -> None:
    """The options of the database, the dataset and the servers (python -m bench and bench.soak)."""
    ap.add_argument("--sessions", type=int, default=20_000)
    ap.add_argument("--dsn", default="", help="a local database to use instead of the embedded PostgreSQL (e.g. a "
                    "Debian cluster with pg_trgm, which the embedded server lacks); its agno tables are replaced")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--threads", type=int, default=8, help="agno-session threads per worker")
    ap.add_argument("--indexes", action=argparse.BooleanOptionalAction, default=True,
                    help="run `agno-session migrate --indexes` first (default) or drop those indexes")
    ap.add_argument("--ref-python",
                    default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    ap.add_argument("--out", default=str(REPO / "reports" / "bench"))
    ap.add_argument("--label", default="", help="suffix of the report's file names")
    ap.add_argument("--service-tree", default=str(REPO),
                    help="serve agno-session from another checkout of it (before/after comparisons)")
    ap.add_argument("--nonce", default=f"{int(time.time()) % 1_000_000}", help=argparse.SUPPRESS)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--clients", default="16,64")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of load per server, route and client count")
    ap.add_argument("--workers", type=worker_list, default=[1],
                    help="worker processes per server, or a comma list (1,2,4): the whole run once per count")
    ap.add_argument("--routes", default="", help="comma-separated route names (default: all)")
    ap.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                    help="also measure /healthz (AgentOS: /health), the framework floor the verdicts compare with")
    ap.add_argument("--pgbench", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--max-foreign", type=float, default=0.8, help="cores of other load that mark a run disturbed")
    ap.add_argument("--quiet-wait", type=float, default=5.0, help="seconds to wait for a quiet machine per run")
    return ap.parse_args(argv)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, int, dict]]:
    """The benchmark's database with the dataset loaded (once per size): its DSN, the postmaster's pid and the
    real row counts. The PostgreSQL started here stops on leaving."""
    pg = None
    light = getattr(args, "light_runs", False)  # its own cluster: a full dataset of the same size stays loaded
    try:
        if args.dsn:
            dsn = args.dsn
        else:
            pg = bench_postgres.start(Path(args.out), f"{args.sessions}{'-light' * light}", log)
            dsn = create_bench_database(pg.socket_dir)
        prepare_database(dsn, args.sessions, args.seed, args.indexes, getattr(args, "extension_data", False), light)
        yield dsn, postmaster_pid(dsn), dataset_counts(dsn) | ({"light_runs": True} if light else {})
    finally:
        if pg is not None:
            pg.stop()


def chosen_routes(args: argparse.Namespace) -> list[Route]:
    """The routes asked for (all by default), with the framework floor last unless --no-floor."""
    wanted = {r.strip() for r in args.routes.split(",") if r.strip()}
    known = [*routes(args.sessions), FLOOR]
    unknown = wanted - {r.name for r in known}
    if unknown:
        raise SystemExit(f"unknown routes {sorted(unknown)}; known: {', '.join(r.name for r in known)}")
    chosen = [r for r in known if r.name in wanted] if wanted else known[:-1]
    return chosen + [FLOOR] if args.floor and FLOOR not in chosen else chosen


def run_workers(dsn: str, pg_pid: int, workers: int, chosen: list[Route], clients: list[int],
                args: argparse.Namespace, workdir: Path, first: int, total: int) -> list[dict]:
    """Both servers started with `workers` workers each, every route at every client count; the cells."""
    log(f"starting AgentOS and agno-session ({workers} worker(s) each)")
    a, b = start_servers(dsn, workers, args.threads, args.ref_python, workdir, Path(args.service_tree))
    try:
        for route in chosen:  # warm both up (imports, caches, pools) before anything is measured
            if not route.write:
                for server, ref in ((a, True), (b, False)):
                    wrk(server.url, wrk_script(route, "warm", ref), 4, 1, workdir)
        results = []
        for i, (route, c) in enumerate(((r, c) for c in clients for r in chosen), first):
            cell = run_cell(a, b, pg_pid, route, c, args, i, workdir, workers)
            cell |= {"route": route.name, "clients": c, "workers": workers, "method": route.method,
                     "note": route.note}
            results.append(cell)
            ratio = f"{cell['ratio']:.1f}x" if cell["ratio"] else "n/a"
            log(f"[{i}/{total}] w{workers} {route.name} @{c}: AgentOS {cell['a']['rps']:.0f} req/s, agno-session "
                f"{cell['b']['rps']:.0f} req/s ({ratio}); p99 {cell['a']['p99_ms']:.0f} / {cell['b']['p99_ms']:.0f} ms")
        return results
    finally:
        a.stop()
        b.stop()


def run(args: argparse.Namespace) -> dict:
    """Everything: database, dataset, then per worker count both servers on every route at every client count;
    the results document (one cell per worker count, route and client count)."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if not Path(args.ref_python).exists():
        raise SystemExit(f"reference python {args.ref_python} not found (make contract-test builds .venv-agentos)")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="agno-bench-"))
    chosen = chosen_routes(args)
    clients = [int(c) for c in args.clients.split(",")]
    per_count = len(chosen) * len(clients)
    try:
        with database(args) as (dsn, pg_pid, dataset):
            meta = {"dataset": dataset, "service_tree": args.service_tree,
                    "workers": args.workers, "threads": args.threads, "duration": args.duration,
                    "indexes": args.indexes, "cores": os.cpu_count(),
                    "loadavg": Path("/proc/loadavg").read_text().split()[0],
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
            results = []
            for n, workers in enumerate(args.workers):
                results += run_workers(dsn, pg_pid, workers, chosen, clients, args, workdir, n * per_count + 1,
                                       per_count * len(args.workers))
            if args.pgbench:
                log("pgbench ceiling")
                meta["pgbench"] = pgbench_ceiling(dsn, chosen, args.duration, workdir, Path(args.service_tree))
            return {"meta": meta, "results": results}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def dataset_counts(dsn: str) -> dict:
    """The dataset's real row counts and the runs table's size, read from the database."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM ai.agno_sessions), (SELECT count(*) FROM ai.agno_runs),"
                    " pg_size_pretty(pg_total_relation_size('ai.agno_runs'))")
        sessions, runs, size = cur.fetchone()
    conn.close()
    return {"sessions": sessions, "runs": runs, "runs_table_size": size}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the markdown report, write it and the JSON under --out."""
    args = parse_args(argv)
    report = run(args)
    table = bench_report.markdown(report)
    out = Path(args.out)
    workers = "-".join(str(w) for w in args.workers)
    stem = f"bench-{args.sessions}-w{workers}{'-' + args.label if args.label else ''}"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (out / f"{stem}.md").write_text(table)
    print(table)
    log(f"written {out / stem}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
