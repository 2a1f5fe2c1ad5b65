"""What the search index's triggers add to a run write: agno's upsert_run of a 10-message run through plain SQL,
each in its own transaction as AgentOS commits it, with the triggers enabled and disabled in alternating rounds
(same table, same server state), new runs and rewrites of existing ones.

Usage: python -m bench.search_trigger_cost [--dsn DSN] [--writes 300] [--rounds 6]
Without --dsn it starts an embedded PostgreSQL of its own. It creates schema `bench_search` there and drops it at
the end. Prints one line per round and the median ratio (with / without).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import psycopg2

from service.cli import migrate
from service.core.config import load_settings

SCHEMA = "bench_search"
WORDS = ("invoice refund shipping order account password delivery warranty billing subscription upgrade cancel "
         "receipt address payment card bank transfer discount coupon support agent question answer issue ticket "
         "problem solved thanks please help").split()
UPSERT = (f"INSERT INTO {SCHEMA}.agno_runs (run_id, session_id, run_type, agent_id, user_id, status, run_index, "
          "run_data, created_at, updated_at) VALUES (%s, %s, 'agent', 'agent-1', 'u1', 'COMPLETED', %s, %s, %s, %s) "
          "ON CONFLICT (run_id) DO UPDATE SET run_data = EXCLUDED.run_data, status = EXCLUDED.status, "
          "updated_at = EXCLUDED.updated_at")
TRIGGER = "agno_sessions_svc_search_runs"


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


def one_round(cur, rng: random.Random, writes: int, sessions: int, label: str, counter: list[int]) -> float:
    """Microseconds per write over `writes` upserts: two in three new runs, one in three rewrites."""
    payloads = []
    for _ in range(writes):
        counter[0] += 1
        run_id = f"r{counter[0]}" if counter[0] % 3 or counter[0] < 10 else f"r{rng.randint(1, counter[0] - 1)}"
        at = 1767225600 + counter[0]
        payloads.append((run_id, f"s{counter[0] % sessions}", counter[0], run_data(run_id, rng, at), at, at))
    started = time.perf_counter()
    for payload in payloads:
        cur.execute(UPSERT, payload)  # autocommit: one transaction, one commit per write, as agno's upsert_run
    return (time.perf_counter() - started) / writes * 1e6


def measure(dsn: str, writes: int, rounds: int) -> None:
    """Install agno's tables and the search index in SCHEMA, then alternate rounds with and without triggers."""
    settings = load_settings({"AGNO_PG_DSN": dsn, "AGNO_DB_SCHEMA": SCHEMA})
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    migrate(settings, search=True)
    sessions = 200
    cur.execute(f"INSERT INTO {SCHEMA}.agno_sessions (session_id, session_type, agent_id, user_id, created_at) "
                f"SELECT 's' || g, 'agent', 'agent-1', 'u1', 1767225600 FROM generate_series(0, {sessions - 1}) g")
    rng, counter, ratios = random.Random(20), [0], []
    one_round(cur, rng, writes, sessions, "warm-up", counter)
    try:
        for n in range(rounds):
            times = {}
            for enabled in (n % 2 == 0, n % 2 != 0):  # alternate which goes first
                verb = "ENABLE ALWAYS" if enabled else "DISABLE"
                cur.execute(f"ALTER TABLE {SCHEMA}.agno_runs {verb} TRIGGER {TRIGGER}")
                times[enabled] = one_round(cur, rng, writes, sessions, str(enabled), counter)
            ratios.append(times[True] / times[False])
            print(f"round {n + 1}: with triggers {times[True]:.0f} µs/write, without {times[False]:.0f} µs/write, "
                  f"ratio {ratios[-1]:.3f}", flush=True)
        print(f"median ratio over {rounds} rounds of {writes} writes: {statistics.median(ratios):.3f} "
              f"(+{(statistics.median(ratios) - 1) * 100:.1f}%)")
    finally:
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.close()


def main() -> None:
    """Parse arguments; start an embedded server when no DSN is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn")
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    if args.dsn:
        measure(args.dsn, args.writes, args.rounds)
        return
    from service.embedded import embedded_server

    with tempfile.TemporaryDirectory(prefix="search-trigger-cost-") as tmp:
        server = embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            measure(server.get_uri(), args.writes, args.rounds)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
