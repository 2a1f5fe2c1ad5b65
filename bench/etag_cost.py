"""What the entity tag (extension `preconditions`) adds to the statements of a detail read and a PATCH: the service's
SQL (tag computed in the statement) against the same SQL as it was before the extension (no tag), on sessions with
1, 20 and 200 runs of ~5 kB each, the two alternating call by call on the same server state.

Usage: python -m bench.etag_cost [--dsn DSN] [--reads 300] [--rounds 6] [--runs 1,20,200]
       python -m bench.etag_cost --instructions [--reads 200] [--runs 1,3,20,200]
Without --dsn it starts an embedded PostgreSQL of its own. It creates schema `bench_etag` there and drops it at the
end. Prints one line per round and the median ratio (with tag / without) per route and session size.
--instructions counts instead of timing: the distribution's PostgreSQL, restarted under callgrind
(bench/pg_callgrind.py), runs each statement set on a connection of its own, and a backend's instructions for
(20 + reads) calls minus those for 20 calls, over reads, is one call's; no other work shares the count.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

from bench import pg_callgrind
from bench import postgres as bench_postgres
from bench.search_trigger_cost import run_data
from service.cli import migrate
from service.core.config import DatabaseConfig, load_settings
from service.storage.pool import Database

SCHEMA = "bench_etag"
# The statements before the extension (sql/get_session.sql, sql/update_session.sql's RETURNING without the version).
GET_WITHOUT_TAG = """SELECT s.*,
       COALESCE((SELECT jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id)
                 FROM {runs} r WHERE r.session_id = s.session_id), '[]'::jsonb) AS run_list
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
{lock}"""
UPDATE = """UPDATE {sessions} s SET metadata = %(metadata)s, updated_at = %(now)s
WHERE s.session_id = %(session_id)s RETURNING s.*{version}"""


def statements(db: Database) -> dict[bool, tuple[sql.Composable, sql.Composable, sql.Composable]]:
    """(detail, locked read, update) with the tag (True: the service's own files) and without it (False)."""
    names = db.identifiers
    return {
        True: (db.query("get_session", lock=sql.SQL("")), db.query("get_session", lock=sql.SQL("FOR UPDATE OF s")),
               sql.SQL(UPDATE).format(**names, version=sql.SQL(", s.xmin AS row_version"))),
        False: (sql.SQL(GET_WITHOUT_TAG).format(**names, lock=sql.SQL("")),
                sql.SQL(GET_WITHOUT_TAG).format(**names, lock=sql.SQL("FOR UPDATE OF s")),
                sql.SQL(UPDATE).format(**names, version=sql.SQL(""))),
    }


def interleaved(work: Callable[[bool], None], times: int) -> dict[bool, float]:
    """Median microseconds of one call with and without the tag, the two alternating call by call (which goes first
    alternating too), so load on the machine hits both alike."""
    spent: dict[bool, list[float]] = {True: [], False: []}
    for n in range(times):
        for tag in (n % 2 == 0, n % 2 != 0):
            started = time.perf_counter()
            work(tag)
            spent[tag].append((time.perf_counter() - started) * 1e6)
    return {tag: statistics.median(values) for tag, values in spent.items()}


def load(dsn: str, sizes: list[int]) -> None:
    """Install agno's tables in SCHEMA (afresh) with one session per size: `s<size>`, of `size` runs."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    migrate(load_settings({"AGNO_PG_DSN": dsn, "AGNO_DB_SCHEMA": SCHEMA}))
    rng = random.Random(21)
    for size in sizes:
        cur.execute(f"INSERT INTO {SCHEMA}.agno_sessions (session_id, session_type, agent_id, user_id, created_at) "
                    "VALUES (%s, 'agent', 'agent-1', 'u1', 1767225600)", (f"s{size}",))
        for i in range(size):
            cur.execute(f"INSERT INTO {SCHEMA}.agno_runs (run_id, session_id, run_type, agent_id, user_id, status, "
                        "run_index, run_data, created_at, updated_at) VALUES (%s, %s, 'agent', 'agent-1', 'u1', "
                        "'COMPLETED', %s, %s, %s, %s)",
                        (f"s{size}-r{i}", f"s{size}", i, run_data(f"s{size}-r{i}", rng, 1767225600 + i),
                         1767225600 + i, 1767225600 + i))
    cur.execute(f"VACUUM ANALYZE {SCHEMA}.agno_sessions, {SCHEMA}.agno_runs")
    conn.close()


def route_work(cur: Any, variants: dict, size: int) -> list[tuple[str, Callable[[bool], None]]]:
    """("detail", call) and ("patch", call) on session `s<size>` through `cur`; call(tag) runs the route's
    statements with the tag (True) or without."""
    params = {"session_id": f"s{size}", "user_id": None}

    def detail(tag: bool) -> None:
        cur.execute(variants[tag][0], params)
        cur.fetchall()

    def patch(tag: bool) -> None:  # PATCH: two statements, one transaction
        cur.execute("BEGIN")
        cur.execute(variants[tag][1], params)
        cur.fetchall()
        cur.execute(variants[tag][2], {**params, "metadata": '{"k": 1}', "now": int(time.time())})
        cur.fetchall()
        cur.execute("COMMIT")

    return [("detail", detail), ("patch", patch)]


def database(dsn: str) -> Database:
    """The service's pool over SCHEMA (its query files, composed for these tables)."""
    return Database(DatabaseConfig(db_id="bench", dsn=dsn, schema=SCHEMA), 1, 60)


def measure(dsn: str, reads: int, rounds: int, sizes: list[int]) -> None:
    """Load the sessions, then alternate timed rounds with and without the tag."""
    load(dsn, sizes)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    db = database(dsn)
    variants = statements(db)
    try:
        for size in sizes:
            times = max(20, reads // max(1, size // 10))
            for route, work in route_work(cur, variants, size):
                interleaved(work, times // 4)  # warm-up
                ratios = []
                for n in range(rounds):
                    spent = interleaved(work, times)
                    ratios.append(spent[True] / spent[False])
                    print(f"{route} {size} runs, round {n + 1}: median with tag {spent[True]:.0f} µs, without "
                          f"{spent[False]:.0f} µs, ratio {ratios[-1]:.3f}", flush=True)
                median = statistics.median(ratios)
                print(f"== {route}, {size} runs: median ratio over {rounds} rounds of {times}: {median:.3f} "
                      f"({(median - 1) * 100:+.1f}%)", flush=True)
    finally:
        cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.close()
        db.close()


WARM_CALLS = 20  # calls that fill the backend's caches, in both counts (so they cancel out)


def count(dsn: str, reads: int, sizes: list[int], out: Path) -> None:
    """One call's PostgreSQL instructions per route, session size and variant, each on a fresh backend."""
    db = database(dsn)
    variants = statements(db)
    print("| route | runs | without tag (instructions/call) | with tag | with / without |")
    print("|---|---:|---:|---:|---:|")
    try:
        for size in sizes:
            for index, (route, _) in enumerate(route_work(None, variants, size)):
                spent = {}
                for tag in (False, True):
                    totals = []
                    for calls in (WARM_CALLS, WARM_CALLS + reads):
                        conn = psycopg2.connect(dsn)
                        conn.autocommit = True
                        cur = conn.cursor()
                        cur.execute("SELECT pg_backend_pid()")
                        pid = cur.fetchone()[0]
                        work = route_work(cur, variants, size)[index][1]
                        for _ in range(calls):
                            work(tag)
                        conn.close()
                        totals.append(pg_callgrind.backend_instructions(out, [pid]))
                    spent[tag] = (totals[1] - totals[0]) / reads
                print(f"| {route} | {size} | {spent[False]:,.0f} | {spent[True]:,.0f} | "
                      f"{spent[True] / spent[False]:.4f} |", flush=True)
    finally:
        db.close()


def counted(reads: int, sizes: list[int]) -> None:
    """A cluster of the distribution's server, loaded, then restarted under callgrind for `count`."""
    with tempfile.TemporaryDirectory(prefix="etag-cost-") as tmp:
        cluster = bench_postgres.start(Path(tmp), "etag-cost", lambda m: print(m, flush=True))
        dsn = f"postgresql://postgres@/postgres?host={cluster.socket_dir}"
        try:
            load(dsn, sizes)
        finally:
            cluster.stop()
        with pg_callgrind.counted_server(Path(cluster.socket_dir), dsn) as out:
            count(dsn, reads, sizes, out)


def main() -> None:
    """Parse arguments; start an embedded server when no DSN is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn")
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", default="1,20,200")
    parser.add_argument("--instructions", action="store_true", help="count PostgreSQL's instructions, do not time")
    args = parser.parse_args()
    sizes = [int(n) for n in args.runs.split(",")]
    if args.instructions:
        counted(args.reads, sizes)
        return
    if args.dsn:
        measure(args.dsn, args.reads, args.rounds, sizes)
        return
    from service.embedded import embedded_server

    with tempfile.TemporaryDirectory(prefix="etag-cost-") as tmp:
        server = embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            measure(server.get_uri(), args.reads, args.rounds, sizes)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
