"""Side-by-side benchmark: the real AgentOS and agno-session on the same dataset, database and worker count.

Usage: python scripts/bench.py [--sessions 20000] [--clients 16,64] [--duration 5] [--workers 1]
                               [--routes list,detail] [--no-indexes] [--ref-python PATH] [--out reports/bench]
Starts a PostgreSQL (the distribution's when installed, else the embedded one; kept in <out>/pg*-<sessions>,
reloaded only when the dataset changes), loads the
deterministic dataset (scripts/bench_dataset.py), starts both servers, and drives every route with identical
wrk load, alternating which server goes first. Per route and client count it reports throughput, p50, p99,
the ratio, and CPU per request of the server and of PostgreSQL (from /proc), plus the machine's other load
during the run; a run disturbed by foreign load above --max-foreign cores is repeated once. pgbench runs the
list and detail SQL as the database's own ceiling. Loopback only; every run is bounded by --duration.
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
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import bench_dataset
import bench_postgres
import bench_procs
from bench_routes import Route, routes, wrk_script

REPO = Path(__file__).resolve().parents[1]
DATASET_VERSION = 1  # bump when bench_dataset's rows change: cached databases are reloaded


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One server process under load."""

    name: str
    url: str
    proc: subprocess.Popen

    def wait_healthy(self, path: str, timeout: float = 120.0) -> None:
        """Poll `path` until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not answer {path} within {timeout:.0f}s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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


def prepare_database(dsn: str, sessions: int, seed: int, indexes: bool) -> None:
    """agno's tables (and this service's indexes) in `dsn`, and the dataset unless the same one is there."""
    import psycopg2

    args = ["migrate", "--indexes"] if indexes else ["migrate"]
    subprocess.run([sys.executable, "-m", "service.cli", *args], check=True, cwd=REPO, capture_output=True,
                   env={**service_env(dsn), "AGNO_LOG_LEVEL": "WARNING"})
    if not indexes:
        drop_service_indexes(dsn)
    marker = {"version": DATASET_VERSION, "sessions": sessions, "seed": seed}
    forget_created(dsn)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS public.bench_meta (marker jsonb)")
        cur.execute("SELECT marker FROM public.bench_meta")
        found = cur.fetchone()
        if found and found[0] == marker:
            log(f"dataset already loaded: {sessions} sessions (seed {seed})")
        else:
            log(f"loading dataset: {sessions} sessions (seed {seed})")
            cur.execute("DELETE FROM public.bench_meta")
            bench_dataset.load(dsn, sessions, seed)
            cur.execute("INSERT INTO public.bench_meta VALUES (%s)", (json.dumps(marker),))
    conn.close()


def forget_created(dsn: str) -> None:
    """Remove what an earlier run's `create` left (a run stopped before its `delete`), so the dataset is the same."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('ai.agno_sessions') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute("DELETE FROM ai.agno_runs WHERE session_id LIKE 'bench-new-%'")
            cur.execute("DELETE FROM ai.agno_sessions WHERE session_id LIKE 'bench-new-%'")
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


def start_servers(dsn: str, workers: int, threads: int, ref_python: str, logs: Path,
                  service_tree: Path = REPO) -> tuple[Server, Server]:
    """The real AgentOS (uvicorn) and agno-session (gunicorn), each with `workers` worker processes."""
    a_port, b_port = free_port(), free_port()
    ref_url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    a_env = service_env(dsn) | {"REF_DB_URLS": json.dumps([{"url": ref_url}]), "PYTHONPATH": str(REPO)}
    a_env.pop("AGNO_PG_DSN")
    a_argv = [ref_python, "-m", "uvicorn", "tests.contract.reference_app:app", "--host", "127.0.0.1",
              "--port", str(a_port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    b_env = service_env(dsn) | {"AGNO_SERVICE_HOST": "127.0.0.1", "AGNO_SERVICE_PORT": str(b_port),
                                "AGNO_WORKERS": str(workers), "AGNO_THREADS": str(threads),
                                "AGNO_LOG_LEVEL": "WARNING"}
    b_argv = [sys.executable, "-m", "service.cli", "serve"]
    with (logs / "agentos.log").open("wb") as a_log, (logs / "agno-session.log").open("wb") as b_log:
        a = Server("AgentOS", f"http://127.0.0.1:{a_port}",
                   subprocess.Popen(a_argv, cwd=REPO, env=a_env, stdout=a_log, stderr=subprocess.STDOUT))
        b = Server("agno-session", f"http://127.0.0.1:{b_port}",
                   subprocess.Popen(b_argv, cwd=service_tree, env=b_env, stdout=b_log, stderr=subprocess.STDOUT))
    a.wait_healthy("/health")
    b.wait_healthy("/healthz")
    return a, b


def wrk(url: str, script: str, clients: int, duration: float, workdir: Path) -> dict:
    """One bounded wrk run (one thread, `clients` connections); its BENCHJSON summary."""
    path = workdir / "route.lua"
    path.write_text(script)
    argv = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(path), url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    found = re.search(r"^BENCHJSON (.*)$", done.stdout, re.MULTILINE)
    if done.returncode or not found:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(found.group(1))


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
             workdir: Path) -> dict:
    """Both servers on one route at one client count, in alternating order; a disturbed pair runs again once."""
    for attempt in range(2):
        quiet_machine(args.max_foreign, args.quiet_wait)
        pair = [(a, "a", True), (b, "b", False)]
        if order % 2:
            pair.reverse()
        out = {}
        for server, key, reference in pair:
            tag = f"{key}{clients}x{attempt}t{args.nonce}"
            out[key] = measure(server, pg_pid, route, clients, args.duration, tag, reference, workdir)
        foreign = max(out["a"]["foreign_cores"], out["b"]["foreign_cores"])
        if foreign <= args.max_foreign or attempt:
            break
        log(f"  {route.name} @{clients}: foreign load {foreign:.2f} cores, repeating once")
    out["ratio"] = out["b"]["rps"] / out["a"]["rps"] if out["a"]["rps"] else None
    out["p99_ratio"] = out["b"]["p99_ms"] / out["a"]["p99_ms"] if out["a"]["p99_ms"] else None
    return out


def pgbench_ceiling(dsn: str, sessions: int, duration: float, workdir: Path) -> dict:
    """Transactions per second of the list and detail SQL agno-session runs, straight from pgbench at 16
    clients: what PostgreSQL alone can do on this machine."""
    import psycopg2

    from service.config import DatabaseConfig
    from service.storage.pool import Database
    from service.storage.sessions import order_clause

    pgbench = shutil.which("pgbench") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None)
    if not pgbench:
        return {"skipped": "pgbench not found"}
    db = Database(DatabaseConfig(db_id="bench", dsn=dsn), 1, 30)
    detail_id = routes(sessions)[4].paths[0].rsplit("/", 1)[1]
    queries = {
        "list": (db.query("list_sessions", order_by=order_clause("created_at", "desc")),
                 {"session_type": None, "component_id": None, "user_id": None, "session_name": None, "limit": 20,
                  "offset": 0}),
        "detail": (db.query("get_session", lock=psycopg2.sql.SQL("")), {"session_id": detail_id, "user_id": None}),
    }
    conn = psycopg2.connect(dsn)
    out = {}
    for name, (query, params) in queries.items():
        with conn.cursor() as cur:
            text = cur.mogrify(query, params).decode()
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
        script = workdir / f"{name}.sql"
        script.write_text("\n".join(lines) + ";\n")
        done = subprocess.run([str(pgbench), "-n", "-f", str(script), "-c", "16", "-j", "1", "-T",
                               str(max(1, round(duration))), dsn],
                              capture_output=True, text=True, timeout=duration + 60)
        found = re.search(r"tps = ([\d.]+)", done.stdout)
        out[name] = float(found.group(1)) if found else f"failed: {done.stderr.strip()[:200]}"
    conn.close()
    return out


def markdown(results: list[dict], meta: dict) -> str:
    """The side-by-side table."""
    lines = [
        f"Dataset: {meta['dataset']['sessions']} sessions / {meta['dataset']['runs']} runs; workers: {meta['workers']}"
        f" each (agno-session threads: {meta['threads']}); wrk {meta['duration']}s per run; indexes: "
        f"{meta['indexes']}; machine: {meta['cores']} cores, load avg at start {meta['loadavg']}.",
        "",
        "| route | clients | AgentOS req/s | agno-session req/s | ratio | p50 A / B ms | p99 A / B ms | "
        "server CPU ms/req A / B | PG CPU ms/req A / B | foreign load (cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        a, b = r["a"], r["b"]
        ratio = f"{r['ratio']:.1f}×" if r["ratio"] else "n/a"
        errors = f" ⚠ errors A {a['errors']} / B {b['errors']}" if a["errors"] or b["errors"] else ""
        lines.append(
            f"| {r['route']}{errors} | {r['clients']} | {a['rps']:.0f} | {b['rps']:.0f} | {ratio} | "
            f"{a['p50_ms']:.1f} / {b['p50_ms']:.1f} | {a['p99_ms']:.1f} / {b['p99_ms']:.1f} | "
            f"{a['server_cpu_ms']:.2f} / {b['server_cpu_ms']:.2f} | {a['pg_cpu_ms']:.2f} / {b['pg_cpu_ms']:.2f} | "
            f"{max(a['foreign_cores'], b['foreign_cores']):.2f} |")
    if meta.get("pgbench"):
        lines += ["", f"pgbench ceiling (same SQL, 16 clients, tps): {json.dumps(meta['pgbench'])}"]
    notes = sorted({f"{r['route']}: {r['note']}" for r in results if r.get("note")})
    lines += [""] + [f"- {n}" for n in notes] if notes else []
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=20_000)
    ap.add_argument("--dsn", default="", help="a local database to use instead of the embedded PostgreSQL (e.g. a "
                    "Debian cluster with pg_trgm, which the embedded server lacks); its agno tables are replaced")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--clients", default="16,64")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds of load per server, route and client count")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--threads", type=int, default=8, help="agno-session threads per worker")
    ap.add_argument("--routes", default="", help="comma-separated route names (default: all)")
    ap.add_argument("--indexes", action=argparse.BooleanOptionalAction, default=True,
                    help="run `agno-session migrate --indexes` first (default) or drop those indexes")
    ap.add_argument("--pgbench", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--ref-python",
                    default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    ap.add_argument("--out", default=str(REPO / "reports" / "bench"))
    ap.add_argument("--label", default="", help="suffix of the report's file names")
    ap.add_argument("--service-tree", default=str(REPO),
                    help="serve agno-session from another checkout of it (before/after comparisons)")
    ap.add_argument("--nonce", default=f"{int(time.time()) % 1_000_000}", help=argparse.SUPPRESS)
    ap.add_argument("--max-foreign", type=float, default=0.8, help="cores of other load that mark a run disturbed")
    ap.add_argument("--quiet-wait", type=float, default=5.0, help="seconds to wait for a quiet machine per run")
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    """Everything: database, dataset, servers, every route at every client count; the results document."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if not Path(args.ref_python).exists():
        raise SystemExit(f"reference python {args.ref_python} not found (make contract-test builds .venv-agentos)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="agno-bench-"))
    pg = None
    servers: list[Server] = []
    try:
        if args.dsn:
            dsn = args.dsn
        else:
            pg = bench_postgres.start(out, str(args.sessions), log)
            dsn = create_bench_database(pg.socket_dir)
        pg_pid = postmaster_pid(dsn)
        prepare_database(dsn, args.sessions, args.seed, args.indexes)
        dataset = dataset_counts(dsn)
        log(f"starting AgentOS and agno-session ({args.workers} worker(s) each)")
        a, b = start_servers(dsn, args.workers, args.threads, args.ref_python, workdir,
                             Path(args.service_tree))
        servers += [a, b]
        wanted = {r.strip() for r in args.routes.split(",") if r.strip()}
        chosen = [r for r in routes(args.sessions) if not wanted or r.name in wanted]
        clients = [int(c) for c in args.clients.split(",")]
        for route in chosen:  # warm both up (imports, caches, pools) before anything is measured
            if not route.write:
                for server, ref in ((a, True), (b, False)):
                    wrk(server.url, wrk_script(route, "warm", ref), 4, 1, workdir)
        results = []
        total = len(chosen) * len(clients)
        for i, (route, c) in enumerate(((r, c) for c in clients for r in chosen), 1):
            cell = run_cell(a, b, pg_pid, route, c, args, i, workdir)
            cell |= {"route": route.name, "clients": c, "method": route.method, "note": route.note}
            results.append(cell)
            ratio = f"{cell['ratio']:.1f}x" if cell["ratio"] else "n/a"
            log(f"[{i}/{total}] {route.name} @{c}: AgentOS {cell['a']['rps']:.0f} req/s, agno-session "
                f"{cell['b']['rps']:.0f} req/s ({ratio}); p99 {cell['a']['p99_ms']:.0f} / {cell['b']['p99_ms']:.0f} ms")
        meta = {"dataset": dataset, "service_tree": args.service_tree,
                "workers": args.workers, "threads": args.threads, "duration": args.duration,
                "indexes": args.indexes, "cores": os.cpu_count(),
                "loadavg": Path("/proc/loadavg").read_text().split()[0],
                "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        if args.pgbench:
            log("pgbench ceiling")
            meta["pgbench"] = pgbench_ceiling(dsn, args.sessions, args.duration, workdir)
        return {"meta": meta, "results": results}
    finally:
        for server in servers:
            server.stop()
        if pg is not None:
            pg.stop()
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
    """Run the benchmark, print the markdown table, write it and the JSON under --out."""
    args = parse_args(argv)
    report = run(args)
    table = markdown(report["results"], report["meta"])
    out = Path(args.out)
    stem = f"bench-{args.sessions}-w{args.workers}{'-' + args.label if args.label else ''}"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (out / f"{stem}.md").write_text(table)
    print(table)
    log(f"written {out / stem}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
