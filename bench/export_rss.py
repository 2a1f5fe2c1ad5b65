"""The export's memory stays flat whatever the number of sessions (extension `portability`): `agno-session export`
of N generated sessions (each with two runs of about 1 KiB and a tool result) to /dev/null, its resident memory
sampled every 0.2 s; the report gives the RSS after each tenth of the run, its peak, and the sessions per second.

    python -m bench.export_rss --sessions 1000000     (make bench-export EXPORT_BENCH_ARGS="--sessions 1000000")
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg2

from bench import postgres, sidebyside

ROOT = Path(__file__).resolve().parents[1]
GENERATE = """
INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, session_data, agent_data, metadata,
                              summary, created_at, updated_at)
SELECT format('s%%09s', i), 'agent', 'agent-1', 'u' || (i %% 1000), jsonb_build_object('session_name', 'n' || i),
       CASE WHEN i %% 2 = 0 THEN 'null'::jsonb END, '{"tier": "gold"}', NULL, 1767225600 + i, 1767225600 + i
FROM generate_series(%(first)s, %(last)s) i;
INSERT INTO ai.agno_runs (run_id, session_id, run_type, agent_id, user_id, status, run_index, run_data, created_at)
SELECT format('s%%09s-r%%s', i, k), format('s%%09s', i), 'agent', 'agent-1', 'u' || (i %% 1000), 'COMPLETED', k,
       jsonb_build_object('run_id', format('s%%09s-r%%s', i, k), 'content', repeat('lorem ipsum ', 40),
                          'messages', jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'hello'))),
       1767225600 + i
FROM generate_series(%(first)s, %(last)s) i, generate_series(0, 1) k;
INSERT INTO ai.agno_tool_results
SELECT format('res-%%s', i), 'tool-results', format('r/%%s.txt', i), format('s%%09s', i), format('s%%09s-r0', i),
       'call', 'tool', 'h', 'text', 100, 1, 'preview', 'u' || (i %% 1000), 1, NULL
FROM generate_series(%(first)s, %(last)s) i;
"""
TOOL_RESULTS = """CREATE TABLE IF NOT EXISTS ai.agno_tool_results (
    result_id varchar PRIMARY KEY, namespace varchar NOT NULL, path varchar NOT NULL, session_id varchar NOT NULL,
    run_id varchar NOT NULL, tool_call_id varchar NOT NULL, tool_name varchar NOT NULL, args_hash varchar NOT NULL,
    content_type varchar NOT NULL, size_bytes bigint NOT NULL, line_count bigint NOT NULL, preview text NOT NULL,
    user_id varchar, created_at bigint NOT NULL, expires_at bigint, UNIQUE (namespace, path));
CREATE INDEX IF NOT EXISTS agno_tool_results_session ON ai.agno_tool_results (session_id)"""


def load(dsn: str, sessions: int) -> None:
    """The tables, filled with `sessions` generated sessions unless they hold that many already."""
    env = {**os.environ, "AGNO_PG_DSN": dsn}
    subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=env, check=True, cwd=ROOT,
                   capture_output=True)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(TOOL_RESULTS)
        cur.execute("SELECT count(*) FROM ai.agno_sessions")
        if cur.fetchone()[0] == sessions:
            return
        cur.execute("TRUNCATE ai.agno_sessions, ai.agno_runs, ai.agno_tool_results")
        step = 50_000
        for first in range(1, sessions + 1, step):
            cur.execute(GENERATE, {"first": first, "last": min(first + step - 1, sessions)})
            print(f"loaded {min(first + step - 1, sessions)}/{sessions} sessions", file=sys.stderr, flush=True)
        cur.execute("VACUUM ANALYZE")
    conn.close()


def measure(dsn: str, sessions: int) -> dict:
    """Export everything to /dev/null, sampling the process's RSS."""
    env = {**os.environ, "AGNO_PG_DSN": dsn, "AGNO_LOG_LEVEL": "WARNING"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "export", "--output", os.devnull], env=env,
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    samples: list[tuple[float, int]] = []
    while proc.poll() is None:
        try:
            samples.append((time.monotonic() - started, watched.memory_info().rss))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    summary = proc.stderr.read().strip().splitlines()[-1] if proc.stderr else ""
    elapsed = time.monotonic() - started
    if proc.returncode != 0 or not samples:
        raise SystemExit(f"export failed ({proc.returncode}): {summary}")
    tenths = [max(rss for t, rss in samples if t <= elapsed * k / 10 or t == samples[0][0]) for k in range(1, 11)]
    return {"sessions": sessions, "seconds": round(elapsed, 1), "sessions_per_second": round(sessions / elapsed),
            "rss_mib_by_tenth": [round(r / 2**20, 1) for r in tenths], "rss_peak_mib": round(max(tenths) / 2**20, 1),
            "summary": summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--root", type=Path, default=ROOT / "reports" / "bench")
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    results = []
    for sessions in args.sessions:
        cluster = postgres.start(args.root, f"export-{sessions}", lambda m: print(m, file=sys.stderr))
        try:
            dsn = sidebyside.create_bench_database(cluster.socket_dir)
            load(dsn, sessions)
            results.append(measure(dsn, sessions))
            print(json.dumps(results[-1]), flush=True)
        finally:
            cluster.stop()
    out = args.root / f"export-rss-{'-'.join(map(str, args.sessions))}.json"
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"report: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
