"""A retention sweep at scale: `agno-session retention apply --yes` over N generated sessions (half of them idle for
200 days, two runs each) while writers keep writing the way agno's PostgresDb does (each upsert_session and
upsert_run its own transaction; some on fresh sessions, some on the very sessions the sweep is archiving). Reports
the sweep's rate and peak memory (one figure per size: flat means bounded) and the writers' latency with and without
the sweep: a write's lock wait is part of its latency, so the p99 latency bounds the p99 lock wait from above.

    make bench-retention RETENTION_BENCH_ARGS="--sessions 10000,100000"
Report in reports/bench/retention-<sizes>.md (and .json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2

from bench import postgres as bench_postgres
from bench.report import table
from service.cli import migrate
from service.core.config import load_settings

DAY = 86400
POLICY = """policies:
  - name: idle-archive
    after: 90d
    basis: last_activity
    action: archive
"""
CLI = str(Path(sys.executable).parent / "agno-session")
_GENERATE = """
INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, session_data, agent_data, metadata,
                              created_at, updated_at)
SELECT 's' || lpad(i::text, 8, '0'), 'agent', 'bot-' || (i %% 10), 'u' || (i %% 1000),
       jsonb_build_object('session_name', 'chat ' || i), '{"name": "bot"}', jsonb_build_object('tier', 'free'),
       CASE WHEN i %% 2 = 0 THEN %(old)s - i ELSE %(recent)s - i END,
       CASE WHEN i %% 2 = 0 THEN %(old)s - i ELSE %(recent)s - i END
FROM generate_series(1, %(n)s) i;
INSERT INTO ai.agno_runs (run_id, session_id, run_type, agent_id, user_id, status, run_index, run_data, created_at,
                          updated_at)
SELECT s.session_id || '-r' || k, s.session_id, 'agent', s.agent_id, s.user_id, 'COMPLETED', k,
       jsonb_build_object('run_id', s.session_id || '-r' || k, 'content', repeat('answer ', 40)),
       s.created_at + k, s.created_at + k
FROM ai.agno_sessions s, generate_series(0, 1) k;
"""
_UPSERT_SESSION = """
INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, session_data, agent_data, metadata,
                              created_at, updated_at)
VALUES (%(sid)s, 'agent', 'bot-w', 'writer', '{"session_name": "live"}', '{}', '{}', %(now)s, %(now)s)
ON CONFLICT (session_id) DO UPDATE SET session_data = EXCLUDED.session_data, updated_at = EXCLUDED.updated_at
"""
_UPSERT_RUN = """
INSERT INTO ai.agno_runs (run_id, session_id, run_type, agent_id, user_id, status, run_index, run_data, created_at,
                          updated_at)
VALUES (%(rid)s, %(sid)s, 'agent', 'bot-w', 'writer', 'COMPLETED', 100, '{"content": "live"}', %(now)s, %(now)s)
ON CONFLICT (run_id) DO UPDATE SET run_data = EXCLUDED.run_data, updated_at = EXCLUDED.updated_at
"""


class Writers:
    """Threads writing as agno does, each write its own transaction, timed; `on_old` of them pick random old
    sessions (the ones the sweep archives), the rest fresh ones."""

    def __init__(self, dsn: str, sessions: int, threads: int, on_old: int) -> None:
        self.dsn, self.sessions, self.threads, self.on_old = dsn, sessions, threads, on_old
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        self.latencies, self.failures = [], []
        self._workers = [threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(self.threads)]
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def _write(self, n: int) -> None:
        conn = psycopg2.connect(self.dsn, application_name="bench-writer")
        rng, count = random.Random(n), 0
        try:
            while not self._stop.is_set():
                count += 1
                if n < self.on_old:
                    sid = f"s{rng.randrange(2, self.sessions + 1, 2):08d}"  # an even number: an old session
                else:
                    sid = f"w{n}-{count}"
                now = int(time.time())
                for statement, params in ((_UPSERT_SESSION, {"sid": sid, "now": now}),
                                          (_UPSERT_RUN, {"sid": sid, "rid": f"{sid}-w{n}-{count}", "now": now})):
                    began = time.perf_counter()
                    try:
                        with conn, conn.cursor() as cur:
                            cur.execute(statement, params)
                    except psycopg2.Error as exc:  # a run row of a session archived meanwhile: agno retries too
                        with self._lock:
                            self.failures.append(type(exc).__name__)
                        break
                    with self._lock:
                        self.latencies.append(time.perf_counter() - began)
        finally:
            conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def latency_row(label: str, values: list[float], seconds: float) -> list[object]:
    ms = [v * 1000 for v in values]
    return [label, len(ms), f"{len(ms) / seconds:.0f}", f"{statistics.median(ms):.1f}" if ms else "-",
            f"{percentile(ms, 0.99):.1f}", f"{max(ms):.1f}" if ms else "-"]


def fresh_database(admin_dsn: str, name: str) -> str:
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return admin_dsn.replace("/postgres?", f"/{name}?")


def one_size(admin_dsn: str, sessions: int, args: argparse.Namespace, log) -> dict:
    dsn = fresh_database(admin_dsn, f"retention_{sessions}")
    env = {**os.environ, "AGNO_PG_DSN": dsn, "AGNO_DB_ID": "bench"}
    migrate(load_settings({"AGNO_PG_DSN": dsn}), indexes=True, lifecycle=True)
    now = int(time.time())
    log(f"{sessions} sessions: generating (half idle for 200 days, 2 runs each)")
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(_GENERATE, {"n": sessions, "old": now - 200 * DAY, "recent": now - DAY})
        cur.execute("VACUUM ANALYZE ai.agno_sessions")
        cur.execute("VACUUM ANALYZE ai.agno_runs")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as policy:
        policy.write(POLICY)
    env["AGNO_RETENTION_FILE"] = policy.name
    planned = json.loads(subprocess.run([CLI, "retention", "plan", "--json", "--show", "1"], env=env, check=True,
                                        capture_output=True, text=True).stdout)["policies"][0]
    writers = Writers(dsn, sessions, args.writers, args.writers_on_old)
    log(f"{sessions} sessions: writers alone for {args.baseline:.0f} s")
    writers.start()
    time.sleep(args.baseline)
    writers.stop()
    baseline = list(writers.latencies)
    log(f"{sessions} sessions: sweeping {planned['sessions']} sessions with the writers running")
    writers.start()
    began = time.monotonic()
    with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
        sweep = subprocess.Popen([CLI, "retention", "apply", "--yes", "--batch", str(args.batch)], env=env,
                                 stdout=out_file, stderr=err_file)
        _, status, usage = os.wait4(sweep.pid, 0)  # reaped here: its own rusage, not every child's
        seconds = time.monotonic() - began
        writers.stop()
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"retention apply failed:\n{out}\n{err}")
    during = list(writers.latencies)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ai.agno_sessions_svc_archived_sessions")
        archived = cur.fetchone()[0]
    conn.close()
    os.unlink(policy.name)
    summary = next(line for line in out.splitlines() if "idle-archive" in line)
    return {"sessions": sessions, "planned": planned["sessions"], "archived": archived, "seconds": seconds,
            "rate": archived / seconds, "peak_rss_mb": _peak_rss_mb(usage), "summary": summary,
            "baseline": baseline, "during": during, "baseline_seconds": args.baseline, "writer_failures":
            writers.failures}


def _peak_rss_mb(usage) -> float:
    """Peak resident memory of the sweep's process (Linux reports ru_maxrss in KiB)."""
    return usage.ru_maxrss / 1024


def markdown(results: list[dict], args: argparse.Namespace) -> str:
    lines = ["# Retention sweep benchmark", "",
             f"`make bench-retention` (`--batch {args.batch}`, {args.writers} writer threads, {args.writers_on_old} "
             "of them on the sessions being archived). Peak memory is the sweep process's `ru_maxrss`; the writers' "
             "latency includes any lock wait, so its p99 bounds the p99 lock wait from above. `planned` is counted "
             "before the writers start: the old sessions they write to meanwhile are active again and stay.", "",
             *table(["sessions", "archived (planned)", "sweep s", "sessions/s", "peak RSS MB"],
                    [[r["sessions"], f"{r['archived']} ({r['planned']})", f"{r['seconds']:.1f}", f"{r['rate']:.0f}",
                      f"{r['peak_rss_mb']:.0f}"] for r in results]), ""]
    rows = []
    for r in results:
        rows.append(latency_row(f"{r['sessions']}: writers alone", r["baseline"], r["baseline_seconds"]))
        rows.append(latency_row(f"{r['sessions']}: during the sweep", r["during"], r["seconds"]))
    lines += ["Writes (each upsert its own transaction):", "",
              *table(["phase", "writes", "per s", "p50 ms", "p99 ms", "max ms"], rows), ""]
    for r in results:
        lines.append(f"- {r['sessions']}: `{r['summary']}`; writes refused: {len(r['writer_failures'])}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="10000,100000", help="sizes, comma-separated (each generated afresh)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--writers-on-old", type=int, default=1)
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of writes without a sweep")
    parser.add_argument("--out", default="reports/bench")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(f"[bench-retention] {message}", file=sys.stderr, flush=True)

    cluster = bench_postgres.start(out, "retention", log)
    try:
        admin = f"postgresql://postgres@/postgres?host={cluster.socket_dir}"
        results = [one_size(admin, int(n), args, log) for n in args.sessions.split(",")]
    finally:
        cluster.stop()
    report = markdown(results, args)
    name = f"retention-{args.sessions.replace(',', '-')}"
    (out / f"{name}.md").write_text(report, encoding="utf-8")
    (out / f"{name}.json").write_text(json.dumps([{k: v for k, v in r.items() if k not in ("baseline", "during")}
                                                  for r in results], indent=2), encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
