"""1,000 concurrent SSE subscribers on one `agno-session serve-events` process: its memory (RSS) with them all open,
and commit-to-event latency (a write's commit, as its writer saw it return, to each subscriber reading the event).
Writes are made the way agno's PostgresDb makes them (one upsert per transaction, straight into agno's table), at a
steady rate, while every subscriber stays connected; each subscriber must receive every write exactly once.

    make bench-events EVENTS_BENCH_ARGS="--subscribers 1000 --writes 300 --rate 20"
Report in reports/bench/events-<subscribers>.md (and .json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import aiohttp
import psutil
import psycopg2

from bench import postgres as bench_postgres
from bench.report import table
from bench.retention import fresh_database, percentile
from service.cli import migrate
from service.core.config import load_settings
from tests.support.servers import CLI, free_port, launch

_UPSERT = """
INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, user_id, session_data, agent_data, metadata,
                              created_at, updated_at)
VALUES (%(sid)s, 'agent', 'bench-bot', 'bench-user', '{"session_name": "live"}', '{}', '{}', %(now)s, %(now)s)
ON CONFLICT (session_id) DO UPDATE SET session_data = EXCLUDED.session_data, updated_at = EXCLUDED.updated_at
"""


def write_steadily(dsn: str, writes: int, rate: float, committed: dict[str, float]) -> None:
    """`writes` new sessions at `rate` per second, each its own transaction; `committed[sid]` = when commit returned."""
    conn = psycopg2.connect(dsn, application_name="bench-writer")
    try:
        start = time.monotonic()
        for i in range(writes):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            sid = f"bench-{i:06d}"
            with conn.cursor() as cur:
                cur.execute(_UPSERT, {"sid": sid, "now": int(time.time())})
            conn.commit()
            committed[sid] = time.time()
    finally:
        conn.close()


async def subscribe(session: aiohttp.ClientSession, url: str, wanted: int, seen: list[tuple[str, float]],
                    connected: asyncio.Event, counter: list[int], subscribers: int) -> None:
    """One subscriber: read created sessions until `wanted` arrived, noting when each did."""
    async with session.get(url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status == 200, response.status
        counter[0] += 1
        if counter[0] == subscribers:
            connected.set()
        got = 0
        async for raw in response.content:
            if raw.startswith(b"data: "):
                seen.append((json.loads(raw[6:])["session_id"], time.time()))
                got += 1
                if got >= wanted:
                    return


async def run_subscribers(url: str, subscribers: int, writes: int, start_writing, timeout: float
                          ) -> list[list[tuple[str, float]]]:
    """Every subscriber connected first, then the writes; each subscriber's (session, arrival) list."""
    connector = aiohttp.TCPConnector(limit=0)
    seen: list[list[tuple[str, float]]] = [[] for _ in range(subscribers)]
    connected, counter = asyncio.Event(), [0]
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        tasks = [asyncio.create_task(subscribe(session, url, writes, seen[i], connected, counter, subscribers))
                 for i in range(subscribers)]
        await asyncio.wait_for(connected.wait(), 120)
        start_writing()
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()
    return seen


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="writes per second")
    parser.add_argument("--root", default="reports/bench", help="where the report (and the cluster) go")
    args = parser.parse_args(argv)
    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    cluster = bench_postgres.start(root, "events", log)
    try:
        admin = f"postgresql://postgres@/postgres?host={cluster.socket_dir}"
        dsn = fresh_database(admin, "events_bench")
        migrate(load_settings({"AGNO_PG_DSN": dsn}), changes=True)
        port = free_port()
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AGNO_")}, "AGNO_PG_DSN": dsn,
               "AGNO_DB_ID": "bench"}
        with tempfile.TemporaryDirectory() as tmp:
            server = launch("serve-events", [CLI, "serve-events", "--port", str(port)], env, port, Path.cwd(),
                            Path(tmp) / "events.log")
            try:
                server.wait_healthy("/readyz", timeout=60)
                idle_rss = rss_mb(server.proc.pid)
                committed: dict[str, float] = {}
                writer = threading.Thread(target=write_steadily, args=(dsn, args.writes, args.rate, committed))
                peak = [idle_rss]
                open_rss: list[float] = []

                def sample() -> None:
                    while writer.is_alive() or not open_rss:
                        value = rss_mb(server.proc.pid)
                        peak[0] = max(peak[0], value)
                        if writer.is_alive():
                            open_rss.append(value)
                        time.sleep(0.2)

                def start_writing() -> None:
                    log(f"{args.subscribers} subscribers connected; writing {args.writes} sessions at {args.rate}/s")
                    writer.start()
                    threading.Thread(target=sample, daemon=True).start()

                started = time.monotonic()
                url = f"http://127.0.0.1:{port}/sessions/-/events?events=session.created"
                seen = asyncio.run(run_subscribers(url, args.subscribers, args.writes, start_writing,
                                                   timeout=args.writes / args.rate + 120))
                writer.join()
                seconds = time.monotonic() - started
                metrics = server.request("GET", "/metrics")[2].decode()
            finally:
                server.stop()
    finally:
        cluster.stop()
    latencies = [arrived - committed[sid] for per in seen for sid, arrived in per if sid in committed]
    complete = sum(1 for per in seen if sorted(s for s, _ in per) == sorted(committed))
    duplicates = sum(sum(n - 1 for n in Counter(s for s, _ in per).values()) for per in seen)
    ms = sorted(v * 1000 for v in latencies)
    result = {
        "subscribers": args.subscribers, "writes": args.writes, "rate_per_s": args.rate, "seconds": round(seconds, 1),
        "subscribers_complete": complete, "duplicates": duplicates, "events_delivered": len(latencies),
        "rss_mb_idle": round(idle_rss, 1), "rss_mb_peak": round(peak[0], 1),
        "commit_to_event_ms": {"p50": round(percentile(ms, 0.50), 1), "p95": round(percentile(ms, 0.95), 1),
                               "p99": round(percentile(ms, 0.99), 1), "max": round(ms[-1], 1) if ms else None},
        "poll_failures": sum(float(line.split()[-1]) for line in metrics.splitlines()
                             if line.startswith("agno_session_events_poll_failures_total")),
    }
    name = f"events-{args.subscribers}"
    (root / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lat = result["commit_to_event_ms"]
    rows = [[args.subscribers, args.writes, f"{complete}/{args.subscribers}", duplicates, result["rss_mb_idle"],
             result["rss_mb_peak"], lat["p50"], lat["p95"], lat["p99"], lat["max"]]]
    text = ("# serve-events: fan-out to concurrent SSE subscribers\n\n" + "\n".join(table(
        ["subscribers", "writes", "complete", "duplicates", "RSS idle MB", "RSS peak MB", "p50 ms", "p95 ms",
         "p99 ms", "max ms"], rows)) + "\n")
    (root / f"{name}.md").write_text(text)
    print(text)
    ok = complete == args.subscribers and duplicates == 0 and lat["p95"] <= 1000
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
