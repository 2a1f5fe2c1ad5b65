"""What the change log's triggers (`migrate --changes`) add to AgentOS's own writes end to end, and what the legal
hold guard (`migrate --lifecycle`) adds to this service's deletes. Two identical stacks in one PostgreSQL cluster:
two databases, each with agno's tables, the change log and lifecycle installed, its own real AgentOS (agno 3.1.10,
uvicorn, 1 worker), `agno-session serve` (1 worker, 4 threads) and agno writer (bench/agno_session_timer.py, agno
venv). In each round the feature is on in one database and off in the other (swapped every round, so neither
stack's own quirks count), and every request goes to both, one after the other (which one first alternates), each
timed over a kept-alive loopback connection: the shared machine's noise falls on both within milliseconds. Ratios,
never absolute times, are the result.

Part 1, the change triggers (enabled / disabled, all six on agno's sessions and runs tables): AgentOS's session write
routes (create, rename, PATCH, delete one, bulk delete of 5) and agno's own `upsert_session` (what the runtime writes
after every run) and a whole run's write (`upsert_run` then `upsert_session`), called directly. Part 2, the hold
guard (the holds table present / renamed away, which is how the service's delete knows lifecycle is installed; the
change triggers off in both): this service's DELETE /sessions/{id} and bulk DELETE. Sessions deleted, renamed and
patched carry runs (agno's stored shape, ~5 kB each).

Usage: python -m bench.write_route_cost [--rounds 40] [--requests 20] [--part changes,holds] [--null]
                                        [--ref-python PATH]
Starts an embedded PostgreSQL of its own (deleted at the end). Prints progress on stderr and a Markdown table per
part on stdout: per route, the median and p95 latency with and without over all rounds and their ratios, and the
median (and quartiles) over rounds of each round's ratio of medians. `--null` switches nothing (the feature on in
both): the ratios it prints are the method's noise floor on this machine.
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
IDLE = 2.0  # seconds
STATS_FLUSH = 12  # seconds: a backend reports its table statistics within 10 s of going idle


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the report."""
    print(f"[write-cost {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Http:
    """One kept-alive loopback connection; each request timed from sending to the last byte of the answer."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.used = 0.0

    def __call__(self, method: str, path: str, body: object, expect: int) -> float:
        """Seconds one request took; a status other than `expect` stops the benchmark. A connection idle for longer
        than IDLE is opened anew first, off the clock (uvicorn closes kept-alive ones after 5 s)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if time.monotonic() - self.used > IDLE:
            self.conn.close()
            self.conn.connect()
        started = time.perf_counter()
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        answer = response.read()
        elapsed = time.perf_counter() - started
        self.used = time.monotonic()
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
class Stack:
    """One database and what writes to it."""

    name: str
    cur: object
    seeder: Seeder
    agentos: Http
    service: Http
    agno: AgnoTimer
    pool: list[str]


@dataclass
class Route:
    """One write: `one(stack, ids, k)` times it once on `stack`, consuming `ids` (`consumes` live sessions with runs);
    `k` numbers the request (the same on both stacks)."""

    name: str
    one: Callable[[Stack, list[str], int], float]
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


def agentos_routes() -> list[Route]:
    """AgentOS's session writes (contract §5.2, 5.7-5.10) and agno's own session writes."""
    def bulk(st: Stack, ids: list[str], http: Http) -> float:
        return http("DELETE", "/sessions", {"session_ids": ids, "session_types": ["agent"] * len(ids)}, 204)

    return [
        Route("POST /sessions (create)", lambda st, ids, k: st.agentos(
            "POST", "/sessions?type=agent", {"session_id": f"created-{k}", "session_name": "New chat",
                                             "session_state": {"step": 0}, "user_id": "u1", "agent_id": "basic-agent",
                                             "metadata": {"channel": "web"}}, 201)),
        Route("POST /sessions/{id}/rename", lambda st, ids, k: st.agentos(
            "POST", f"/sessions/{st.pool[k % len(st.pool)]}/rename?type=agent", {"session_name": f"Renamed {k}"},
            200)),
        Route("PATCH /sessions/{id}", lambda st, ids, k: st.agentos(
            "PATCH", f"/sessions/{st.pool[k % len(st.pool)]}?type=agent",
            {"session_state": {"step": k}, "metadata": {"channel": "web", "n": k}}, 200)),
        Route("DELETE /sessions/{id}", lambda st, ids, k: st.agentos("DELETE", f"/sessions/{ids[0]}", None, 204),
              consumes=1),
        Route(f"DELETE /sessions (bulk, {BULK})", lambda st, ids, k: bulk(st, ids, st.agentos), consumes=BULK),
        Route("agno upsert_session", lambda st, ids, k: st.agno("upsert_session", 1)[0]),
        Route("agno run write (upsert_run + upsert_session)", lambda st, ids, k: st.agno("after_run", 1)[0]),
    ]


def service_routes() -> list[Route]:
    """This service's deletes, the ones the hold guard adds a statement to."""
    return [
        Route("DELETE /sessions/{id}", lambda st, ids, k: st.service("DELETE", f"/sessions/{ids[0]}", None, 204),
              consumes=1),
        Route(f"DELETE /sessions (bulk, {BULK})", lambda st, ids, k: st.service(
            "DELETE", "/sessions", {"session_ids": ids, "session_types": ["agent"] * BULK}, 204), consumes=BULK),
    ]


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


def alternate(stacks: tuple[Stack, Stack], routes: list[Route], switch: Callable[[Stack, bool], None], rounds: int,
              count: int, label: str, witness: Callable[[Stack], int]) -> dict[str, Samples]:
    """`rounds` rounds; in each the feature is on in one stack and off in the other (swapped every round) and every
    route is timed `count` times on both, request by request (which goes first alternates), after one untimed
    request each. The sessions consumed are seeded at the round's start. `witness` counts what the feature leaves
    behind in a stack: what it grew by on and off is logged as proof of the switch (0 when there is nothing to read
    at once)."""
    results = {route.name: Samples() for route in routes}
    grew = {True: 0, False: 0}
    counter = iter(range(10**9))
    for n in range(rounds):
        started = time.monotonic()
        on, off = stacks if n % 2 == 0 else stacks[::-1]
        switch(on, True)
        switch(off, False)
        seeded = {st.name: {r.name: st.seeder.sessions(r.consumes * (count + 1), f"{label}{n}")
                            for r in routes if r.consumes} for st in stacks}
        before = {st.name: witness(st) for st in stacks}
        for route in routes:
            s, c, k = results[route.name], route.consumes, next(counter)
            for st in stacks:
                route.one(st, seeded[st.name].get(route.name, [])[:c], k)
            for i in range(count):
                k = next(counter)
                for st in ((on, off) if i % 2 == 0 else (off, on)):
                    elapsed = route.one(st, seeded[st.name].get(route.name, [])[(i + 1) * c:(i + 2) * c], k)
                    (s.on if st is on else s.off).append(elapsed)
            s.round_ratios.append(statistics.median(s.on[-count:]) / statistics.median(s.off[-count:]))
        for st, enabled in ((on, True), (off, False)):
            grew[enabled] += witness(st) - before[st.name]
        worst = max(routes, key=lambda r: results[r.name].round_ratios[-1]).name
        log(f"{label} round {n + 1}/{rounds} in {time.monotonic() - started:.1f} s (on in {on.name}); highest median "
            f"ratio this round {results[worst].round_ratios[-1]:.3f} ({worst}); witness so far: on {grew[True]}, "
            f"off {grew[False]}")
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
def stack(stack_name: str, dsn: str, ref_python: str, workdir: Path) -> Iterator[Stack]:
    """One database readied (agno's tables created by agno itself, the change log and lifecycle installed, sessions
    with runs to rename and patch, 100 of them held) and its servers answering; all stopped at the end."""
    logs = workdir / stack_name
    logs.mkdir()
    with ExitStack() as stop:
        agno = AgnoTimer(ref_python, dsn, logs / "agno-timer.log")
        stop.callback(agno.close)
        agno("upsert_session", 1)  # the timer's sessions, and agno's tables, exist now
        migrate(load_settings({"AGNO_PG_DSN": dsn}), changes=True, lifecycle=True, out=io.StringIO())
        conn = psycopg2.connect(dsn)
        stop.callback(conn.close)
        conn.autocommit = True
        cur = conn.cursor()
        seeder = Seeder(cur)
        pool = seeder.sessions(400, "pool")
        cur.execute(f"INSERT INTO {SCHEMA}.{HOLDS} (session_id, reason, held_by, held_at) "
                    "SELECT unnest(%s::text[]), 'litigation', 'bench', %s", (pool[:100], T0))
        for table_name in (SESSIONS, RUNS):
            cur.execute(f"VACUUM ANALYZE {table_name}")
        agentos = start_agentos(dsn, 1, ref_python, logs)
        stop.callback(agentos.stop)
        service = start_agno_session(dsn, 1, 4, logs)
        stop.callback(service.stop)
        agentos.wait_healthy("/health")
        service.wait_healthy("/healthz")
        yield Stack(stack_name, cur, seeder, Http(agentos.port), Http(service.port), agno, pool)


def count_of(query: str) -> Callable[[Stack], int]:
    """A witness: the one number `query` answers in a stack's database."""
    def count(st: Stack) -> int:
        st.cur.execute(query)
        return st.cur.fetchone()[0]
    return count


def measure(server, ref_python: str, rounds: int, count: int, parts: list[str], workdir: Path,
            null: bool = False) -> None:
    """Both parts on two databases of `server` (with `null`, nothing switched); the tables on stdout."""
    admin = psycopg2.connect(server.get_uri())
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in ("bench_a", "bench_b"):
            cur.execute(f"CREATE DATABASE {name}")
    admin.close()
    with ExitStack() as stop:
        stacks = tuple(stop.enter_context(stack(name, server.get_uri(name), ref_python, workdir))
                       for name in ("bench_a", "bench_b"))
        if "changes" in parts:
            log(f"part 1: change triggers on/off, AgentOS and agno, {rounds} rounds x {count}")
            results = alternate(stacks, agentos_routes(), lambda st, on: null or switch_triggers(st.cur, on),
                                rounds, count, "changes", count_of(f"SELECT count(*) FROM {SCHEMA}.{CHANGES}"))
            print(f"### Change triggers on AgentOS's writes (with / without){NULL_NOTE * null}\n")
            print(table(results, rounds, count, "with", "without") + "\n", flush=True)
        if "holds" in parts:
            log(f"part 2: hold guard on/off, agno-session's deletes, {rounds} rounds x {count}")
            for st in stacks:
                switch_triggers(st.cur, False)
            scans = count_of("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables "
                             f"WHERE relname LIKE '{HOLDS}%'")
            before = sum(scans(st) for st in stacks)
            results = alternate(stacks, service_routes(), lambda st, on: null or switch_holds(st.cur, on), rounds,
                                count, "holds", lambda st: 0)
            time.sleep(STATS_FLUSH)
            log(f"the holds tables were read {sum(scans(st) for st in stacks) - before} times; deletes with lifecycle "
                f"installed: {2 * rounds * (count + 1) * (2 if null else 1)} (PostgreSQL's statistics, flushed within "
                f"{STATS_FLUSH} s)")
            print(f"### Hold guard on agno-session's deletes (lifecycle installed / not){NULL_NOTE * null}\n")
            print(table(results, rounds, count, "installed", "not") + "\n", flush=True)


def main() -> None:
    """Parse arguments; run on an embedded PostgreSQL of its own."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--requests", type=int, default=20, help="per route, setting and round")
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
            measure(server, args.ref_python, args.rounds, args.requests, parts, Path(tmp), args.null)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
