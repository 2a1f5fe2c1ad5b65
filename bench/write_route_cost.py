"""What the change log's triggers (`migrate --changes`) add to AgentOS's own writes end to end, and what the legal
hold guard (`migrate --lifecycle`) adds to this service's deletes: the real AgentOS (agno 3.1.10, uvicorn, 1 worker)
and `agno-session serve` (1 worker, 4 threads) over one PostgreSQL, each write timed over HTTP on a kept-alive
loopback connection, one request at a time, in rounds that alternate with and without (which goes first alternates
too), so the shared machine's noise falls on both alike; ratios, never absolute times, are the result.

Part 1, the change triggers (enabled / disabled on agno's sessions and runs tables, all six): AgentOS's session write
routes (create, rename, PATCH, delete one, bulk delete of 5) and agno's own `upsert_session` (what the runtime writes
after every run) and a whole run's write (`upsert_run` then `upsert_session`), called directly in the agno venv
(bench/agno_session_timer.py). Part 2, the hold guard (the holds table present / renamed away, which is how the
service's delete knows lifecycle is installed; the change triggers disabled): this service's DELETE /sessions/{id}
and bulk DELETE. Sessions deleted, renamed and patched carry runs (agno's stored shape, ~5 kB each).

Usage: python -m bench.write_route_cost [--rounds 80] [--requests 10] [--part changes,holds] [--null]
                                        [--ref-python PATH]
Starts an embedded PostgreSQL of its own (deleted at the end). Prints progress on stderr and a Markdown table per
part on stdout: per route, the median and p95 latency with and without over all rounds and their ratios, and the
median (and quartiles) over rounds of each round's ratio of medians. Short batches in many rounds balance the
machine's load bursts best. `--null` switches nothing (both settings identical): the ratios it prints are the
method's noise floor on this machine.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from service.cli import migrate
from service.core.config import DEFAULT_SCHEMA, load_settings
from service.storage.counts import derived_name

from .search_trigger_cost import FEATURES, run_data
from .sidebyside import start_agentos, start_agno_session

REPO = Path(__file__).resolve().parents[1]
SCHEMA = DEFAULT_SCHEMA  # AgentOS's reference app uses agno's default schema
SESSIONS, RUNS = f"{SCHEMA}.agno_sessions", f"{SCHEMA}.agno_runs"
TRIGGERS = FEATURES["changes"][1]  # the same three names on both tables
HOLDS = derived_name("agno_sessions", "holds")
CHANGES = derived_name("agno_sessions", "changes")
BULK = 5  # sessions per bulk delete
RUNS_PER_SESSION = 2
T0 = 1767225600
NULL_NOTE = " -- null run: nothing switched, the noise floor"
STATS_FLUSH = 12  # seconds: a backend reports its table statistics within 10 s of going idle


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[write-cost {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Http:
    """One kept-alive loopback connection; each request timed from sending to the last byte of the answer."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def __call__(self, method: str, path: str, body: object, expect: int) -> float:
        """Seconds one request took; a status other than `expect` stops the benchmark."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
        if response.status != expect:
            raise SystemExit(f"{method} {path} answered {response.status}, not {expect}: {answer[:300]!r}")
        return elapsed


class AgnoTimer:
    """bench/agno_session_timer.py in the agno venv: agno's own session writes, timed there, on command."""

    def __init__(self, ref_python: str, dsn: str, logfile: Path) -> None:
        url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
        self._log = logfile.open("w", encoding="utf-8")
        self.proc = subprocess.Popen([ref_python, str(REPO / "bench" / "agno_session_timer.py"), "--url", url,
                                      "--schema", SCHEMA], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True)

    def __call__(self, call: str, count: int) -> list[float]:
        """Seconds of each of `count` calls."""
        self.proc.stdin.write(json.dumps({"call": call, "count": count}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"agno_session_timer.py exited ({self.proc.wait()}); see {self._log.name}")
        return [us / 1e6 for us in json.loads(line)["us"]]

    def close(self) -> None:
        """End of input: the timer exits."""
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self._log.close()


@dataclass
class Route:
    """One write, timed `count` times in a batch; `sessions` live sessions with runs it consumes per request."""

    name: str
    batch: Callable[[list[str], int], list[float]]
    consumes: int = 0


@dataclass
class Samples:
    """Every latency of one route, by whether the feature was on, and each round's ratio of medians (paired: both
    settings' batches of that round ran within seconds of each other)."""

    on: list[float] = field(default_factory=list)
    off: list[float] = field(default_factory=list)
    round_ratios: list[float] = field(default_factory=list)


def p95(values: list[float]) -> float:
    """The 95th percentile (exclusive method, as the other benchmarks)."""
    return statistics.quantiles(values, n=20)[-1]


class Seeder:
    """Sessions with runs written in plain SQL, outside the clock: the ones a batch renames, patches or deletes."""

    def __init__(self, cur) -> None:
        self.cur, self.made = cur, 0
        rng = random.Random(7)
        self.run_payloads = [run_data(f"seed-{n}", rng, T0) for n in range(8)]

    def sessions(self, count: int, prefix: str) -> list[str]:
        """`count` new agent sessions of user u1, each with RUNS_PER_SESSION runs; their ids."""
        ids = [f"{prefix}-{self.made + n}" for n in range(count)]
        self.made += count
        data = json.dumps({"session_name": "Seeded", "session_state": {"step": 1},
                           "session_metrics": {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}})
        agent = json.dumps({"name": "Basic Agent", "agent_id": "basic-agent"})
        self.cur.execute(
            f"INSERT INTO {SESSIONS} (session_id, session_type, agent_id, user_id, session_data, agent_data, "
            "metadata, created_at, updated_at) SELECT id, 'agent', 'basic-agent', 'u1', %s, %s, '{}', %s, %s "
            "FROM unnest(%s::text[]) id", (data, agent, T0, T0, ids))
        runs = [(f"{sid}-r{k}", sid, k, self.run_payloads[(n + k) % len(self.run_payloads)])
                for n, sid in enumerate(ids) for k in range(RUNS_PER_SESSION)]
        self.cur.execute(
            f"INSERT INTO {RUNS} (run_id, session_id, run_type, agent_id, user_id, status, run_index, run_data, "
            "created_at, updated_at) SELECT r.run_id, r.session_id, 'agent', 'basic-agent', 'u1', 'COMPLETED', "
            "r.idx, r.data::json, %s, %s FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[]) "
            "AS r(run_id, session_id, idx, data)",
            (T0, T0, [r[0] for r in runs], [r[1] for r in runs], [r[2] for r in runs], [r[3] for r in runs]))
        return ids


def agentos_routes(http: Http, pool: list[str], agno: AgnoTimer) -> list[Route]:
    """AgentOS's session writes (contract §5.2, 5.7-5.10) and agno's own session writes."""
    counter = iter(range(10**9))
    rng = random.Random(11)

    def requests(method: str, path_of: Callable[[str, int], str], body_of: Callable[[list[str], int], object],
                 expect: int, per: int = 1) -> Callable[[list[str], int], list[float]]:
        def batch(ids: list[str], count: int) -> list[float]:
            times = []
            for n in range(count):
                mine, k = ids[n * per:(n + 1) * per], next(counter)
                target = mine[0] if mine else rng.choice(pool)
                times.append(http(method, path_of(target, k), body_of(mine, k), expect))
            return times
        return batch

    return [
        Route("POST /sessions (create)", requests(
            "POST", lambda _, k: "/sessions?type=agent",
            lambda _, k: {"session_id": f"created-{k}", "session_name": "New chat", "session_state": {"step": 0},
                          "user_id": "u1", "agent_id": "basic-agent", "metadata": {"channel": "web"}}, 201)),
        Route("POST /sessions/{id}/rename", requests(
            "POST", lambda sid, k: f"/sessions/{sid}/rename?type=agent",
            lambda _, k: {"session_name": f"Renamed {k}"}, 200)),
        Route("PATCH /sessions/{id}", requests(
            "PATCH", lambda sid, k: f"/sessions/{sid}?type=agent",
            lambda _, k: {"session_state": {"step": k}, "metadata": {"channel": "web", "n": k}}, 200)),
        Route("DELETE /sessions/{id}", requests(
            "DELETE", lambda sid, k: f"/sessions/{sid}", lambda _, k: None, 204), consumes=1),
        Route(f"DELETE /sessions (bulk, {BULK})", requests(
            "DELETE", lambda _, k: "/sessions", lambda ids, k: {"session_ids": ids, "session_types": ["agent"] * BULK},
            204, per=BULK), consumes=BULK),
        Route("agno upsert_session", lambda _, count: agno("upsert_session", count)),
        Route("agno run write (upsert_run + upsert_session)", lambda _, count: agno("after_run", count)),
    ]


def service_routes(http: Http) -> list[Route]:
    """This service's deletes, the ones the hold guard adds a statement to."""
    def batch(per: int) -> Callable[[list[str], int], list[float]]:
        def run(ids: list[str], count: int) -> list[float]:
            times = []
            for n in range(count):
                mine = ids[n * per:(n + 1) * per]
                if per == 1:
                    times.append(http("DELETE", f"/sessions/{mine[0]}", None, 204))
                else:
                    times.append(http("DELETE", "/sessions", {"session_ids": mine, "session_types": ["agent"] * per},
                                      204))
            return times
        return run

    return [Route("DELETE /sessions/{id}", batch(1), consumes=1),
            Route(f"DELETE /sessions (bulk, {BULK})", batch(BULK), consumes=BULK)]


def switch_triggers(cur, enabled: bool) -> None:
    """The change log's six triggers on (ENABLE ALWAYS, as migrate leaves them) or off."""
    verb = "ENABLE ALWAYS" if enabled else "DISABLE"
    for table in (SESSIONS, RUNS):
        cur.execute(f"ALTER TABLE {table} " + ", ".join(f"{verb} TRIGGER {name}" for name in TRIGGERS))


def switch_holds(cur, present: bool) -> None:
    """The holds table under its own name (lifecycle installed, as the delete sees it) or renamed away."""
    cur.execute(f"SELECT to_regclass('{SCHEMA}.{HOLDS}') IS NOT NULL")
    if cur.fetchone()[0] != present:
        old, new = (f"{HOLDS}_bench_off", HOLDS) if present else (HOLDS, f"{HOLDS}_bench_off")
        cur.execute(f"ALTER TABLE {SCHEMA}.{old} RENAME TO {new}")


def alternate(routes: list[Route], switch: Callable[[bool], None], seeder: Seeder, rounds: int, count: int,
              label: str, witness: Callable[[], int]) -> dict[str, Samples]:
    """`rounds` rounds, each timing every route `count` times with the feature on and off (order alternating); one
    untimed request per route after each switch (a plan replanned after ALTER TABLE is not the feature's cost).
    `witness` counts what the feature leaves behind: what it grew by, on and off, is logged as proof of the switch
    (a witness of 0 when there is none to read at once)."""
    results = {route.name: Samples() for route in routes}
    grew = {True: 0, False: 0}
    for n in range(rounds):
        started = time.monotonic()
        for enabled in (n % 2 == 0, n % 2 != 0):
            switch(enabled)
            before = witness()
            for route in routes:
                ids = seeder.sessions(route.consumes * (count + 1), f"{label}{n}") if route.consumes else []
                route.batch(ids[:route.consumes], 1)
                times = route.batch(ids[route.consumes:], count)
                (results[route.name].on if enabled else results[route.name].off).extend(times)
            grew[enabled] += witness() - before
        for route in routes:
            s = results[route.name]
            s.round_ratios.append(statistics.median(s.on[-count:]) / statistics.median(s.off[-count:]))
        worst = max(routes, key=lambda r: results[r.name].round_ratios[-1]).name
        log(f"{label} round {n + 1}/{rounds} in {time.monotonic() - started:.1f} s; highest median ratio this round "
            f"{results[worst].round_ratios[-1]:.3f} ({worst}); witness so far: on {grew[True]}, off {grew[False]}")
    return results


def table(results: dict[str, Samples], rounds: int, count: int, on: str, off: str) -> str:
    """The Markdown table of one part."""
    lines = [f"{rounds} rounds x {count} requests per route and setting ({rounds * count} each)", "",
             f"| write | median {on} | median {off} | ratio | paired ratio (quartiles) | p95 {on} | p95 {off} | "
             "p95 ratio |", "|---|---|---|---|---|---|---|---|"]
    for name, s in results.items():
        med_on, med_off, p_on, p_off = (statistics.median(s.on) * 1e3, statistics.median(s.off) * 1e3,
                                        p95(s.on) * 1e3, p95(s.off) * 1e3)
        q1, q2, q3 = statistics.quantiles(s.round_ratios, n=4) if len(s.round_ratios) > 1 else [s.round_ratios[0]] * 3
        lines.append(f"| {name} | {med_on:.2f} ms | {med_off:.2f} ms | {med_on / med_off:.3f} | {q2:.3f} ({q1:.3f}-"
                     f"{q3:.3f}) | {p_on:.2f} ms | {p_off:.2f} ms | {p_on / p_off:.3f} |")
    return "\n".join(lines)


@contextmanager
def stack_of_servers(dsn: str, ref_python: str, workdir: Path) -> Iterator[tuple[Http, Http, AgnoTimer]]:
    """agno's tables (created by agno itself), the change log and lifecycle installed, then AgentOS and this service
    answering; all stopped at the end."""
    with ExitStack() as stack:
        agno = AgnoTimer(ref_python, dsn, workdir / "agno-timer.log")
        stack.callback(agno.close)
        agno("upsert_session", 1)  # the timer's sessions, and agno's tables, exist now
        migrate(load_settings({"AGNO_PG_DSN": dsn}), changes=True, lifecycle=True, out=io.StringIO())
        agentos = start_agentos(dsn, 1, ref_python, workdir)
        stack.callback(agentos.stop)
        service = start_agno_session(dsn, 1, 4, workdir)
        stack.callback(service.stop)
        agentos.wait_healthy("/health")
        service.wait_healthy("/healthz")
        yield Http(agentos.port), Http(service.port), agno


def count_of(cur, query: str) -> Callable[[], int]:
    """A witness: the one number `query` answers."""
    def count() -> int:
        cur.execute(query)
        return cur.fetchone()[0]
    return count


def measure(dsn: str, ref_python: str, rounds: int, count: int, parts: list[str], workdir: Path,
            null: bool = False) -> None:
    """Both parts on one database (with `null`, nothing switched); the tables on stdout."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    with stack_of_servers(dsn, ref_python, workdir) as (agentos, service, agno):
        seeder = Seeder(cur)
        pool = seeder.sessions(400, "pool")
        cur.execute(f"INSERT INTO {SCHEMA}.{HOLDS} (session_id, reason, held_by, held_at) "
                    "SELECT unnest(%s::text[]), 'litigation', 'bench', %s", (pool[:100], T0))
        for name in (SESSIONS, RUNS):
            cur.execute(f"VACUUM ANALYZE {name}")
        if "changes" in parts:
            log(f"part 1: change triggers on/off, AgentOS and agno, {rounds} rounds x {count}")
            results = alternate(agentos_routes(agentos, pool, agno), lambda on: null or switch_triggers(cur, on),
                                seeder, rounds, count, "changes",
                                count_of(cur, f"SELECT count(*) FROM {SCHEMA}.{CHANGES}"))
            switch_triggers(cur, True)
            print(f"### Change triggers on AgentOS's writes (with / without){NULL_NOTE * null}\n")
            print(table(results, rounds, count, "with", "without") + "\n", flush=True)
        if "holds" in parts:
            log(f"part 2: hold guard on/off, agno-session's deletes, {rounds} rounds x {count}")
            switch_triggers(cur, False)
            try:
                scans = count_of(cur, "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM "
                                      f"pg_stat_user_tables WHERE relname LIKE '{HOLDS}%'")
                before = scans()
                results = alternate(service_routes(service), lambda on: null or switch_holds(cur, on), seeder, rounds,
                                    count, "holds", lambda: 0)
                time.sleep(STATS_FLUSH)
                log(f"the holds table was read {scans() - before} times; deletes with lifecycle installed: "
                    f"{2 * rounds * (count + 1)} (PostgreSQL's statistics, flushed within {STATS_FLUSH} s)")
            finally:
                switch_holds(cur, True)
                switch_triggers(cur, True)
            print(f"### Hold guard on agno-session's deletes (lifecycle installed / not){NULL_NOTE * null}\n")
            print(table(results, rounds, count, "installed", "not") + "\n", flush=True)
    conn.close()


def main() -> None:
    """Parse arguments; run on an embedded PostgreSQL of its own."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--requests", type=int, default=10, help="per route, setting and round")
    parser.add_argument("--null", action="store_true", help="switch nothing: the noise floor")
    parser.add_argument("--part", default="changes,holds", help="changes, holds or both (comma-separated)")
    parser.add_argument("--ref-python",
                        default=os.environ.get("AGNO_REFERENCE_PYTHON", str(REPO / ".venv-agentos/bin/python")))
    args = parser.parse_args()
    parts = args.part.split(",")
    if not set(parts) <= {"changes", "holds"} or args.rounds < 1 or args.requests < 2:
        parser.error("--part takes changes and/or holds; --rounds >= 1; --requests >= 2")
    from service.embedded import embedded_server

    with tempfile.TemporaryDirectory(prefix="write-route-cost-") as tmp:
        server = embedded_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            measure(server.get_uri(), args.ref_python, args.rounds, args.requests, parts, Path(tmp), args.null)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
