"""The search index (`migrate --search`): agno's content rule on every stored shape, total over hostile run_data,
triggers that keep the table equal to a full re-extraction under every kind of write, a resumable backfill that
loses and doubles nothing written meanwhile, `check`'s report, and a removal that leaves the catalog as it was."""

from __future__ import annotations

import io
import json
import logging

import pytest

from service.cli import check, migrate
from service.core.config import load_settings
from service.core.logs import LOGGER
from service.rules.render.messages import history_messages
from service.storage import migration, search_index
from tests.support.log_capture import Capture
from tests.support.search_rows import TABLE, assert_current, drain


def settings(pg_dsn: str, **env: str):
    return load_settings({"AGNO_PG_DSN": pg_dsn, **env})


def install(pg_dsn: str, **kwargs) -> str:
    out = io.StringIO()
    migrate(settings(pg_dsn), search=True, out=out, **kwargs)
    return out.getvalue()


def message(role: str, content, **extra) -> dict:
    return {"role": role, "content": content, **extra}


def agent_run(run_id: str, messages, **extra) -> dict:
    return {"run_id": run_id, "agent_id": "agent-1", "messages": messages, "created_at": 1767225610, **extra}


def raw_run(rows, run_id: str, session_id: str, run_data_json: str, created_at: int = 1767225610) -> None:
    """A run whose run_data is any JSON text, written through plain SQL as any writer could."""
    rows.execute("INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_data, created_at) "
                 "VALUES (%s, %s, 'agent', %s::jsonb, %s)", (run_id, session_id, run_data_json, created_at))


# agno's Message.get_content_string() over each content shape agno stores, and what is indexed of it.
CONTENT_CASES = [
    ("a string", "plain words here", "plain words here"),
    ("text parts", [{"type": "text", "text": "first part"}, {"type": "text", "text": "second part"}], "first part"),
    ("a part whose text is not a string", [{"text": 42}], "42"),
    ("a part whose text is null", [{"text": None}], None),
    ("parts without text", [{"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}],
     json.dumps([{"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}])),
    ("a list of strings", ["loose", "strings"], json.dumps(["loose", "strings"])),
    ("an empty list", [], None),
    ("an empty string", "", None),
    ("null", None, None),
    ("a number", 7, None),
    ("an object", {"text": "not a list"}, None),
    ("a boolean", True, None),
]


def test_extraction_follows_agnos_content_rule_on_every_shape(make_app, pg_dsn, rows):
    make_app()
    install(pg_dsn)
    rows.session("s1", "agent", component_id="agent-1", user_id="u1")
    messages = [message("user", content) for _, content, _ in CONTENT_CASES]
    rows.run("s1", agent_run("r1", messages))
    drain(pg_dsn)
    found = {position: document for position, document in rows.execute(
        f"SELECT position, strip(document)::text FROM {TABLE} WHERE run_id = 'r1'")}
    for position, (shape, _, text) in enumerate(CONTENT_CASES):
        if text is None:
            assert position not in found, f"{shape}: nothing to search, no row"
            continue
        (expected,) = rows.execute("SELECT strip(to_tsvector('simple', %s))::text", (text,))[0]
        assert found.get(position) == expected, shape


# Messages chat_history shows and those it does not, with the stored fields a hit carries.
SHOWN_CASES = [
    message("system", "system words"),
    message("user", "user words", id="m-user", created_at=1767225700),
    message("assistant", "assistant words", id="", created_at=1767225701.0),
    message("tool", "tool words"),
    message("user", "history words", from_history=True),
    message("user", "history string words", from_history="yes"),
    message("user", "not history words", from_history="false"),
    message("user", "zero history words", from_history=0),
    message("user", "empty history words", from_history=""),
    message(None, "roleless words", id=17, created_at="1767225702"),
    message("model", "model words", created_at=1.5),
    message("assistant", "huge stamp words", created_at=1e30),
    "not an object",
    ["nor", "this"],
]


def expected_rows(run_data: dict, run_created_at: int) -> list[tuple]:
    """What the index holds for one run by the design's rule, computed here from the render rule's messages."""
    out = []
    for index, stored in history_messages(run_data):
        content = stored.get("content")
        text = content if isinstance(content, str) else ""
        if not text:
            continue
        message_id = stored.get("id") if isinstance(stored.get("id"), str) and stored.get("id") else None
        stamp = stored.get("created_at")
        integral = isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and float(stamp).is_integer() \
            and abs(stamp) < 2**63
        out.append((index, message_id, stored.get("role"), int(stamp) if integral else run_created_at, text))
    return out


def test_only_the_messages_chat_history_shows_are_indexed_with_their_reference_role_and_time(make_app, pg_dsn, rows):
    make_app()
    install(pg_dsn)
    rows.session("s1", "agent", component_id="agent-1", user_id="u1")
    run_data = agent_run("r1", SHOWN_CASES)
    rows.run("s1", run_data, created_at=1767225610)
    expected = expected_rows(run_data, 1767225610)
    drain(pg_dsn)
    assert [e[4] for e in expected] == ["user words", "assistant words", "not history words", "zero history words",
                                        "roleless words", "model words", "huge stamp words"]
    found = rows.execute(f"SELECT position, message_id, role, created_at, strip(document)::text FROM {TABLE} "
                         "WHERE run_id = 'r1' ORDER BY position")
    assert [row[:4] for row in found] == [e[:4] for e in expected]
    assert [row[4] for row in found] == [rows.execute("SELECT strip(to_tsvector('simple', %s))::text",
                                                      (e[4],))[0][0] for e in expected]
    # Runs chat_history does not show: a member run (parent_run_id), a workflow run, one without agent or team.
    for run_id, extra in (("member", {"parent_run_id": "r1"}), ("flow", {"agent_id": None, "workflow_id": "w"}),
                          ("bare", {})):
        data = {"run_id": run_id, "messages": [message("user", "hidden words")], **extra}
        if run_id == "member":
            data["agent_id"] = "agent-2"
        raw_run(rows, run_id, "s1", json.dumps(data))
    drain(pg_dsn)
    shown = rows.execute(f"SELECT run_id FROM {TABLE} WHERE document @@ to_tsquery('simple', 'hidden')")
    assert shown == [("flow",)]  # a run with an agent_id key (even null) is an agent run to agno's rule
    assert_current(rows)


HOSTILE_RUN_DATA = [
    "[1, 2, 3]", '"a string"', "42", "null", "true", '{"agent_id": "a"}', '{"agent_id": "a", "messages": {}}',
    '{"agent_id": "a", "messages": "text"}', '{"agent_id": "a", "messages": [null, 1, "x", [], {}]}',
    '{"agent_id": "a", "messages": [{"role": {"nested": true}, "content": {"deep": [1, {"text": 2}]}}]}',
    '{"agent_id": "a", "messages": [{"role": "user", "content": [{"text": {"obj": "ect"}}], "id": {"x": 1},'
    ' "created_at": [1], "from_history": {"a": 1}}]}',
    '{"agent_id": "a", "messages": [{"role": "user", "content": "x", "created_at": -1e400}]}',
    '{"agent_id": "a", "messages": [{"role": "user", "content": "x", "created_at": 123456789012345678901234}]}',
    '{"team_id": 5, "parent_run_id": null, "messages": [{"role": "user", "content": "team words"}]}',
    '{"agent_id": "a", "messages": [{"role": "user", "content": "\\u00e9t\\u00e9 \\ud83d\\ude00 caf\\u00e9"}]}',
]


def test_hostile_run_data_written_through_plain_sql_never_fails_the_write(make_app, pg_dsn, rows):
    make_app()
    install(pg_dsn)
    rows.session("s1", "agent", component_id="a")
    for number, run_data in enumerate(HOSTILE_RUN_DATA):
        raw_run(rows, f"h{number}", "s1", run_data)
    # Text far past a tsvector's 1 MB limit (distinct words): indexed up to MAX_TEXT characters, never an error.
    many_words = " ".join(f"w{n}" for n in range(400_000))
    assert len(many_words) > 10 * search_index.MAX_TEXT
    rows.run("s1", agent_run("long", [message("user", many_words)]))
    rows.execute("UPDATE ai.agno_runs SET run_data = '[\"now an array\"]'::jsonb WHERE run_id = 'h0'")
    assert drain(pg_dsn) == len(HOSTILE_RUN_DATA) + 1  # the drain indexes every one of them too, never failing
    assert rows.execute(f"SELECT count(*) FROM {TABLE} WHERE run_id = 'long'") == [(1,)]
    assert rows.execute(f"SELECT run_id FROM {TABLE} WHERE document @@ to_tsquery('simple', 'w0')") == [("long",)]
    assert rows.execute(f"SELECT count(*) FROM {TABLE} WHERE document @@ to_tsquery('simple', 'w399999')") == [(0,)]
    assert_current(rows)


def test_triggers_keep_the_table_equal_to_a_full_re_extraction(make_app, pg_dsn, rows):
    app = make_app()
    client = app.test_client()
    install(pg_dsn)
    rows.session("s1", "agent", component_id="agent-1", user_id="u1", session_data={"session_name": "Alpha talk"})
    rows.session("s2", "team", component_id="team-1", user_id="u2")
    rows.session("s3", "agent", component_id="agent-1", user_id="u1")
    assert_current(rows)
    for n in range(3):
        rows.run("s1", agent_run(f"r{n}", [message("user", f"question {n} apples"),
                                           message("assistant", f"answer {n} pears")]))
    rows.run("s2", {"run_id": "t0", "team_id": "team-1", "messages": [message("user", "team question")]})
    assert_current(rows)
    # agno's upsert_run: ON CONFLICT DO UPDATE with more, then fewer messages.
    upsert = ("INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_data, created_at) VALUES "
              "(%s, %s, 'agent', %s, 1767225610) ON CONFLICT (run_id) DO UPDATE SET run_data = EXCLUDED.run_data")
    rows.execute(upsert, ("r0", "s1", json.dumps(agent_run("r0", [message("user", "a"), message("assistant", "b"),
                                                                 message("user", "c plums")]))))
    rows.execute(upsert, ("r0", "s1", json.dumps(agent_run("r0", [message("user", "only kiwis")]))))
    rows.execute(upsert, ("r9", "s3", json.dumps(agent_run("r9", [message("user", "fresh figs")]))))
    assert_current(rows)
    # A run's other columns, a run moved to another session, a run deleted.
    rows.execute("UPDATE ai.agno_runs SET run_index = 7, created_at = 1767229999 WHERE run_id = 'r1'")
    rows.execute("UPDATE ai.agno_runs SET session_id = 's3' WHERE run_id = 'r2'")
    rows.execute("DELETE FROM ai.agno_runs WHERE run_id = 'r1'")
    assert_current(rows)
    # Renames, through the API and through SQL (to no name, and to a name of another type).
    assert client.post("/sessions/s3/rename", json={"session_name": "Gamma chat"}).status_code == 200
    rows.execute("UPDATE ai.agno_sessions SET session_data = session_data - 'session_name' WHERE session_id = 's1'")
    rows.execute("UPDATE ai.agno_sessions SET session_data = '{\"session_name\": 5}' WHERE session_id = 's2'")
    assert_current(rows)
    rows.execute("UPDATE ai.agno_sessions SET session_data = '{\"session_name\": \"Beta\"}' WHERE session_id = 's2'")
    # User, component and type changes reach the session's rows; a no-op update (agno's every run) changes nothing.
    rows.execute("UPDATE ai.agno_sessions SET user_id = 'u9', agent_id = 'agent-2' WHERE session_id = 's1'")
    rows.execute("UPDATE ai.agno_sessions SET session_type = 'agent', agent_id = 'agent-3' WHERE session_id = 's2'")
    rows.execute("UPDATE ai.agno_sessions SET updated_at = 5")
    assert_current(rows)
    # Session deletes: through the API (with its runs), through SQL (the runs' cascade), in bulk.
    assert client.delete("/sessions/s1?type=agent").status_code == 204
    rows.execute("DELETE FROM ai.agno_sessions WHERE session_id = 's2'")
    assert_current(rows)
    assert rows.execute(f"SELECT count(*) FROM {TABLE} WHERE session_id IN ('s1', 's2')") == [(0,)]
    rows.execute("DELETE FROM ai.agno_sessions")
    assert rows.execute(f"SELECT count(*) FROM {TABLE}") == [(0,)]


def seed(rows, sessions: int, prefix: str = "s") -> None:
    for n in range(sessions):
        rows.session(f"{prefix}{n:03d}", "agent", component_id="agent-1", user_id=f"u{n % 3}",
                     session_data={"session_name": f"name {n}"} if n % 4 == 0 else None)
        for k in range(2):
            rows.run(f"{prefix}{n:03d}", agent_run(f"{prefix}{n:03d}-{k}", [message("user", f"topic {n} {k}"),
                                                                             message("assistant", "reply")]))


class Interrupted(Exception):
    """Stands for a Ctrl-C after the first batch."""


def test_backfill_is_resumable_and_loses_or_doubles_nothing_written_meanwhile(make_app, pg_dsn, rows, monkeypatch,
                                                                             capsys):
    make_app()
    seed(rows, 30)
    monkeypatch.setattr(search_index, "BATCH", 8)
    monkeypatch.setattr(migration, "PROGRESS_EVERY", 0.0)
    check(settings(pg_dsn))
    assert "search index not installed" in capsys.readouterr().out
    batches = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            if "sessions indexed" in text:
                batches.append(text)
                # Writers between batches, behind the backfill's position and ahead of it.
                rows.run("s001", agent_run(f"late-{len(batches)}", [message("user", "late cherries")]))
                rows.run("s029", agent_run(f"later-{len(batches)}", [message("user", "later cherries")]))
                rows.execute("UPDATE ai.agno_runs SET run_data = %s WHERE run_id = 's025-0'",
                             (json.dumps(agent_run("s025-0", [message("user", f"edited {len(batches)}")])),))
                if len(batches) == 1:
                    raise Interrupted
            return super().write(text)
    with pytest.raises(Interrupted):
        migrate(settings(pg_dsn), search=True, out=Stream())
    assert batches[0].endswith(": search index: 8 of 30 sessions indexed (26%)")
    (state,) = rows.execute("SELECT position, complete FROM ai.agno_sessions_svc_search_state")
    assert state == ("s007", False)
    check(settings(pg_dsn))
    assert "search index building (text search configuration simple)" in capsys.readouterr().out
    # Sessions indexed so far are there; the rest only as far as the triggers wrote since.
    assert rows.execute(f"SELECT count(DISTINCT session_id) FROM {TABLE} WHERE session_id <= 's007'") == [(8,)]
    rows.session("s000a", "agent", session_data={"session_name": "inserted behind"})
    rows.session("s999", "agent", session_data={"session_name": "inserted ahead"})
    out = Stream()
    migrate(settings(pg_dsn), search=True, out=out)
    assert "backfilled (23 sessions in" in out.getvalue()
    assert ", resumed after session 's007')" in out.getvalue()
    assert len(batches) > 3
    assert_current(rows)
    check(settings(pg_dsn))
    assert "search index complete (text search configuration simple)" in capsys.readouterr().out
    # A second run changes nothing.
    out = io.StringIO()
    migrate(settings(pg_dsn), search=True, out=out)
    assert "0 changed" in out.getvalue()


def test_one_uninterrupted_run_gives_the_same_table(make_app, pg_dsn, rows, monkeypatch):
    make_app()
    seed(rows, 12)
    monkeypatch.setattr(search_index, "BATCH", 5)
    install(pg_dsn)
    assert_current(rows)
    assert rows.execute(f"SELECT count(*) FROM {TABLE}") == [(12 * 4 + 3,)]


def catalog(rows) -> list[tuple]:
    """Everything in schema ai the catalog knows by name: relations, types, functions, triggers, constraints."""
    return rows.execute(
        "SELECT 'rel', relname::text, relkind::text FROM pg_class WHERE relnamespace = 'ai'::regnamespace "
        "UNION ALL SELECT 'type', typname::text, typtype::text FROM pg_type WHERE typnamespace = 'ai'::regnamespace "
        "UNION ALL SELECT 'proc', proname::text, pg_get_function_identity_arguments(oid) FROM pg_proc "
        "WHERE pronamespace = 'ai'::regnamespace "
        "UNION ALL SELECT 'trigger', tgname::text, tgrelid::regclass::text FROM pg_trigger t JOIN pg_class c "
        "ON c.oid = t.tgrelid WHERE c.relnamespace = 'ai'::regnamespace "
        "UNION ALL SELECT 'constraint', conname::text, contype::text FROM pg_constraint "
        "WHERE connamespace = 'ai'::regnamespace ORDER BY 1, 2, 3")


def test_drop_removes_everything_it_created_and_nothing_else(make_app, pg_dsn, rows, capsys):
    make_app()
    migrate(settings(pg_dsn), indexes=True)
    seed(rows, 3)
    before, data = catalog(rows), rows.snapshot()
    install(pg_dsn)
    created = set(catalog(rows)) - set(before)
    assert {name for _, name, _ in created} >= {
        "agno_sessions_svc_search", "agno_sessions_svc_search_state", "agno_sessions_svc_search_doc",
        "agno_sessions_svc_search_sid", "agno_sessions_svc_search_extract",
        "agno_sessions_svc_search_runs", "agno_sessions_svc_search_sessions"}
    out = io.StringIO()
    migrate(settings(pg_dsn), drop_search=True, out=out)
    assert "dropped with its triggers and functions" in out.getvalue()
    assert catalog(rows) == before
    assert rows.snapshot() == data
    check(settings(pg_dsn))
    assert "search index not installed" in capsys.readouterr().out
    out = io.StringIO()
    migrate(settings(pg_dsn), drop_search=True, out=out)
    assert "(not installed)" in out.getvalue()


def test_check_reports_a_broken_index_and_migrate_repairs_it(make_app, pg_dsn, rows, capsys):
    make_app()
    seed(rows, 2)
    install(pg_dsn)
    rows.execute("ALTER TABLE ai.agno_runs DISABLE TRIGGER agno_sessions_svc_search_runs")
    rows.run("s000", agent_run("unseen", [message("user", "unseen words")]))
    assert check(settings(pg_dsn)) == 1
    assert "search index broken" in capsys.readouterr().out
    out = install(pg_dsn)
    assert "emptied for a new backfill" in out
    assert_current(rows)
    assert rows.execute(f"SELECT count(*) FROM {TABLE} WHERE run_id = 'unseen'") == [(1,)]


def test_an_unknown_configuration_fails_clearly_and_a_new_one_needs_rebuild(make_app, pg_dsn, rows):
    make_app()
    with pytest.raises(migration.MigrationFailed, match='text search configuration "klingon" does not exist'):
        migrate(settings(pg_dsn, AGNO_SEARCH_CONFIG="klingon"), search=True)
    install(pg_dsn)
    rows.session("s1", "agent")
    rows.run("s1", agent_run("r1", [message("user", "running dogs")]))
    capture = Capture()
    logging.getLogger(LOGGER).addHandler(capture)
    try:
        migrate(settings(pg_dsn, AGNO_SEARCH_CONFIG="english"), search=True)
    finally:
        logging.getLogger(LOGGER).removeHandler(capture)
    assert any("'simple', AGNO_SEARCH_CONFIG is 'english': run `agno-session migrate --search --rebuild`" in line
               for line in capture.lines)
    assert rows.execute(f"SELECT count(*) FROM {TABLE} WHERE document @@ to_tsquery('simple', 'run')") == [(0,)]
    migrate(settings(pg_dsn, AGNO_SEARCH_CONFIG="english"), search=True, rebuild=True)
    assert rows.execute(f"SELECT count(*) FROM {TABLE} WHERE document @@ to_tsquery('english', 'run')") == [(1,)]
    assert rows.execute("SELECT config::text, complete FROM ai.agno_sessions_svc_search_state") == [("english", True)]
