"""The change feed's proof workload, shared by the contract test (scaled down, in `make test`) and the benchmark
(`python -m bench.change_feed`, 10,000 transactions): agno 3.1.10's own writes (AgnoWriter), this service's writes
over HTTP (a real `agno-session serve`) and plain-SQL transactions held open across later commits (the injected
commit delays: deterministic, each commits only after the writes that started after it have committed) or rolled
back, all while a consumer long-polls GET /sessions/-/changes. Then the feed is replayed and compared with the
tables' final state: every session and run that exists was created once, every one deleted was deleted, no event
came twice, none of a rolled-back transaction came, and no event of a later transaction came while an older one was
still open."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg2

from tests.contract.agno_client import T0, AgnoWriter
from tests.support.servers import Server

WAIT = 5  # seconds each long-poll of the consumer waits


@dataclass
class Feed:
    """The consumer: long-polls the feed from `cursor`, keeping every event with the time it arrived."""

    server: Server
    cursor: str
    events: list[dict] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    failure: list[str] = field(default_factory=list)

    def read(self, wait: int) -> dict:
        status, _, body = self.server.request(
            "GET", f"/sessions/-/changes?limit=1000&wait={wait}&after={urllib.parse.quote(self.cursor)}",
            timeout=wait + 30)
        if status != 200:
            raise AssertionError(f"change feed answered {status}: {body[:300]!r}")
        return json.loads(body)

    def follow(self) -> None:
        """Long-poll until stopped, then read until the feed has nothing more (every transaction has ended)."""
        try:
            while True:
                stopping = self.stop.is_set()
                page = self.read(0 if stopping else WAIT)
                now = time.time()
                self.events += page["data"]
                self.arrived += [now] * len(page["data"])
                self.cursor = page["next_cursor"]
                if stopping and not page["has_more"]:
                    return
        except Exception as exc:  # the test reads it
            self.failure.append(repr(exc))


@dataclass
class Outcome:
    """What the workload did: transactions, ids written by each writer, and when each committed."""

    transactions: int = 0
    rolled_back: set[str] = field(default_factory=set)
    renamed: set[str] = field(default_factory=set)
    committed_at: dict[str, float] = field(default_factory=dict)  # session id → its creation's commit time
    problems: list[str] = field(default_factory=list)
    before: tuple[set[str], set[str]] = (set(), set())  # sessions and runs already there when the feed started


def _held_transaction(dsn: str, session_id: str) -> psycopg2.extensions.connection:
    """A writer that has written a session and a run and not committed yet (the injected commit delay)."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, user_id, session_data, created_at, "
                    "updated_at) VALUES (%s, 'agent', 'held', '{}', %s, %s)", (session_id, T0, T0))
        cur.execute("INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_data, created_at) "
                    "VALUES (%s, %s, 'agent', '{}', %s)", (f"{session_id}-r", session_id, T0))
    return conn


def run(agno: AgnoWriter, server: Server, dsn: str, rounds: int, timed: int = 0,
        progress: Callable[[int, int], None] | None = None) -> tuple[Outcome, Feed]:
    """`rounds` rounds of 7 or 9 transactions (agno: create, run, rename, every other round a delete; the service:
    create, rename, a delete; SQL: one held open across the round and committed after it, one rolled back), then
    `timed` creates with nothing held open (their commit-to-event latency), all read by a long-polling consumer;
    returns what was done and the feed as read."""
    done = Outcome(before=tables(dsn))
    feed = Feed(server, feed_head(server))
    consumer = threading.Thread(target=feed.follow, daemon=True)
    consumer.start()
    for n in range(rounds):
        held_id = f"held-{n}"
        held = _held_transaction(dsn, held_id)
        before = feed_head(server)
        agno_id, svc_id = f"agno-{n}", f"svc-{n}"
        agno("upsert_session", session_id=agno_id, user_id="u-agno", created_at=T0 + n)
        agno("upsert_run", session_id=agno_id, user_id="u-agno", run_id=f"{agno_id}-r", index=0, created_at=T0 + n)
        agno("upsert_session", session_id=agno_id, user_id="u-agno", created_at=T0 + n, name=f"named {n}")
        status, _, body = server.request("POST", "/sessions?type=agent",
                                         {"session_id": svc_id, "user_id": "u-svc", "session_name": "x"})
        assert status == 201, body
        status, _, body = server.request("POST", f"/sessions/{svc_id}/rename", {"session_name": f"renamed {n}"})
        assert status == 200, body
        done.renamed.add(svc_id)
        if n % 2:  # every other round deletes what the round before created, once through each writer
            agno("delete_session", session_id=f"agno-{n - 1}")
            status, _, _ = server.request("DELETE", f"/sessions/svc-{n - 1}")
            assert status == 204
        rolled = psycopg2.connect(dsn)
        with rolled.cursor() as cur:
            cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES (%s, 'agent', %s)",
                        (f"rolled-{n}", T0))
        rolled.rollback()
        rolled.close()
        done.rolled_back.add(f"rolled-{n}")
        # the held transaction is older than every write above: none of them may have been delivered yet
        early = server.request("GET", f"/sessions/-/changes?limit=1000&after={urllib.parse.quote(before)}")
        shown = json.loads(early[2])["data"]
        if shown:
            done.problems.append(f"round {n}: {len(shown)} events delivered while an older transaction was open")
        held.commit()
        held.close()
        done.transactions += 9 if n % 2 else 7
        if progress is not None:
            progress(n + 1, rounds)
    timed_creates(agno, server, timed, done)
    feed.stop.set()
    consumer.join(WAIT + 120)
    return done, feed


def timed_creates(agno: AgnoWriter, server: Server, count: int, done: Outcome) -> None:
    """`count` creates without any transaction held open (alternately through agno and this service), each commit's
    time kept for the commit-to-event latency."""
    for n in range(count):
        session_id = f"timed-{n}"
        if n % 2:
            agno("upsert_session", session_id=session_id, user_id="u-agno", created_at=T0 + n)
        else:
            status, _, body = server.request("POST", "/sessions?type=agent", {"session_id": session_id})
            assert status == 201, body
        done.committed_at[session_id] = time.time()
        done.transactions += 1


def feed_head(server: Server) -> str:
    """The head's cursor now."""
    status, _, body = server.request("GET", "/sessions/-/changes")
    assert status == 200, body
    return json.loads(body)["next_cursor"]


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


def compare(done: Outcome, feed: Feed, dsn: str) -> list[str]:
    """Every difference between the feed replayed and the tables' final state (empty: nothing lost, nothing twice)."""
    problems = list(done.problems) + feed.failure
    ids = Counter(e["id"] for e in feed.events)
    problems += [f"event {i} delivered {n} times" for i, n in ids.items() if n > 1]
    created = Counter(e["session_id"] for e in feed.events if e["type"] == "session.created")
    problems += [f"{s} created {n} times" for s, n in created.items() if n > 1]
    live_sessions, live_runs = set(done.before[0]), set(done.before[1])
    for e in feed.events:
        {"session.created": live_sessions.add, "session.deleted": live_sessions.discard}.get(
            e["type"], lambda _: None)(e["session_id"])
        {"run.created": live_runs.add, "run.deleted": live_runs.discard}.get(e["type"], lambda _: None)(e["run_id"])
    sessions, runs = tables(dsn)
    problems += [f"session {s} in the table, not live in the feed" for s in sorted(sessions - live_sessions)]
    problems += [f"session {s} live in the feed, not in the table" for s in sorted(live_sessions - sessions)]
    problems += [f"run {r} in the table, not live in the feed" for r in sorted(runs - live_runs)]
    problems += [f"run {r} live in the feed, not in the table" for r in sorted(live_runs - runs)]
    seen = {e["session_id"] for e in feed.events}
    problems += [f"rolled-back {s} in the feed" for s in sorted(done.rolled_back & seen)]
    named = {e["session_id"] for e in feed.events if e["type"] == "session.updated" and "name" in e["changed"]}
    problems += [f"rename of {s} missing" for s in sorted(done.renamed - named)]
    return problems


def latencies(done: Outcome, feed: Feed) -> list[float]:
    """Commit-to-event seconds of the timed creates (their session.created's arrival minus their commit)."""
    arrived = {e["session_id"]: at for e, at in zip(feed.events, feed.arrived, strict=True)
               if e["type"] == "session.created"}
    return sorted(arrived[s] - t for s, t in done.committed_at.items() if s in arrived)
