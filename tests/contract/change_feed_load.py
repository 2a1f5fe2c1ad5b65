"""The change feed's proof workload (issue 24, proof 6), shared by the contract test (scaled down, in `make test`) and
the benchmark (`python -m bench.change_feed`, 10,000 transactions). Writers: agno 3.1.10's own PostgresDb writes
(AgnoWriter), this service's writes over HTTP (a real `agno-session serve`) and plain-SQL transactions held open
across each round (the injected commit delays: each commits only after the writes that started after it) or rolled
back. Readers, both at once from the same cursor: a long-poll consumer of GET /sessions/-/changes and an SSE
consumer of a real `agno-session serve-events` (change_feed_consumers.py). Faults, at rounds fixed in advance
(never at a time): each consumer's socket cut mid-request or mid-stream, the service's and the event process's
database connections terminated, PostgreSQL stopped and started again (change_feed_stack.py). Then each consumer's
events are compared with the change log (each change once, in order, as logged) and replayed against the tables'
final state (every session and run that exists was created, every one deleted was deleted, none of a rolled-back
transaction came), and no event of a later transaction came while an older one was still open."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg2

from tests.contract.agno_client import T0
from tests.contract.change_feed_consumers import Consumer, EventStream, LongPoll
from tests.contract.change_feed_stack import Stack

ATTEMPTS = 240  # tries of one write while the database is away (a restart takes seconds; a healthy write, one)
PAUSE = 0.25  # seconds between them
ARRIVE_WITHIN = 300  # seconds for the last write to reach a consumer (it is there within a second when all is well)
FAULTS = ("cut sse", "cut long-poll", "terminate connections", "cut both")


@dataclass
class Outcome:
    """What the workload did: transactions, what it meant the tables to hold, what rolled back, when each timed
    create committed, and the faults it injected."""

    transactions: int = 0
    live: set[str] = field(default_factory=set)  # sessions the writers created and did not delete
    rolled_back: set[str] = field(default_factory=set)  # rolled back, or ended by the restart before committing
    renamed: set[str] = field(default_factory=set)
    committed_at: dict[str, float] = field(default_factory=dict)  # timed create → when its write started
    problems: list[str] = field(default_factory=list)
    faults: Counter = field(default_factory=Counter)
    before: tuple[set[str], set[str]] = (set(), set())  # sessions and runs already there when the feed started


def fault_plan(rounds: int, every: int, restarts: int) -> dict[int, str]:
    """Which fault strikes in which round: one of FAULTS in turn every `every` rounds, and `restarts` PostgreSQL
    restarts spread evenly (the first in the middle when there is one)."""
    plan = {n: FAULTS[i % len(FAULTS)] for i, n in enumerate(range(every, rounds, every))}
    for k in range(restarts):
        plan[rounds * (k + 1) // (restarts + 1)] = "restart postgres"
    return plan


def agno_write(stack: Stack, op: str, **fields: object) -> None:
    """One agno write, tried again while the database is away (agno's upserts and deletes can be repeated)."""
    for attempt in range(ATTEMPTS):
        try:
            stack.agno(op, **fields)
            return
        except AssertionError as exc:
            if "agno refused" not in str(exc) or attempt + 1 == ATTEMPTS:
                raise
            time.sleep(PAUSE)


def service_write(stack: Stack, method: str, path: str, body: object, ok: int, done: int | None = None) -> None:
    """One request to the service, asked again after a 503 or a lost answer; `done` is the status a repeat gets when
    the first attempt had committed before its answer was lost (409 for a create, 404 for a delete)."""
    status, answer = None, b""
    for attempt in range(ATTEMPTS):
        try:
            status, _, answer = stack.server.request(method, path, body)
        except OSError:
            status = None
        if status == ok or (attempt and status == done):
            return
        if status not in (None, 503):
            break
        time.sleep(PAUSE)
    raise AssertionError(f"{method} {path}: {status} {answer[:300]!r}")


def service_read(stack: Stack, path: str) -> dict:
    """One GET's JSON, asked again after a 503 (a connection of the service's pool terminated, the database away)."""
    status, body = None, b""
    for _ in range(ATTEMPTS):
        status, _, body = stack.server.request("GET", path)
        if status == 200:
            return json.loads(body)
        if status != 503:
            break
        time.sleep(PAUSE)
    raise AssertionError(f"GET {path}: {status} {body[:300]!r}")


def feed_head(stack: Stack) -> str:
    """The head's cursor now."""
    return service_read(stack, "/sessions/-/changes")["next_cursor"]


def _held_transaction(dsn: str, session_id: str) -> psycopg2.extensions.connection:
    """A writer that has written a session and a run and not committed yet (the injected commit delay)."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, user_id, session_data, created_at, "
                    "updated_at) VALUES (%s, 'agent', 'held', '{}', %s, %s)", (session_id, T0, T0))
        cur.execute("INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_data, created_at) "
                    "VALUES (%s, %s, 'agent', '{}', %s)", (f"{session_id}-r", session_id, T0))
    return conn


def _rolled_back(dsn: str, session_id: str) -> None:
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES (%s, 'agent', %s)",
                    (session_id, T0))
    conn.rollback()
    conn.close()


def cut_by(fault: str | None) -> list[str]:
    """The consumers a fault cuts."""
    return {"cut sse": ["sse"], "cut long-poll": ["long-poll"], "cut both": ["sse", "long-poll"]}.get(fault or "", [])


def inject(stack: Stack, consumers: dict[str, Consumer], fault: str) -> None:
    """One fault, returning once it has struck (a cut consumer has seen its cut and stays away until resumed; the
    event process has seen PostgreSQL go)."""
    for name in cut_by(fault):
        consumers[name].cut()
    if fault == "terminate connections":
        stack.terminate_connections()
    if fault == "restart postgres":
        stack.restart_postgres()


def one_round(stack: Stack, consumers: dict[str, Consumer], n: int, fault: str | None, done: Outcome) -> None:
    """7 or 9 transactions: a SQL transaction held open across the round; agno: create, run, rename; the fault;
    the service: create, rename; every other round a delete through each writer; one rolled back; then the held
    one commits (or, ended by a restart, never does) and a consumer cut by the fault resumes."""
    dsn = stack.pg.dsn
    held_id, agno_id, svc_id = f"held-{n}", f"agno-{n}", f"svc-{n}"
    this_round = {agno_id, svc_id}
    held = _held_transaction(dsn, held_id)
    before = feed_head(stack)  # the horizon: changes of earlier rounds may follow it (a transaction of the service's
    # pruner, say, was running when it was read), so only this round's own events are looked for after it
    agno_write(stack, "upsert_session", session_id=agno_id, user_id="u-agno", created_at=T0 + n)
    agno_write(stack, "upsert_run", session_id=agno_id, user_id="u-agno", run_id=f"{agno_id}-r", index=0,
               created_at=T0 + n)
    agno_write(stack, "upsert_session", session_id=agno_id, user_id="u-agno", created_at=T0 + n, name=f"named {n}")
    if fault is not None:
        inject(stack, consumers, fault)
        done.faults[fault] += 1
    service_write(stack, "POST", "/sessions?type=agent", {"session_id": svc_id, "user_id": "u-svc",
                                                          "session_name": "x"}, 201, 409)
    service_write(stack, "POST", f"/sessions/{svc_id}/rename", {"session_name": f"renamed {n}"}, 200)
    done.live |= {agno_id, svc_id}
    done.renamed.add(svc_id)
    if n % 2:  # every other round deletes what the round before created, once through each writer
        agno_write(stack, "delete_session", session_id=f"agno-{n - 1}")
        service_write(stack, "DELETE", f"/sessions/svc-{n - 1}", None, 204, 404)
        done.live -= {f"agno-{n - 1}", f"svc-{n - 1}"}
    _rolled_back(dsn, f"rolled-{n}")
    done.rolled_back.add(f"rolled-{n}")
    if fault != "restart postgres":  # the held transaction is older than every write above: none may be out yet
        shown = service_read(stack, f"/sessions/-/changes?limit=1000&after={before}")["data"]
        early = [e for e in shown if e["session_id"] in this_round
                 or (n % 2 and e["type"] == "session.deleted" and e["session_id"] in (f"agno-{n - 1}", f"svc-{n - 1}"))]
        if early:
            done.problems.append(f"round {n}: {len(early)} of its events delivered while an older transaction was "
                                 "open")
    try:
        held.commit()
        done.live.add(held_id)
    except psycopg2.OperationalError:  # the restart ended it: it rolled back, and nothing of it may be delivered
        done.rolled_back.add(held_id)
    held.close()
    for name in cut_by(fault):  # back after the rest of the round committed: only its resume cursor brings it
        consumers[name].resume(held_id)
    done.transactions += 9 if n % 2 else 7


def run(stack: Stack, rounds: int, timed: int = 0, every: int = 5, restarts: int = 1,
        progress: Callable[[int, int, Outcome, dict[str, Consumer]], None] | None = None
        ) -> tuple[Outcome, dict[str, Consumer], str]:
    """`rounds` rounds with the faults of fault_plan, then `timed` creates with nothing held open and no fault
    (their commit-to-event latency), then one last create both consumers must receive; returns what was done, the
    consumers (stopped) and the cursor they started from."""
    done = Outcome(before=tables(stack.pg.dsn))
    start = feed_head(stack)
    consumers: dict[str, Consumer] = {"long-poll": LongPoll(stack.server.port, start),
                                      "sse": EventStream(stack.events.port, start)}
    for consumer in consumers.values():
        consumer.start()
    plan = fault_plan(rounds, every, restarts)
    try:
        for n in range(rounds):
            try:
                one_round(stack, consumers, n, plan.get(n), done)
            except AssertionError as exc:
                states = "; ".join(f"{c.name}: {len(c.events)} events, {c.refused} refusals, {c.cuts} cuts"
                                   for c in consumers.values())
                raise AssertionError(f"round {n}: {exc}\n{states}\nserve-events:{stack.events.tail()}") from exc
            if progress is not None:
                progress(n + 1, rounds, done, consumers)
        stack.wait_ready(200)  # the timed creates measure the feed, not the event process's backoff after a fault
        timed_creates(stack, timed, done)
        service_write(stack, "POST", "/sessions?type=agent", {"session_id": "last"}, 201, 409)
        done.live.add("last")
        done.transactions += 1
        for consumer in consumers.values():
            if not consumer.wait_for(lambda c: any(e["session_id"] == "last" for e in c.events[-50:]),
                                     ARRIVE_WITHIN):
                done.problems.append(f"{consumer.name}: the last write did not arrive within {ARRIVE_WITHIN} s")
    finally:
        for consumer in consumers.values():
            consumer.close()
    return done, consumers, start


def timed_creates(stack: Stack, count: int, done: Outcome) -> None:
    """`count` creates without any transaction held open (alternately through agno and this service), the time
    each write started kept for the commit-to-event latency (an upper bound: it includes the write itself)."""
    for n in range(count):
        session_id = f"timed-{n}"
        started = time.time()
        if n % 2:
            agno_write(stack, "upsert_session", session_id=session_id, user_id="u-agno", created_at=T0 + n)
        else:
            service_write(stack, "POST", "/sessions?type=agent", {"session_id": session_id}, 201, 409)
        done.committed_at[session_id] = started
        done.live.add(session_id)
        done.transactions += 1


def tables(dsn: str) -> tuple[set[str], set[str]]:
    """The session ids and run ids agno's tables hold now."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT session_id FROM ai.agno_sessions")
            sessions = {r[0] for r in cur.fetchall()}
            cur.execute("SELECT run_id FROM ai.agno_runs")
            return sessions, {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


@dataclass
class Verdict:
    """One consumer's events against the change log and the tables: what was lost, what came twice, and every other
    difference."""

    lost: int
    duplicated: int
    problems: list[str]


def against_log(events: list[dict], logged: list[dict]) -> Verdict:
    """Each logged change received once, as logged, in the log's order; nothing received that is not logged."""
    received = Counter(e["id"] for e in events)
    expected = {e["id"]: e for e in logged}
    lost = [e["id"] for e in logged if e["id"] not in received]
    duplicated = [i for i, n in received.items() if n > 1]
    problems = [f"lost: {e['type']} {e['session_id']} {e['run_id'] or ''}" for e in logged
                if e["id"] not in received][:20]
    problems += [f"delivered {received[i]} times: {expected.get(i, {}).get('session_id')}" for i in duplicated][:20]
    problems += [f"not in the log: {e}" for e in events if e["id"] not in expected][:20]
    problems += [f"differs from the log: {e} != {expected[e['id']]}" for e in events
                 if e["id"] in expected and e != expected[e["id"]]][:20]
    order = [e["id"] for e in events]
    if not lost and not duplicated and order != [e["id"] for e in logged if e["id"] in received]:
        problems.append("events out of the log's order")
    return Verdict(len(lost), len(duplicated), problems)


def against_tables(events: list[dict], done: Outcome, dsn: str) -> list[str]:
    """The feed replayed from the tables' state at the start must give their final state; the writers' intent must
    be that state too (no write lost on the way in), and nothing rolled back may have come."""
    problems: list[str] = []
    created = Counter(e["session_id"] for e in events if e["type"] == "session.created")
    problems += [f"{s} created {n} times" for s, n in created.items() if n > 1]
    live_sessions, live_runs = set(done.before[0]), set(done.before[1])
    for e in events:
        {"session.created": live_sessions.add, "session.deleted": live_sessions.discard}.get(
            e["type"], lambda _: None)(e["session_id"])
        {"run.created": live_runs.add, "run.deleted": live_runs.discard}.get(e["type"], lambda _: None)(e["run_id"])
    sessions, runs = tables(dsn)
    problems += [f"session {s} in the table, not live in the feed" for s in sorted(sessions - live_sessions)]
    problems += [f"session {s} live in the feed, not in the table" for s in sorted(live_sessions - sessions)]
    problems += [f"run {r} in the table, not live in the feed" for r in sorted(runs - live_runs)]
    problems += [f"run {r} live in the feed, not in the table" for r in sorted(live_runs - runs)]
    written = sessions - done.before[0]
    problems += [f"session {s} written, not in the table" for s in sorted(done.live - written)]
    problems += [f"session {s} in the table, not written" for s in sorted(written - done.live)]
    seen = {e["session_id"] for e in events}
    problems += [f"rolled-back {s} in the feed" for s in sorted(done.rolled_back & seen)]
    named = {e["session_id"] for e in events if e["type"] == "session.updated" and "name" in e["changed"]}
    problems += [f"rename of {s} missing" for s in sorted(done.renamed - named)]
    return problems


def verdicts(stack: Stack, done: Outcome, consumers: dict[str, Consumer], start: str) -> dict[str, Verdict]:
    """Each consumer's verdict (its failures and the workload's own problems included)."""
    logged = stack.logged_events(start)
    found = {}
    for name, consumer in consumers.items():
        verdict = against_log(consumer.events, logged)
        verdict.problems = (consumer.failure + verdict.problems + against_tables(consumer.events, done, stack.pg.dsn)
                            + done.problems)
        found[name] = verdict
    return found


def latencies(done: Outcome, consumer: Consumer) -> list[float]:
    """Commit-to-event seconds of the timed creates on one consumer (their session.created's arrival minus the
    start of their write)."""
    arrived = {e["session_id"]: at for e, at in zip(consumer.events, consumer.arrived, strict=True)
               if e["type"] == "session.created"}
    return sorted(arrived[s] - t for s, t in done.committed_at.items() if s in arrived)
