"""Deleting sessions removes what agno 3.1.10 keeps beside them: offloaded tool results and their payloads,
external-agent transcripts and compaction records, when those tables exist (agno PostgresDb.delete_session(s))."""

from __future__ import annotations

import pytest

from tests.support.rows import Rows
from tests.support.side_tables import SIDE_TABLES

OWNERS = {  # the session ids that still have rows in each table (payload namespaces end in the id here)
    "transcripts": "SELECT DISTINCT agno_session_id FROM ai.agno_transcripts ORDER BY 1",
    "compactions": "SELECT DISTINCT session_id FROM ai.agno_compactions ORDER BY 1",
    "tool_results": "SELECT DISTINCT session_id FROM ai.agno_tool_results ORDER BY 1",
    "payloads": "SELECT DISTINCT substr(namespace, 14) FROM fs.agno_fs ORDER BY 1",
}
BODY = {"session_types": ["agent", "agent", "agent"]}


@pytest.fixture
def side(rows):
    """Create some or all of agno's side tables (fs dropped before and after), and write rows into them."""
    rows.execute("DROP SCHEMA IF EXISTS fs CASCADE")

    class Side:
        def create(self, *names: str) -> None:
            for name in names or tuple(SIDE_TABLES):
                rows.execute(SIDE_TABLES[name])

        def fill(self, session_id: str, user_id: str | None) -> None:
            """What agno writes for one session: two transcript entries, a compaction, an offloaded result."""
            existing = self.present()
            if "transcripts" in existing:
                for position in (1, 2):
                    rows.execute("INSERT INTO ai.agno_transcripts VALUES ('claude-agent-sdk', 'proj', %s, '', %s, "
                                 "NULL, '{}', %s, 1)", (f"ext-{session_id}", position, session_id))
            if "compactions" in existing:
                rows.execute("INSERT INTO ai.agno_compactions (compaction_id, session_id, user_id, summary, "
                             "created_at) VALUES (%s, %s, %s, 's', 1)", (f"cmp-{session_id}", session_id, user_id))
            namespace, path = f"tool-results/{session_id}", f"results/run/res-{session_id}.txt"
            if "tool_results" in existing:
                rows.execute("INSERT INTO ai.agno_tool_results VALUES (%s, %s, %s, %s, 'run', 'call', 'tool', "
                             "'h', 'text', 5000, 1, 'preview', %s, 1, NULL)",
                             (f"res-{session_id}", namespace, path, session_id, user_id))
            if "payloads" in existing:
                for partition in ("", "someone"):  # agno deletes by (namespace, path): every user partition
                    rows.execute("INSERT INTO fs.agno_fs VALUES (%s, %s, 'x', 1, 1, 1, NULL, %s)",
                                 (namespace, path, partition))

        def present(self) -> list[str]:
            found = rows.execute("SELECT to_regclass('ai.agno_transcripts'), to_regclass('ai.agno_compactions'), "
                                 "to_regclass('ai.agno_tool_results'), to_regclass('fs.agno_fs')")[0]
            return [name for name, oid in zip(SIDE_TABLES, found, strict=True) if oid is not None]

        def owners(self) -> dict[str, list[str]]:
            """Which session ids still have rows, per side table that exists."""
            return {name: [r[0] for r in rows.execute(OWNERS[name])] for name in self.present()}

    yield Side()
    rows.execute("DROP SCHEMA IF EXISTS fs CASCADE")


def sessions(rows, *owned: tuple[str, str | None]) -> None:
    for sid, user in owned:
        rows.session(sid, "agent", user_id=user)
        rows.run(sid, {"run_id": f"run-{sid}", "agent_id": "basic-agent"}, user_id=user)


def fill_all(side, *owned: tuple[str, str | None]) -> None:
    for sid, user in owned:
        side.fill(sid, user)


def test_single_delete_cascades_only_for_the_session_it_deletes(client, rows, side) -> None:
    side.create()
    sessions(rows, ("s1", "u1"), ("s2", "u2"))
    fill_all(side, ("s1", "u1"), ("s2", "u2"), ("orphan", "u1"))  # orphan: side rows, no session row
    everything = {name: ["orphan", "s1", "s2"] for name in SIDE_TABLES}
    assert side.owners() == everything

    assert client.delete("/sessions/s1?user_id=u2").status_code == 204  # another user's session: nothing
    assert client.delete("/sessions/orphan").status_code == 204  # no session row: agno returns before cascading
    assert side.owners() == everything and rows.session_row("s1") is not None

    assert client.delete("/sessions/s1?user_id=u1").status_code == 204
    assert rows.session_row("s1") is None and rows.run_ids("s1") == []
    assert side.owners() == {name: ["orphan", "s2"] for name in SIDE_TABLES}
    assert rows.execute("SELECT count(*) FROM fs.agno_fs")[0][0] == 4  # both partitions of s1's payload went

    assert client.delete("/sessions/s2").status_code == 204
    assert side.owners() == {name: ["orphan"] for name in SIDE_TABLES}


def test_bulk_delete_cascades_only_for_the_sessions_it_deletes(client, rows, side) -> None:
    side.create()
    sessions(rows, ("s1", "u1"), ("s2", "u2"), ("s3", "u1"))
    fill_all(side, ("s1", "u1"), ("s2", "u2"), ("s3", "u1"), ("orphan", "u1"))

    scoped = client.delete("/sessions?user_id=u1", json={"session_ids": ["s1", "s2", "orphan"], **BODY})
    assert scoped.status_code == 204
    assert side.owners() == {name: ["orphan", "s2", "s3"] for name in SIDE_TABLES}

    # Without user_id AgentOS also clears side rows of requested ids that have no session row (declared deviation
    # bulk-delete-orphans); this service cascades for the sessions it deleted only.
    unscoped = client.delete("/sessions", json={"session_ids": ["s2", "orphan", "missing"], **BODY})
    assert unscoped.status_code == 204
    assert [r[0] for r in rows.execute("SELECT session_id FROM ai.agno_sessions")] == ["s3"]
    assert side.owners() == {name: ["orphan", "s3"] for name in SIDE_TABLES}


@pytest.mark.parametrize("present", [(), ("transcripts",), ("compactions",), ("tool_results",),
                                     ("tool_results", "payloads"), ("payloads",), ("transcripts", "compactions")])
def test_missing_side_tables_are_skipped(client, rows, side, present: tuple[str, ...]) -> None:
    if present:
        side.create(*present)
    sessions(rows, ("s1", "u1"), ("s2", "u1"), ("s3", "u1"), ("keep", "u1"))
    fill_all(side, ("s1", "u1"), ("s2", "u1"), ("s3", "u1"), ("keep", "u1"))
    assert client.delete("/sessions/s1").status_code == 204
    assert client.delete("/sessions?user_id=u1", json={"session_ids": ["s2", "s3", "x"], **BODY}).status_code == 204
    assert [r[0] for r in rows.execute("SELECT session_id FROM ai.agno_sessions")] == ["keep"]
    expected = {name: ["keep"] for name in present if name != "payloads"}
    if "payloads" in present:  # payloads are found through the index rows only
        expected["payloads"] = ["keep"] if "tool_results" in present else ["keep", "s1", "s2", "s3"]
    assert side.owners() == expected


def test_tables_created_after_a_delete_are_cascaded_into(client, rows, side) -> None:
    sessions(rows, ("s1", None), ("s2", None))
    assert client.delete("/sessions/s1").status_code == 204  # no side table yet
    side.create()
    fill_all(side, ("s2", None))
    assert client.delete("/sessions", json={"session_ids": ["s2"], "session_types": ["team"]}).status_code == 204
    assert side.owners() == {name: [] for name in SIDE_TABLES}


def test_the_cascade_shares_the_session_delete_transaction(client, rows, side) -> None:
    side.create()
    sessions(rows, ("s1", "u1"))
    fill_all(side, ("s1", "u1"))
    rows.execute("CREATE FUNCTION ai.refuse() RETURNS trigger LANGUAGE plpgsql AS "
                 "$$BEGIN RAISE EXCEPTION 'refused'; END$$")
    rows.execute("CREATE TRIGGER refuse BEFORE DELETE ON fs.agno_fs FOR EACH ROW EXECUTE FUNCTION ai.refuse()")
    assert client.delete("/sessions/s1").status_code == 500
    assert rows.session_row("s1") is not None and rows.run_ids("s1") == ["run-s1"]
    assert side.owners() == {name: ["s1"] for name in SIDE_TABLES}


def test_side_tables_live_in_the_configured_schema_under_agnos_fixed_names(make_app, pg_dsn) -> None:
    client = make_app(AGNO_DB_SCHEMA="ai2", AGNO_SESSION_TABLE="custom_sessions").test_client()
    other = Rows(pg_dsn, schema="ai2", sessions="custom_sessions", runs="custom_sessions_runs")
    try:
        other.execute("CREATE SCHEMA IF NOT EXISTS ai")
        for schema in ("ai", "ai2"):
            other.execute(SIDE_TABLES["compactions"].replace("ai.", f"{schema}."))
            other.execute(f"INSERT INTO {schema}.agno_compactions (compaction_id, session_id, created_at) "
                          "VALUES ('cmp', 'shared', 1)")
        other.session("shared", "agent", user_id="u1")
        assert client.delete("/sessions/shared").status_code == 204
        assert other.execute("SELECT count(*) FROM ai2.agno_compactions")[0][0] == 0
        assert other.execute("SELECT count(*) FROM ai.agno_compactions")[0][0] == 1
    finally:
        other.close()
