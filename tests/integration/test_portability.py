"""Export, import, copy and move of sessions (extension `portability`) on a real PostgreSQL: every row of every
table agno keeps beside a session comes back identical, column by column, in another database with another layout;
refused bundles and interrupted moves leave nothing half-done."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from service.cli import migrate
from service.commands import transfer
from service.core.config import load_settings
from service.rules.bundle import BundleError
from service.storage import portable
from service.storage.registry import open_database
from tests.support.rows import Rows, execute
from tests.support.side_tables import SIDE_TABLES

TARGET_DB = "agno_portable_target"
LAYOUT_B = {"schema": "other", "session_table": "my_sessions", "runs_table": "my_runs"}
BIG = 9007199254740993  # above 2**53: a float would round it


def other_database(url: str, name: str) -> str:
    """The URL of database `name` on the server of `url` (a postgresql:// URL, as the DSN map takes it)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def dbs(pg_dsn: str, make_app):
    """Database `a` (schema ai, agno's names) and an empty database `b` (another schema and table names), both with
    agno's side tables, and an open handle on each."""
    execute(pg_dsn, f"DROP DATABASE IF EXISTS {TARGET_DB}")
    execute(pg_dsn, f"CREATE DATABASE {TARGET_DB}")
    dsn_b = other_database(pg_dsn, TARGET_DB)
    settings = load_settings({"AGNO_SESSION_DSN_MAP": json.dumps({"a": {"dsn": pg_dsn}, "b": {"dsn": dsn_b,
                                                                                              **LAYOUT_B}})})
    migrate(settings)
    execute(pg_dsn, "DROP SCHEMA IF EXISTS fs CASCADE")
    for dsn, schema in ((pg_dsn, "ai"), (dsn_b, "other")):
        for statement in SIDE_TABLES.values():
            execute(dsn, statement.replace("ai.", f"{schema}."))
    handles = {c.db_id: open_database(c, 2, 60) for c in settings.databases}
    yield handles
    for db in handles.values():
        db.close()
    execute(pg_dsn, "DROP SCHEMA IF EXISTS fs CASCADE")
    execute(pg_dsn, f"DROP DATABASE IF EXISTS {TARGET_DB} WITH (FORCE)")


def fill(dsn: str, session_id: str, user_id: str | None = "u1") -> None:
    """A session with awkward values (JSON null beside SQL NULL, a bigint past 2**53, exact decimals, unicode), two
    runs (one without run_index) and one row in each side table, as agno writes them."""
    rows = Rows(dsn)
    try:
        rows.session(session_id, user_id=user_id, component_id="agent-1", created_at=BIG,
                     session_data={"session_name": "Ünïcode ✓", "n": 1}, metadata=None,
                     summary={"summary": "s", "x": [1, 2.5]})
        rows.execute("UPDATE ai.agno_sessions SET agent_data = 'null'::jsonb, "
                     "team_data = '{\"d\": 12345678901234567890.123456789}' WHERE session_id = %s", (session_id,))
        rows.run(session_id, {"run_id": f"{session_id}-r1", "agent_id": "agent-1", "content": "hi\u0000?".replace(
            "\u0000", ""), "messages": [{"role": "user", "content": "Hello"}]}, user_id=user_id, run_index=0)
        rows.run(session_id, {"run_id": f"{session_id}-r2", "agent_id": "agent-1", "content": None},
                 user_id=user_id)
        rows.execute("UPDATE ai.agno_runs SET run_index = NULL WHERE run_id = %s", (f"{session_id}-r2",))
        rows.execute("INSERT INTO ai.agno_transcripts VALUES ('sdk', 'proj', %s, '', 1, NULL, '{\"e\": 1}', %s, 1)",
                     (f"ext-{session_id}", session_id))
        rows.execute("INSERT INTO ai.agno_compactions (compaction_id, session_id, user_id, summary, archived_messages, "
                     "tokens_before, created_at) VALUES (%s, %s, %s, 's', NULL, %s, 1)",
                     (f"cmp-{session_id}", session_id, user_id, BIG))
        namespace, path = f"tool-results/{session_id}", f"results/{session_id}.txt"
        rows.execute("INSERT INTO ai.agno_tool_results VALUES (%s, %s, %s, %s, 'run', 'call', 'tool', 'h', 'text', "
                     "5000, 1, 'preview', %s, 1, NULL)", (f"res-{session_id}", namespace, path, session_id, user_id))
        for partition in ("", user_id or ""):
            rows.execute("INSERT INTO fs.agno_fs VALUES (%s, %s, 'payload ✓', 9, 1, 1, NULL, %s) "
                         "ON CONFLICT DO NOTHING", (namespace, path, partition))
    finally:
        rows.close()


def snapshot(db) -> dict[str, list[str]]:
    """Every row of every bundle table, each as PostgreSQL's row text (column by column: NULL is empty, JSON null
    is `null`), sorted."""
    found = portable.layout(db)
    return {table: [r[0] for r in _rows(db, f"SELECT t::text FROM {'.'.join(found.places[table])} t ORDER BY 1")]
            for table in found.columns}


def _rows(db, statement: str) -> list[tuple]:
    return execute(db.config.dsn, statement)


def export(db, **filters) -> bytes:
    out = io.BytesIO()
    transfer.export_bundle(db, filters, out, io.StringIO(), batch=2)
    return out.getvalue()


def import_(db, tmp_path: Path, data: bytes, on_conflict: str = "skip", dry_run: bool = False):
    path = tmp_path / "bundle.ndjson"
    path.write_bytes(data)
    return transfer.import_bundle(db, path, on_conflict, dry_run, io.StringIO())


def test_export_then_import_into_an_empty_database_gives_identical_rows(dbs, pg_dsn, tmp_path) -> None:
    a, b = dbs["a"], dbs["b"]
    for sid in ("s1", "s2", "s3", "s4", "s5"):
        fill(pg_dsn, sid)
    data = export(a)
    summary = import_(b, tmp_path, data)
    assert summary.outcomes == {"created": 5} and summary.failures == []
    before, after = snapshot(a), snapshot(b)
    assert after == before and len(after["runs"]) == 10 and len(after["tool_result_payloads"]) == 10
    assert any(",null," in row for row in after["sessions"])  # the JSON null came back as JSON null
    # and back again: a bundle of b (another layout) carries the very same session lines
    assert sessions_of(export(b)) == sessions_of(data)


def sessions_of(data: bytes) -> list[dict]:
    """A bundle's session lines without their chain (which starts from the header)."""
    return [{k: v for k, v in json.loads(line).items() if k != "prev"} for line in data.splitlines()[1:-1]]


def test_reimport_skips_replaces_or_fails_and_a_dry_run_writes_nothing(dbs, pg_dsn, tmp_path) -> None:
    a, b = dbs["a"], dbs["b"]
    fill(pg_dsn, "s1")
    fill(pg_dsn, "s2")
    data = export(a)
    assert import_(b, tmp_path, data, dry_run=True).outcomes == {"created": 2}
    assert snapshot(b)["sessions"] == []
    assert import_(b, tmp_path, data).outcomes == {"created": 2}
    assert import_(b, tmp_path, data).outcomes == {"skipped": 2}
    failed = import_(b, tmp_path, data, "fail")
    assert failed.outcomes == {"failed": 2} and "line 2: s1: session 's1' already exists" in failed.failures[0]
    execute(b.config.dsn, "UPDATE other.my_sessions SET summary = NULL")
    assert import_(b, tmp_path, data, "replace").outcomes == {"replaced": 2}
    assert snapshot(b) == snapshot(a)


@pytest.mark.parametrize("damage, line, words", [
    (lambda lines: lines[:-1], 5, "truncated"),  # the trailer is missing
    (lambda lines: lines[:-1] + [lines[-1][:20]], 5, "cut off"),  # the trailer is cut in the middle
    (lambda lines: lines[:2] + lines[3:], 3, "lines were removed or added"),  # a session line dropped
    (lambda lines: lines[:2] + [lines[2].replace(b"preview", b"PREVIEW")] + lines[3:], 4, "line 3 was changed"),
    (lambda lines: lines[:-1] + [lines[-1].replace(b'"sessions":3', b'"sessions":4')], 5, "missing or added"),
    (lambda lines: lines[:-1] + [lines[-1].replace(b'"sha256":"', b'"sha256":"0')], 5, "was changed"),
])
def test_a_damaged_bundle_is_refused_by_line_and_nothing_is_written(dbs, pg_dsn, tmp_path, damage, line,
                                                                     words) -> None:
    a, b = dbs["a"], dbs["b"]
    for sid in ("s1", "s2", "s3"):
        fill(pg_dsn, sid)
    lines = export(a).splitlines(keepends=True)
    with pytest.raises(BundleError) as refused:
        import_(b, tmp_path, b"".join(damage(lines)))
    assert refused.value.line == line and words in refused.value.message
    assert all(rows == [] for rows in snapshot(b).values())


def test_a_gzip_bundle_round_trips_and_a_cut_one_is_refused(dbs, pg_dsn, tmp_path) -> None:
    import gzip

    a, b = dbs["a"], dbs["b"]
    fill(pg_dsn, "s1")
    packed = gzip.compress(export(a))
    with pytest.raises(BundleError, match="gzip stream is damaged or cut off"):
        import_(b, tmp_path, packed[:-12])
    assert snapshot(b)["sessions"] == []
    assert import_(b, tmp_path, packed).outcomes == {"created": 1}


def test_export_filters(dbs, pg_dsn) -> None:
    a = dbs["a"]
    for sid, user in (("s1", "u1"), ("s2", "u2"), ("s3", "u1")):
        fill(pg_dsn, sid, user)
    ids = lambda data: [json.loads(x)["session_id"] for x in data.splitlines()[1:-1]]  # noqa: E731
    assert ids(export(a, user_id="u1")) == ["s1", "s3"]
    assert ids(export(a, session_ids=["s2", "s3", "nope"])) == ["s2", "s3"]
    assert ids(export(a, created_after=BIG + 1)) == []


STAGES = ("before-commit", "committed", "before-delete", "deleted")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("at", [0, 2])
def test_an_interrupted_move_leaves_every_session_in_one_place_or_both(dbs, pg_dsn, stage, at) -> None:
    a, b = dbs["a"], dbs["b"]
    ids = ["s1", "s2", "s3", "s4", "s5"]
    for sid in ids:
        fill(pg_dsn, sid)
    original = snapshot(a)
    seen = []

    def crash(name: str, session_ids: list[str]) -> None:
        if name == stage:
            seen.append(session_ids)
            if len(seen) > at:
                raise KeyboardInterrupt  # the process dies here: nothing after this point runs

    with pytest.raises(KeyboardInterrupt):
        transfer.copy_sessions(a, b, {}, True, io.StringIO(), batch=2, checkpoint=crash)
    where = {sid: (_has(a, sid), _has(b, sid)) for sid in ids}
    assert all(in_a or in_b for in_a, in_b in where.values()), where
    # a rerun resumes: everything ends in b exactly as it was in a
    summary = transfer.copy_sessions(a, b, {}, True, io.StringIO(), batch=2)
    assert summary.failures == []
    assert snapshot(b) == original and all(rows == [] for rows in snapshot(a).values())


def _has(db, session_id: str) -> bool:
    return bool(portable.export_batch(db, portable.layout(db), {"session_ids": [session_id]}, "", 1))


@pytest.mark.parametrize("write", [
    "UPDATE ai.agno_sessions SET summary = '{\"summary\": \"later\"}' WHERE session_id = 's2'",
    "UPDATE ai.agno_runs SET run_data = '{\"run_id\": \"s2-r1\", \"content\": \"later\"}' WHERE run_id = 's2-r1'",
])
def test_a_move_keeps_a_session_written_after_its_copy(dbs, pg_dsn, write) -> None:
    a, b = dbs["a"], dbs["b"]
    for sid in ("s1", "s2", "s3"):
        fill(pg_dsn, sid)

    def agno_writes(name: str, _ids: list[str]) -> None:
        if name == "before-delete":  # copied and committed in b; the source is written before it is deleted
            execute(pg_dsn, write)

    summary = transfer.copy_sessions(a, b, {}, True, io.StringIO(), checkpoint=agno_writes)
    assert summary.removed == 2 and len(summary.failures) == 1 and summary.failures[0].startswith("s2: changed")
    assert [_has(a, sid) for sid in ("s1", "s2", "s3")] == [False, True, False]  # the write is not lost
    assert all(_has(b, sid) for sid in ("s1", "s2", "s3"))


def test_a_legal_hold_keeps_a_moved_session_in_the_source_and_refuses_its_replacement(dbs, pg_dsn, tmp_path) -> None:
    a, b = dbs["a"], dbs["b"]
    migrate(load_settings({"AGNO_SESSION_DSN_MAP": json.dumps({"a": {"dsn": pg_dsn}})}), lifecycle=True)
    for sid in ("s1", "s2"):
        fill(pg_dsn, sid)
    bundle = export(a)
    execute(pg_dsn, "INSERT INTO ai.agno_sessions_svc_holds (session_id, reason, held_at) VALUES ('s2', 'court', 0)")
    replaced = import_(a, tmp_path, bundle, on_conflict="replace")
    assert replaced.outcomes["replaced"] == 1 and replaced.failures == ["line 3: s2: session 's2' is under a legal "
                                                                       "hold: it is not replaced"]
    summary = transfer.copy_sessions(a, b, {}, True, io.StringIO())
    assert summary.removed == 1 and summary.failures == ["s2: under a legal hold in the source; copied, kept in both "
                                                         "databases"]
    assert [_has(a, "s1"), _has(a, "s2"), _has(b, "s1"), _has(b, "s2")] == [False, True, True, True]


def test_a_move_never_deletes_a_session_the_target_holds_differently(dbs, pg_dsn, tmp_path) -> None:
    a, b = dbs["a"], dbs["b"]
    fill(pg_dsn, "s1")
    import_(b, tmp_path, export(a))
    execute(b.config.dsn, "UPDATE other.my_sessions SET summary = NULL")
    summary = transfer.copy_sessions(a, b, {}, True, io.StringIO())
    assert summary.removed == 0 and "different session" in summary.failures[0]
    assert _has(a, "s1")


def test_every_line_of_a_bundle_is_valid_against_the_documented_schema(dbs, pg_dsn) -> None:
    import jsonschema  # locked in the test environment (schemathesis's validator)

    schema = json.loads((Path(__file__).parents[2] / "docs" / "bundle.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    fill(pg_dsn, "s1")
    fill(pg_dsn, "s2", None)
    lines = [json.loads(x) for x in export(dbs["a"], user_id=None).splitlines()]
    assert [line["kind"] for line in lines] == ["header", "session", "session", "trailer"]
    for line in lines:
        validator.validate(line)
    broken = {**lines[1], "rows": {**lines[1]["rows"], "runs": [{"run_id": 5}]}}  # a cell that is not text
    assert not validator.is_valid(broken)
