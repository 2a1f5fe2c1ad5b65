"""What a side table's triggers on the runs table (`--feature search`: the search index's, default; `--feature
changes`: the change log's three) add to a run write of 10 messages, each in its own transaction as AgentOS
commits it, with the triggers enabled and disabled in alternating rounds (same table, same server state), new runs
and rewrites of existing ones. Two writers: `agno` (default) is agno 3.1.10's own PostgresDb.upsert_run of a
RunOutput (bench/agno_run_writer.py, run with the agno venv): the write AgentOS makes after each run; `sql` is the
same upsert as one plain SQL statement, the floor of any writer, where the trigger's share is largest.

Usage: python -m bench.search_trigger_cost [--feature search|changes] [--writer agno|sql] [--dsn DSN]
       [--writes 100] [--rounds 20]
Without --dsn it starts an embedded PostgreSQL of its own. It creates schema `bench_search` there and drops it at
the end. Prints one line per round and the median ratios (with / without) of the median and the p95 write.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

from service.cli import migrate
from service.core.config import load_settings

REPO = Path(__file__).resolve().parents[1]
SCHEMA = "bench_search"
WORDS = ("invoice refund shipping order account password delivery warranty billing subscription upgrade cancel "
         "receipt address payment card bank transfer discount coupon support agent question answer issue ticket "
         "problem solved thanks please help").split()
UPSERT = (f"INSERT INTO {SCHEMA}.agno_runs (run_id, session_id, run_type, agent_id, user_id, status, run_index, "
          "run_data, created_at, updated_at) VALUES (%s, %s, 'agent', 'agent-1', 'u1', 'COMPLETED', %s, %s, %s, %s) "
          "ON CONFLICT (run_id) DO UPDATE SET run_data = EXCLUDED.run_data, status = EXCLUDED.status, "
          "updated_at = EXCLUDED.updated_at")
FEATURES = {  # what migrate installs, and the triggers on the runs table that are switched
    "search": ({"search": True}, ("agno_sessions_svc_search_runs",)),
    "changes": ({"changes": True}, tuple(f"agno_sessions_svc_changes_{e}" for e in ("insert", "update", "delete"))),
}


def run_data(run_id: str, rng: random.Random, at: int) -> str:
    """A completed agent run as agno stores it: a system prompt, then 10 user/assistant messages of some 40-80
    words each, with ids, times and metrics."""
    messages = [{"id": f"{run_id}-sys", "role": "system", "content": "You are a helpful support agent.",
                 "created_at": at}]
    for n in range(10):
        messages.append({
            "id": f"{run_id}-{n}", "role": "user" if n % 2 == 0 else "assistant", "created_at": at + n,
            "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 80))),
            "from_history": False, "stop_after_tool_call": False,
            "metrics": {"input_tokens": 120, "output_tokens": 60, "total_tokens": 180, "duration": 0.8}})
    return json.dumps({"run_id": run_id, "agent_id": "agent-1", "agent_name": "Support", "session_id": "s",
                       "user_id": "u1", "model": "gpt-4o", "model_provider": "OpenAI", "status": "COMPLETED",
                       "created_at": at, "content": messages[-1]["content"], "messages": messages,
                       "metrics": {"input_tokens": 1200, "output_tokens": 600, "total_tokens": 1800}})


def one_round(cur, rng: random.Random, writes: int, sessions: int, label: str, counter: list[int]
              ) -> tuple[float, float]:
    """The median and p95 microseconds of one write over `writes` upserts: two in three new runs, one in three
    rewrites."""
    payloads = []
    for _ in range(writes):
        counter[0] += 1
        run_id = f"r{counter[0]}" if counter[0] % 3 or counter[0] < 10 else f"r{rng.randint(1, counter[0] - 1)}"
        at = 1767225600 + counter[0]
        payloads.append((run_id, f"s{counter[0] % sessions}", counter[0], run_data(run_id, rng, at), at, at))
    times = []
    for payload in payloads:
        started = time.perf_counter()
        cur.execute(UPSERT, payload)  # autocommit: one transaction, one commit per write, as agno's upsert_run
        times.append(time.perf_counter() - started)
    # the median: a shared machine's pauses fall on single writes
    return statistics.median(times) * 1e6, statistics.quantiles(times, n=20)[-1] * 1e6


def sql_rounds(cur, writes: int, rounds: int, sessions: int, triggers: tuple[str, ...]):
    """The plain-SQL writer: ((median, p95) with, (median, p95) without) microseconds per write for each round."""
    rng, counter = random.Random(20), [0]
    one_round(cur, rng, writes, sessions, "warm-up", counter)
    for n in range(rounds):
        times = {}
        for enabled in (n % 2 == 0, n % 2 != 0):  # alternate which goes first
            verb = "ENABLE ALWAYS" if enabled else "DISABLE"
            for name in triggers:
                cur.execute(f"ALTER TABLE {SCHEMA}.agno_runs {verb} TRIGGER {name}")
            times[enabled] = one_round(cur, rng, writes, sessions, str(enabled), counter)
        yield times[True], times[False]


def agno_rounds(dsn: str, writes: int, rounds: int, sessions: int, ref_python: str, triggers: tuple[str, ...]):
    """agno's own writer in the agno venv: ((median, p95) with, (median, p95) without) microseconds per write for
    each round, as it reports."""
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    argv = [ref_python, str(REPO / "bench" / "agno_run_writer.py"), "--url", url, "--schema", SCHEMA,
            "--trigger", ",".join(triggers), "--sessions", str(sessions), "--writes", str(writes),
            "--rounds", str(rounds)]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        for line in proc.stdout:
            result = json.loads(line)
            yield ((result["with_us"], result["with_p95_us"]), (result["without_us"], result["without_p95_us"]))
    if proc.returncode:
        raise SystemExit(f"agno's writer failed ({proc.returncode}): {' '.join(argv)}")


def measure(dsn: str, writer: str, writes: int, rounds: int, ref_python: str, feature: str = "search") -> None:
    """Install agno's tables and the feature in SCHEMA, then alternate rounds with and without its triggers."""
    install, triggers = FEATURES[feature]
    settings = load_settings({"AGNO_PG_DSN": dsn, "AGNO_DB_SCHEMA": SCHEMA})
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    migrate(settings, **install)
    sessions = 200
    cur.execute(f"INSERT INTO {SCHEMA}.agno_sessions (session_id, session_type, agent_id, user_id, created_at) "
                f"SELECT 's' || g, 'agent', 'agent-1', 'u1', 1767225600 FROM generate_series(0, {sessions - 1}) g")
    ratios, p95_ratios = [], []
    try:
        rounds_of = (sql_rounds(cur, writes, rounds, sessions, triggers) if writer == "sql"
                     else agno_rounds(dsn, writes, rounds, sessions, ref_python, triggers))
        for n, ((with_us, with_p95), (without_us, without_p95)) in enumerate(rounds_of, 1):
            ratios.append(with_us / without_us)
            p95_ratios.append(with_p95 / without_p95)
            print(f"round {n}/{rounds} ({feature}, {writer}): median write with triggers {with_us:.0f} µs, without "
                  f"{without_us:.0f} µs, ratio {ratios[-1]:.3f}; p95 {with_p95:.0f} / {without_p95:.0f} µs, ratio "
                  f"{p95_ratios[-1]:.3f}", flush=True)
        median, p95 = statistics.median(ratios), statistics.median(p95_ratios)
        print(f"{feature} triggers, {writer} writer, over {rounds} rounds of {writes} writes: median write ratio "
              f"{median:.3f} (+{(median - 1) * 100:.1f}%), p95 write ratio {p95:.3f} (+{(p95 - 1) * 100:.1f}%)")
    finally:
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.close()


def main() -> None:
    """Parse arguments; start an embedded server when no DSN is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feature", choices=tuple(FEATURES), default="search")
    parser.add_argument("--writer", choices=("agno", "sql"), default="agno")
    parser.add_argument("--dsn")
    parser.add_argument("--ref-python",
                        default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if args.dsn:
        measure(args.dsn, args.writer, args.writes, args.rounds, args.ref_python, args.feature)
        return
    from service.embedded import embedded_server

    with tempfile.TemporaryDirectory(prefix="search-trigger-cost-") as tmp:
        server = embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            measure(server.get_uri(), args.writer, args.writes, args.rounds, args.ref_python, args.feature)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
