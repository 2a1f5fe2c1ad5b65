"""GET /sessions with fields and include (extension `list-shape`) against a real PostgreSQL: rows keep only the
named keys, the included keys say what the session's detail and runs say, they come from the list's one
statement, and unknown names are a 422 that changes nothing."""

from __future__ import annotations

import random

import pytest
from psycopg2.extras import Json

from service.rules.render.messages import content_text
from service.rules.validation.scalars import FALSE_WORDS
from service.storage.list_extras import SQL_FALSE_WORDS
from tests.support.rows import Rows

NOW = 1767225600
INCLUDE = "run_count,last_run_at,last_run_status,last_message,total_tokens"


def _message(mid: str, role: str, content: str, **extra) -> dict:
    return {"id": mid, "role": role, "content": content, "created_at": NOW, **extra}


def _run(sid: str, n: int, messages: list[dict], **extra) -> dict:
    return {"run_id": f"{sid}-r{n}", "agent_id": "a1", "status": extra.pop("status", "COMPLETED"),
            "created_at": NOW + n, "messages": messages, **extra}


def _preview(entry: dict | None) -> dict | None:
    """What a list row's last_message shows of a chat_history entry."""
    if entry is None:
        return None
    return {"id": entry.get("id"), "role": entry.get("role"), "content": content_text(entry)[:280],
            "created_at": entry["created_at"]}


def _seed(rows: Rows) -> None:
    rows.session("plain", "agent", component_id="a1", user_id="u1",
                 session_data={"session_metrics": {"total_tokens": 42}, "session_state": {"k": 1}})
    rows.run("plain", _run("plain", 0, [_message("m0", "system", "be brief"), _message("m1", "user", "hello"),
                                        _message("m2", "assistant", "hi there")]))
    rows.run("plain", _run("plain", 1, [_message("m3", "user", "again"), _message("m4", "assistant", "sure"),
                                        _message("m5", "tool", "tool output")], status="ERROR"))
    # The newest runs show no message: a member run, and a run whose messages all came from history.
    rows.run("plain", _run("plain", 2, [_message("m6", "assistant", "member")], parent_run_id="plain-r1"))
    rows.run("plain", _run("plain", 3, [_message("m7", "user", "old", from_history=True),
                                        _message("m8", "user", "old too", from_history="yes")], status="RUNNING"))
    rows.session("empty", "agent", component_id="a1", user_id="u1", created_at=NOW - 10)


def test_include_adds_exactly_the_keys_the_detail_and_runs_agree_with(client, rows) -> None:
    _seed(rows)
    response = client.get(f"/sessions?include={INCLUDE}")
    assert response.headers["Agno-Session-Applied"] == "include"
    plain = client.get("/sessions").get_json()["data"]
    for row, before in zip(response.get_json()["data"], plain, strict=True):
        assert {k: v for k, v in row.items() if k in before} == before  # AgentOS's keys untouched, in order
        assert list(row) == list(before) + [k for k in INCLUDE.split(",") if k not in before]
        sid = row["session_id"]
        runs = client.get(f"/sessions/{sid}/runs").get_json()
        history = client.get(f"/sessions/{sid}").get_json().get("chat_history") or []
        assert row["run_count"] == len(runs)
        assert row["last_run_status"] == (runs[-1]["status"] if runs else None)
        assert row["last_run_at"] == (runs[-1]["created_at"] if runs else None)
        assert row["last_message"] == _preview(history[-1] if history else None)
    by_id = {row["session_id"]: row for row in response.get_json()["data"]}
    assert by_id["plain"]["last_message"]["content"] == "sure" and by_id["plain"]["total_tokens"] == 42
    assert {k: by_id["empty"][k] for k in INCLUDE.split(",")} == {
        "run_count": 0, "last_run_at": None, "last_run_status": None, "last_message": None, "total_tokens": None}


def test_fields_keep_only_the_named_keys_and_the_id(client, rows) -> None:
    _seed(rows)
    shaped = client.get("/sessions?fields=updated_at,session_name").get_json()["data"]
    full = client.get("/sessions").get_json()["data"]
    assert shaped == [{k: row[k] for k in ("session_id", "session_name", "updated_at")} for row in full]
    combined = client.get("/sessions?fields=session_name&include=run_count")
    assert combined.headers["Agno-Session-Applied"] == "fields,include"
    assert [list(r) for r in combined.get_json()["data"]] == [["session_id", "session_name", "run_count"]] * 2
    only_id = client.get("/sessions?fields=").get_json()["data"]
    assert only_id == [{"session_id": row["session_id"]} for row in full]


def test_include_comes_from_the_lists_one_statement(client, rows, app) -> None:
    _seed(rows)
    client.get("/sessions")
    statements = []
    db = next(iter(app.config["REGISTRY"]))
    original = db._read

    def counting(conn, generation, query, params):
        statements.append(query)
        return original(conn, generation, query, params)

    db._read = counting
    try:
        assert len(client.get(f"/sessions?include={INCLUDE}&cursor=").get_json()["data"]) == 2
    finally:
        db._read = original
    assert len(statements) == 1


@pytest.mark.parametrize("query", ["fields=nope", "include=run_count,nope", "fields=session_id,chat_history",
                                   "include=session_name"])
def test_unknown_names_are_422_in_agentos_validation_shape(client, rows, query) -> None:
    _seed(rows)
    snapshot = rows.snapshot()
    response = client.get(f"/sessions?{query}")
    assert response.status_code == 422
    error = response.get_json()["detail"][0]
    assert error["type"] == "enum" and error["loc"][:2] == ["query", query.split("=")[0]]
    assert set(error) == {"type", "loc", "msg", "input", "ctx"}
    assert rows.snapshot() == snapshot


def test_include_on_random_sessions_matches_the_detail(client, rows) -> None:
    """Random runs (roles, member runs, history flags in pydantic's spellings, runs without run_index): the SQL's
    choice of the last message agrees with chat_history's last entry every time."""
    rng = random.Random(19)
    flags = [None, True, False, "false", "no", " Off ", "yes", 0, 1, "", [], {}]
    for s in range(25):
        sid = f"r{s:02d}"
        rows.session(sid, rng.choice(["agent", "team"]), component_id="x", created_at=NOW + s)
        for n in range(rng.randint(0, 5)):
            messages = []
            for m in range(rng.randint(0, 3)):
                extra = {} if (flag := rng.choice(flags)) is None else {"from_history": flag}
                messages.append(_message(f"{sid}-{n}-{m}", rng.choice(["user", "assistant", "system", "tool", None]),
                                         f"text {sid} {n} {m}", **extra))
            run = _run(sid, n, messages, status=rng.choice(["COMPLETED", "ERROR"]))
            if rng.random() < 0.3:
                run["parent_run_id"] = "elsewhere"
            if rng.random() < 0.2:
                run["team_id"] = run.pop("agent_id")
            rows.run(sid, run, run_index=None if rng.random() < 0.2 else n)
    for f, flag in enumerate(flags[1:]):  # each flag alone on the newest run, an ordinary run before it
        sid = f"flag{f:02d}"
        rows.session(sid, "agent", component_id="x", created_at=NOW - f)
        rows.run(sid, _run(sid, 0, [_message(f"{sid}-a", "assistant", "older")]))
        rows.run(sid, _run(sid, 1, [_message(f"{sid}-b", "user", "newest", from_history=flag)]))
    listed = client.get(f"/sessions?include={INCLUDE}&limit=100").get_json()["data"]
    assert len(listed) == 25 + len(flags) - 1
    for row in listed:
        history = client.get(f"/sessions/{row['session_id']}").get_json().get("chat_history") or []
        assert row["last_message"] == _preview(history[-1] if history else None), row["session_id"]


def test_include_on_a_legacy_table_merges_the_blob(client, rows) -> None:
    rows.execute("ALTER TABLE ai.agno_sessions ADD COLUMN runs jsonb")
    rows.session("mixed", "agent", component_id="a1")
    blob = [_run("mixed", 0, [_message("b1", "user", "from the blob")])]
    rows.execute("UPDATE ai.agno_sessions SET runs = %s WHERE session_id = 'mixed'", (Json(blob),))
    rows.run("mixed", _run("mixed", 1, [_message("t1", "assistant", "from the table")]), run_index=0)
    row = client.get(f"/sessions?include={INCLUDE}").get_json()["data"][0]
    assert row["run_count"] == 2 and row["last_message"]["content"] == "from the table"


def test_sql_false_words_are_pydantics() -> None:
    assert set(SQL_FALSE_WORDS) == FALSE_WORDS


def test_last_message_is_a_preview_cut_as_run_previews_are(client, rows) -> None:
    rows.session("long", "agent", component_id="a1")
    parts = [{"type": "text", "text": "x" * 1000}, {"type": "image"}]
    rows.run("long", _run("long", 0, [_message("m1", "user", "q"), {"role": "assistant", "content": parts}]))
    row = client.get("/sessions?include=last_message").get_json()["data"][0]
    message = row["last_message"]
    # No stored created_at: dated by its run, as search hits date it (the same answer on every read).
    assert message == {"id": None, "role": "assistant", "content": "x" * 280, "created_at": NOW}


def test_last_message_reads_only_the_newest_runs(client, rows, app) -> None:
    """A session of 300 long runs: the statement reads the newest run's messages, not every run's."""
    from service.storage.sessions import NO_TOTAL, ListPage, list_statement
    from tests.support.plans import explain, plan_nodes

    rows.session("big", "agent", component_id="a1")
    for n in range(300):
        rows.run("big", _run("big", n, [_message(f"u{n}", "user", "q " * 2000), _message(f"a{n}", "assistant", "a")]))
    rows.execute("ANALYZE ai.agno_runs")
    db = next(iter(app.config["REGISTRY"]))
    fragments, params = list_statement({"session_type": None}, "created_at", "desc",
                                       ListPage(20, 1, count=False, include=("last_message",)), NO_TOTAL,
                                       db.identifiers["runs"])
    plan = explain(rows, db, "list_sessions", fragments, params)
    functions = [n for n in plan_nodes(plan) if n["Node Type"] == "Function Scan"]
    assert functions and max(n["Actual Loops"] for n in functions) <= 2, functions  # messages of one run unpacked
    assert client.get("/sessions?include=last_message").get_json()["data"][0]["last_message"]["id"] == "a299"
