"""`agno-session serve-events` as a process of its own against a real PostgreSQL, with writes through the real
`agno-session serve`: a stream resumed with Last-Event-ID loses and repeats nothing, a PostgreSQL restart under an
open stream loses nothing and keeps it open, and a JWT-isolated caller sees only its own sessions' changes."""

from __future__ import annotations

import http.client
import os
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from service.core.config import load_settings
from service.storage import changes
from service.storage.registry import open_database
from tests.support.jwt_tokens import JWT_ENV, token
from tests.support.restartable_postgres import Postgres
from tests.support.servers import CLI, AgnoSession, Server, free_port, launch, serving
from tests.support.sse import Stream

PATH = "/sessions/-/events"
CHANGES = "ai.agno_sessions_svc_changes"  # the change log of the default tables
WAIT = 60  # seconds for the stream to show what was committed (it is there within a poll interval when all is well)


def _env(dsn: str, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
    return {**base, "AGNO_PG_DSN": dsn, "AGNO_DB_ID": "srv", "AGNO_SERVICE_HOST": "127.0.0.1", **extra}


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([CLI, "migrate", "--changes"], env=env, check=True, capture_output=True, timeout=120)


def _events_server(env: dict[str, str], log: Path) -> Server:
    port = free_port()
    server = launch("serve-events", [CLI, "serve-events", "--port", str(port)],
                    {**env, "AGNO_EVENTS_POLL_INTERVAL": "0.1", "AGNO_EVENTS_KEEPALIVE": "1"}, port, Path.cwd(), log)
    server.wait_healthy("/healthz", timeout=60)
    return server


def _create(session: AgnoSession, session_id: str, headers: dict | None = None, attempts: int = 1) -> None:
    """POST /sessions (retried `attempts` times while the database is coming back); the write must commit."""
    for attempt in range(attempts):
        status, _, body = session.request("POST", "/sessions?type=agent", {"session_id": session_id,
                                                                            "agent_id": "a1"}, headers)
        if status == 201:
            return
        if attempt + 1 < attempts:
            time.sleep(0.5)
    raise AssertionError(f"create {session_id}: {status} {body!r}")


def _created(stream: Stream) -> list[str]:
    return [e["session_id"] for e in stream.events if e["type"] == "session.created"]


def _cursor_after(session: AgnoSession, events: Server, session_id: str) -> str:
    """The stream's cursor (its last event id) once the creation of `session_id` reached it."""
    stream = Stream(events.port, PATH)
    stream.start()
    _create(session, session_id)
    assert stream.wait_for(lambda s: _created(s) == [session_id], WAIT)
    stream.close()
    return stream.last_id


@pytest.fixture
def stack(db_env: dict[str, str]) -> Iterator[tuple[AgnoSession, Server, dict[str, str]]]:
    env = _env(db_env["AGNO_PG_DSN"])
    _migrate(env)
    with tempfile.TemporaryDirectory() as tmp, serving(env) as session:
        events = _events_server(env, Path(tmp) / "events.log")
        try:
            yield session, events, env
        finally:
            events.kill()


def test_a_resumed_stream_loses_and_repeats_nothing(stack) -> None:
    session, events, _ = stack
    stream = Stream(events.port, PATH + "?events=session.created")
    stream.start()
    watcher = Stream(events.port, PATH)  # stays connected: once it has seen a write, so has the poller
    watcher.start()
    first = [f"first-{i}" for i in range(20)]
    for sid in first[:10]:
        _create(session, sid)
    assert stream.wait_for(lambda s: len(_created(s)) >= 10, WAIT), events.tail()
    stream.disconnect()
    for sid in first[10:]:  # written while this stream is closed
        _create(session, sid)
    assert watcher.wait_for(lambda s: len(_created(s)) >= 20, WAIT)
    watcher.close()
    stream.start()  # resumes with Last-Event-ID, from behind the poller: it catches up with reads of its own
    later = [f"later-{i}" for i in range(10)]
    for sid in later:
        _create(session, sid)
    assert stream.wait_for(lambda s: len(_created(s)) >= 30, WAIT), (_created(stream), events.tail())
    time.sleep(1.5)  # a duplicate would arrive within a poll or two
    stream.close()
    assert _created(stream) == first + later  # every one, once, in commit order
    assert stream.connections == 2
    assert len(set(stream.ids)) == len(stream.ids)


def test_a_cursor_from_after_resumes_too_and_a_forged_one_is_refused(stack) -> None:
    session, events, _ = stack
    cursor = _cursor_after(session, events, "s1")
    _create(session, "s2")
    again = Stream(events.port, f"{PATH}?after={cursor}")
    again.start()
    assert again.wait_for(lambda s: _created(s) == ["s2"], WAIT), again.events
    again.close()
    status, _, body = events.request("GET", PATH, headers={"Last-Event-ID": cursor[:-2] + "xx"})
    assert (status, body) == (400, b'{"detail":"Invalid cursor"}')
    status, _, body = events.request("GET", f"{PATH}?events=session.nothing")
    assert status == 422 and b"events" in body
    # A cursor read under other filters is refused, never silently applied to these.
    status, _, body = events.request("GET", f"{PATH}?user_id=u1", headers={"Last-Event-ID": cursor})
    assert (status, body) == (400, b'{"detail":"Cursor does not match the query"}')


def _prune_everything(env: dict[str, str]) -> None:
    """Age every change past the default retention (7 days), then prune them as the service's pruner does."""
    conn = psycopg2.connect(env["AGNO_PG_DSN"])
    conn.autocommit = True
    with conn.cursor() as cur:  # the log refuses updates while its own triggers are on
        cur.execute(f"ALTER TABLE {CHANGES} DISABLE TRIGGER USER")
        cur.execute(f"UPDATE {CHANGES} SET at = at - 8 * 86400 * 1000")
        cur.execute(f"ALTER TABLE {CHANGES} ENABLE TRIGGER USER")
    conn.close()
    db = open_database(load_settings(env).databases[0], 1, 30)
    try:
        while changes.prune(db, 7 * 86400, int(time.time() * 1000)):
            pass
    finally:
        db.close()


def test_a_cursor_older_than_the_log_is_410_as_on_the_long_poll(stack) -> None:
    session, events, env = stack
    cursor = _cursor_after(session, events, "s1")
    _create(session, "s2")  # what follows the cursor: pruned below
    _prune_everything(env)
    conn = http.client.HTTPConnection("127.0.0.1", events.port, timeout=30)
    try:  # the status alone first: a stream that opened (200) would never end
        conn.request("GET", PATH, headers={"Last-Event-ID": cursor})
        answer = conn.getresponse()
        assert answer.status == 410
        body = answer.read()
    finally:
        conn.close()
    assert body == b'{"detail":"Cursor is older than the change log; resynchronise with GET /sessions"}'


# Bad filters both transports take (the long-poll's own limit, wait and include are not the stream's).
BAD_FILTERS = ["events=session.nothing", "events=", "type=robot", "type=robot&events=run.*,bogus", "user_id=a%00b",
               "session_id=%00&component_id=%00", "type=robot&user_id=%00", "db_id=nowhere",
               "db_id=nowhere&user_id=%00"]


def test_a_bad_filter_gets_the_long_polls_answer(stack) -> None:
    session, events, _ = stack
    for query in BAD_FILTERS:
        status, _, body = session.request("GET", f"/sessions/-/changes?{query}")
        assert status in (404, 422), (query, status, body)
        streamed = events.request("GET", f"{PATH}?{query}")
        assert (streamed[0], streamed[2]) == (status, body), query


def test_probes_and_metrics(stack) -> None:
    _, events, _ = stack
    assert events.request("GET", "/readyz")[0] == 200
    stream = Stream(events.port, PATH)
    stream.start()
    assert stream.wait_for(lambda s: s.comments >= 2, WAIT)  # the opening comment and a keepalive (1 s here)
    status, _, body = events.request("GET", "/metrics")
    stream.close()
    assert status == 200
    assert b'agno_session_events_subscribers{db_id="srv"} 1.0' in body
    assert b'agno_session_events_poll_duration_seconds_count{db_id="srv"}' in body  # the poller polls


def test_an_isolated_caller_sees_only_its_own_sessions(db_env: dict[str, str]) -> None:
    env = _env(db_env["AGNO_PG_DSN"], **JWT_ENV, AGNO_USER_ISOLATION="true")
    _migrate(env)
    alice, bob = token("alice"), token("bob")
    with tempfile.TemporaryDirectory() as tmp, serving(env) as session:
        events = _events_server(env, Path(tmp) / "events.log")
        try:
            assert events.request("GET", PATH)[0] == 401
            stream = Stream(events.port, PATH + "?user_id=bob", headers=alice)  # asks for bob's: gets its own
            stream.start()
            _create(session, "bob-1", bob)
            _create(session, "alice-1", alice)
            _create(session, "bob-2", bob)
            _create(session, "alice-2", alice)
            assert stream.wait_for(lambda s: len(_created(s)) >= 2, WAIT), events.tail()
            time.sleep(1.0)
            stream.close()
            assert _created(stream) == ["alice-1", "alice-2"]
            assert Counter(e["user_id"] for e in stream.events) == Counter({"alice": len(stream.events)})
        finally:
            events.kill()


def test_a_postgres_restart_under_an_open_stream_loses_nothing() -> None:
    with tempfile.TemporaryDirectory(prefix="agno-session-events-restart-") as tmp:
        pg = Postgres(Path(tmp))
        pg.start()
        try:
            env = _env(pg.dsn)
            _migrate(env)
            with serving(env) as session:
                events = _events_server(env, Path(tmp) / "events.log")
                try:
                    stream = Stream(events.port, PATH + "?events=session.created")
                    stream.start()
                    before = [f"before-{i}" for i in range(10)]
                    for sid in before:
                        _create(session, sid)
                    assert stream.wait_for(lambda s: len(_created(s)) >= 10, WAIT)
                    pg.stop("fast")
                    deadline = time.monotonic() + WAIT
                    while events.request("GET", "/readyz")[0] != 503 and time.monotonic() < deadline:
                        time.sleep(0.2)
                    assert events.request("GET", "/readyz")[0] == 503  # the poller saw the database go
                    pg.start()
                    after = [f"after-{i}" for i in range(10)]
                    for sid in after:
                        _create(session, sid, attempts=40)
                    assert stream.wait_for(lambda s: len(_created(s)) >= 20, WAIT), events.tail()
                    time.sleep(1.0)
                    stream.close()
                    assert _created(stream) == before + after
                    assert stream.connections == 1  # the stream stayed open through the restart
                    assert events.request("GET", "/readyz")[0] == 200
                finally:
                    events.kill()
        finally:
            if pg.running():
                pg.stop("immediate")
