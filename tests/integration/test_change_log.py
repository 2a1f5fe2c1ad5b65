"""The change log (`migrate --changes`): every write to agno's tables appends its changes in the writer's
transaction, a read never skips a change whose transaction committed after a later one, a position resumes without
loss or repeat, filters and isolation narrow what is read without losing the place, retention prunes a prefix and
turns older cursors into 410s, and `check` and `--drop-changes` see and remove all of it."""

from __future__ import annotations

import io
import time

import psycopg2
import pytest

from service.cli import check, migrate
from service.core.config import load_settings
from service.storage import changes
from service.storage.changes import ChangeFilters, Position
from service.storage.registry import open_database

TABLE = "ai.agno_sessions_svc_changes"


def settings(pg_dsn: str, **env: str):
    return load_settings({"AGNO_PG_DSN": pg_dsn, **env})


def install(pg_dsn: str, **kwargs) -> str:
    out = io.StringIO()
    migrate(settings(pg_dsn), changes=True, out=out, **kwargs)
    return out.getvalue()


@pytest.fixture
def db(app, pg_dsn):
    install(pg_dsn)
    handle = open_database(settings(pg_dsn).databases[0], 4, 30.0)
    yield handle
    handle.close()


def connect(pg_dsn: str):
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = False
    return conn


def everything(db, after: Position, filters: ChangeFilters | None = None, limit: int = 1000) -> tuple[list, Position]:
    """Read pages until the feed has nothing more; the events and the position to resume from."""
    found = []
    while True:
        page = changes.read(db, after, limit, filters or ChangeFilters())
        found += page.events
        after = page.next
        if not page.has_more:
            return found, after


def summary(events: list[dict]) -> list[tuple]:
    return [(e["op"], e["session_id"], e["run_id"], tuple(e["changed"] or ())) for e in events]


def test_migrate_installs_once_and_check_reports_it(app, pg_dsn, capsys):
    first = install(pg_dsn)
    assert "tables ai.agno_sessions_svc_changes and ai.agno_sessions_svc_changes_state: created" in first
    assert "triggers" in first and "created" in first
    second = install(pg_dsn)
    assert "0 changed" in second, second
    assert check(settings(pg_dsn)) == 0
    assert "change log ok" in capsys.readouterr().out


def test_every_write_is_recorded_with_the_keys_it_changed(db, rows):
    start = changes.head(db)
    rows.session("s1", "agent", component_id="agent-1", user_id="u1", session_data={"session_name": "a"})
    rows.run("s1", {"run_id": "r1", "agent_id": "agent-1", "status": "RUNNING"})
    rows.execute("UPDATE ai.agno_runs SET status = 'COMPLETED' WHERE run_id = 'r1'")
    rows.execute("UPDATE ai.agno_sessions SET session_data = jsonb_set(session_data, '{session_name}', '\"b\"'), "
                 "metadata = '{\"k\": 1}' WHERE session_id = 's1'")
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 's1'")  # cascades to the run
    events, _ = everything(db, start)
    assert summary(events) == [
        ("session.created", "s1", None, ()),
        ("run.created", "s1", "r1", ()),
        ("run.updated", "s1", "r1", ("status",)),
        ("session.updated", "s1", None, ("name", "metadata")),
        ("session.deleted", "s1", None, ()),
        ("run.deleted", "s1", "r1", ()),  # agno's foreign key cascades after the session's delete
    ]
    created = events[0]
    assert (created["user_id"], created["session_type"], created["component_id"]) == ("u1", "agent", "agent-1")
    assert events[1]["user_id"] == "u1" and events[5]["session_type"] == "agent"  # a run carries its session's
    assert all(isinstance(e["at"], int) and e["at"] > 1_600_000_000_000 for e in events)  # epoch milliseconds


def test_a_late_commit_is_never_skipped(db, rows, pg_dsn):
    """T1 writes first and commits last; T2 commits in between: a reader that has passed T2 still gets T1's change,
    and never before T1 has committed (a reader after 'greater seq than seen' would have lost it)."""
    rows.session("s0", "agent")
    start = changes.head(db)
    slow, fast = connect(pg_dsn), connect(pg_dsn)
    try:
        with slow.cursor() as cur:
            cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES ('slow', "
                        "'agent', 1)")
        with fast.cursor() as cur:
            cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES ('fast', "
                        "'agent', 1)")
        fast.commit()
        seen, after = everything(db, start)
        assert seen == []  # 'fast' committed, but an older transaction is still open: held back, not skipped
        slow.commit()
        later, _ = everything(db, after)
        assert [e["session_id"] for e in later] == ["slow", "fast"]  # in transaction order
    finally:
        slow.close()
        fast.close()


def test_an_aborted_write_leaves_no_change(db, pg_dsn):
    start = changes.head(db)
    conn = connect(pg_dsn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ai.agno_sessions (session_id, session_type, created_at) VALUES ('gone', 'agent', 1)")
    conn.rollback()
    conn.close()
    assert everything(db, start)[0] == []


def test_pages_resume_without_loss_or_repeat(db, rows):
    start = changes.head(db)
    for i in range(25):
        rows.session(f"s{i:02d}", "agent")
    seen, after = [], start
    while True:
        page = changes.read(db, after, 4, ChangeFilters())
        assert len(page.events) <= 4
        seen += [e["session_id"] for e in page.events]
        after = page.next
        if not page.has_more:
            break
    assert seen == [f"s{i:02d}" for i in range(25)]
    assert changes.read(db, after, 4, ChangeFilters()).events == []


def test_filters_narrow_and_still_advance_past_what_did_not_match(db, rows):
    start = changes.head(db)
    rows.session("a1", "agent", component_id="agent-1", user_id="u1")
    rows.session("t1", "team", component_id="team-1", user_id="u2")
    rows.run("a1", {"run_id": "r1", "agent_id": "agent-1"}, user_id="u1")
    cases = {
        ChangeFilters(type="team"): ["t1"],
        ChangeFilters(component_id="agent-1"): ["a1", "a1"],
        ChangeFilters(user_id="u2"): ["t1"],
        ChangeFilters(owner="u1"): ["a1", "a1"],
        ChangeFilters(session_id="a1", events=("run.created",)): ["a1"],
        ChangeFilters(owner="nobody"): [],
    }
    for filters, expected in cases.items():
        events, after = everything(db, start, filters)
        assert [e["session_id"] for e in events] == expected, filters
        assert after >= changes.head(db) or after.txid >= start.txid
    # a filter matching nothing still moves the position to the horizon: the next read looks at nothing old
    page = changes.read(db, start, 10, ChangeFilters(owner="nobody"))
    assert page.events == [] and not page.has_more and page.next > start


def test_a_bounded_scan_reports_more_and_resumes(db, rows):
    start = changes.head(db)
    for i in range(12):
        rows.session(f"x{i:02d}", "agent", user_id="other")
    rows.session("mine", "agent", user_id="me")
    page = changes.read(db, start, 5, ChangeFilters(owner="me"), scan=6)
    assert page.events == [] and page.has_more  # six looked at, none matched: more to look at
    events, _ = everything(db, page.next, ChangeFilters(owner="me"))
    assert [e["session_id"] for e in events] == ["mine"]


def test_rows_are_immutable(db, rows):
    rows.session("s1", "agent")
    with pytest.raises(psycopg2.Error, match="immutable"):
        rows.execute(f"UPDATE {TABLE} SET op = 'session.deleted'")


def test_retention_prunes_a_prefix_and_refuses_a_cursor_before_it(db, rows):
    cursor = changes.head(db)  # a client's position before the writes below
    rows.session("old1", "agent")
    rows.session("old2", "agent")
    assert changes.read(db, cursor, 10, ChangeFilters(), resuming=True).events  # resumable while nothing is pruned
    rows.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")  # age the first two (UPDATE is otherwise refused)
    rows.execute(f"UPDATE {TABLE} SET at = at - 8 * 86400 * 1000")
    rows.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
    rows.session("new1", "agent")
    now = int(time.time() * 1000)
    assert changes.prune(db, 7 * 86400, now, batch=1) == 1
    assert changes.prune(db, 7 * 86400, now) == 1
    assert changes.prune(db, 7 * 86400, now) == 0  # the young one stays
    with pytest.raises(changes.CursorGone):  # what followed the cursor was pruned
        changes.read(db, cursor, 10, ChangeFilters(), resuming=True)
    [(txid, seq)] = rows.execute(f"SELECT pruned_txid::text, pruned_seq FROM {TABLE}_state")
    left, _ = everything(db, Position(int(txid), seq))  # the log now begins after the pruned prefix
    assert [e["session_id"] for e in left] == ["new1"]
    assert changes.read(db, cursor, 10, ChangeFilters()).events  # the poller's own reads are not refused


def test_drop_changes_removes_everything(db, rows, pg_dsn):
    out = io.StringIO()
    migrate(settings(pg_dsn), drop_changes=True, out=out)
    assert "change log ai.agno_sessions_svc_changes: dropped" in out.getvalue()
    assert not changes.installed(db)
    assert rows.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'agno_sessions_svc_changes%%'") == [(0,)]
    rows.session("after-drop", "agent")  # agno's writes work as before
    with pytest.raises(changes.ChangesMissing):
        changes.read(db, None, 10, ChangeFilters())
