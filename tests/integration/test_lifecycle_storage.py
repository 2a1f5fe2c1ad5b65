"""The lifecycle's foundation on a real PostgreSQL: `migrate --lifecycle` creates the archive, hold and erasure
tables from agno's (and gives the archives columns agno's tables gain later), and archive_in / restore_in /
purge_archived_in move rows column by column, refuse held sessions, and purge with AgentOS's cascade."""

from __future__ import annotations

import io

import pytest
from psycopg2.extras import Json

from service.cli import migrate
from service.storage import lifecycle
from service.storage.errors import RunConflict
from service.storage.migration import DdlConnection, LifecycleOptions, plan

ARCHIVED, ARCHIVED_RUNS = "ai.agno_sessions_svc_archived_sessions", "ai.agno_sessions_svc_archived_runs"
HOLDS, ERASURES = "ai.agno_sessions_svc_holds", "ai.agno_sessions_svc_erasures"
NOW = 1_800_000_000


@pytest.fixture
def db(app):
    """The app's database with the lifecycle's tables installed."""
    migrate(app.config["SETTINGS"], lifecycle=True)
    return app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)


def texts(rows, table: str, key: str, session_id: str) -> list[str]:
    """Every column of a table's rows for one session, as PostgreSQL's row text (JSON null `null`, SQL NULL empty)."""
    return [r[0] for r in rows.execute(f"SELECT t::text FROM {table} t WHERE session_id = %s ORDER BY {key}",
                                       (session_id,))]


def live(rows, session_id: str) -> tuple[list[str], list[str]]:
    return texts(rows, "ai.agno_sessions", "session_id", session_id), texts(rows, "ai.agno_runs", "run_id", session_id)


def write(rows, session_id: str, user_id: str | None = "u1", runs: int = 3) -> None:
    """A session with JSON null next to SQL NULL, and runs."""
    rows.session(session_id, component_id="bot", user_id=user_id, session_data={"session_name": "n"},
                 metadata=None, summary={"a": None})
    rows.execute("UPDATE ai.agno_sessions SET team_data = 'null'::jsonb WHERE session_id = %s", (session_id,))
    for i in range(runs):
        rows.run(session_id, {"run_id": f"{session_id}-r{i}", "agent_id": "bot", "content": None, "n": i},
                 user_id=user_id)


def in_transaction(db, work):
    with db.transaction() as cur:
        return work(cur)


def test_migrate_creates_the_tables_from_agnos_and_a_second_run_changes_nothing(app, rows) -> None:
    out = io.StringIO()
    migrate(app.config["SETTINGS"], lifecycle=True, out=out)
    assert "tables ai.agno_sessions_svc_archived_sessions" in out.getvalue() and ": created" in out.getvalue()
    columns = rows.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                           "WHERE table_schema = 'ai' AND table_name = 'agno_sessions_svc_archived_sessions' "
                           "ORDER BY ordinal_position")
    agno = rows.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                        "WHERE table_schema = 'ai' AND table_name = 'agno_sessions' ORDER BY ordinal_position")
    assert columns == agno + [("archived_at", "bigint", "NO"), ("archived_by", "text", "YES"),
                              ("reason", "text", "YES")]
    for table in (ARCHIVED_RUNS, HOLDS, ERASURES):
        assert rows.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)) == [(True,)]
    again = io.StringIO()
    migrate(app.config["SETTINGS"], lifecycle=True, out=again)
    assert "0 changed" in again.getvalue()


def test_archive_then_restore_keeps_every_column_as_it_was(db, rows) -> None:
    write(rows, "s1")
    write(rows, "s2")
    before = live(rows, "s1")
    assert in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1", "nope"], None, "admin", "tidy", NOW)) \
        == ["s1"]
    assert live(rows, "s1") == ([], [])
    assert rows.execute(f"SELECT archived_at, archived_by, reason FROM {ARCHIVED}") == [(NOW, "admin", "tidy")]
    assert rows.execute(f"SELECT count(*) FROM {ARCHIVED_RUNS}") == [(3,)]
    assert live(rows, "s2")[1]  # another session's runs stay
    assert in_transaction(db, lambda cur: lifecycle.restore_in(db, cur, "s1", None)) is True
    assert live(rows, "s1") == before
    assert rows.execute(f"SELECT count(*) FROM {ARCHIVED}") == [(0,)]
    assert rows.execute(f"SELECT count(*) FROM {ARCHIVED_RUNS}") == [(0,)]


def test_a_foreign_user_moves_nothing_and_restore_of_a_missing_id_is_false(db, rows) -> None:
    write(rows, "s1", user_id="u1")
    assert in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1"], "u2", None, None, NOW)) == []
    assert live(rows, "s1")[0]
    in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1"], "u1", None, None, NOW))
    assert in_transaction(db, lambda cur: lifecycle.restore_in(db, cur, "s1", "u2")) is False
    assert in_transaction(db, lambda cur: lifecycle.restore_in(db, cur, "s9", None)) is False


def test_a_held_session_is_refused_before_anything_moves(db, rows) -> None:
    write(rows, "s1")
    write(rows, "s2")
    rows.execute(f"INSERT INTO {HOLDS} VALUES ('s2', 'litigation', NULL, 'legal', 1), "
                 f"('s1', 'over', {NOW}, 'legal', 1)")  # s1's hold ended at NOW
    before = rows.snapshot()
    with pytest.raises(lifecycle.SessionHeld) as refused:
        in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1", "s2"], None, None, None, NOW))
    assert refused.value.session_ids == ["s2"]
    assert rows.snapshot() == before
    assert in_transaction(db, lambda cur: lifecycle.held_ids(db, cur, ["s1", "s2", "s3"], NOW - 1)) == {"s1", "s2"}


def test_restore_refuses_a_reused_id_and_taken_run_ids(db, rows) -> None:
    write(rows, "s1")
    in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1"], None, None, None, NOW))
    rows.session("s1")
    with pytest.raises(lifecycle.SessionExists):
        in_transaction(db, lambda cur: lifecycle.restore_in(db, cur, "s1", None))
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 's1'")
    rows.session("other")
    rows.run("other", {"run_id": "s1-r1", "agent_id": "bot"})
    with pytest.raises(RunConflict) as conflict:
        in_transaction(db, lambda cur: lifecycle.restore_in(db, cur, "s1", None))
    assert conflict.value.run_ids == ["s1-r1"]
    assert live(rows, "s1") == ([], []) and rows.execute(f"SELECT count(*) FROM {ARCHIVED_RUNS}") == [(3,)]


def test_purge_deletes_the_archive_and_agnos_related_rows(db, rows) -> None:
    rows.execute("CREATE TABLE ai.agno_compactions (compaction_id varchar PRIMARY KEY, session_id varchar NOT NULL, "
                 "created_at bigint NOT NULL)")
    for sid in ("s1", "s2"):
        write(rows, sid)
        rows.execute("INSERT INTO ai.agno_compactions VALUES (%s, %s, 1)", (f"c-{sid}", sid))
    in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1", "s2"], None, None, None, NOW))
    assert rows.execute("SELECT count(*) FROM ai.agno_compactions") == [(2,)]  # related rows stay while archived
    rows.execute(f"INSERT INTO {HOLDS} VALUES ('s2', 'litigation', NULL, 'legal', 1)")
    with pytest.raises(lifecycle.SessionHeld):
        in_transaction(db, lambda cur: lifecycle.purge_archived_in(db, cur, ["s1", "s2"], None))
    assert in_transaction(db, lambda cur: lifecycle.purge_archived_in(db, cur, ["s1", "missing"], "u1")) == ["s1"]
    assert rows.execute("SELECT session_id FROM ai.agno_compactions") == [("s2",)]
    assert rows.execute(f"SELECT DISTINCT session_id FROM {ARCHIVED_RUNS}") == [("s2",)]
    assert in_transaction(db, lambda cur: lifecycle.purge_archived_in(db, cur, ["s2"], None, override_holds=True)) \
        == ["s2"]


def test_a_column_agno_adds_later_reaches_the_archive_on_the_next_migrate(db, app, rows) -> None:
    rows.execute("ALTER TABLE ai.agno_sessions ADD COLUMN extra jsonb")
    write(rows, "s1")
    rows.execute("UPDATE ai.agno_sessions SET extra = %s", (Json({"k": [1, None]}),))
    with pytest.raises(lifecycle.LifecycleMissing):
        in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1"], None, None, None, NOW))
    conn = DdlConnection(db.config.dsn, "x", 30, 2)
    try:
        steps = plan(db, conn, False, lifecycle=LifecycleOptions(install=True)).steps
    finally:
        conn.close()
    assert [s.action for s in steps if s.name == ARCHIVED] == ["extend"]
    migrate(app.config["SETTINGS"], lifecycle=True)
    before = live(rows, "s1")
    in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1"], None, None, None, NOW))
    in_transaction(db, lambda cur: lifecycle.restore_in(db, cur, "s1", None))
    assert live(rows, "s1") == before


def test_without_migrate_the_moves_say_so(app) -> None:
    db = app.config["REGISTRY"].get(app.config["SETTINGS"].default_db_id)
    assert lifecycle.installed(db) is False
    with pytest.raises(lifecycle.LifecycleMissing):
        in_transaction(db, lambda cur: lifecycle.archive_in(db, cur, ["s1"], None, None, None, NOW))
