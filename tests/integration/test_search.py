"""GET /sessions/-/search (extension `message-search`) in scan mode (no search index) against a real PostgreSQL: the
hits, their keys and order, each filter and mode, keyset pages that never repeat or skip, snippets marked and
escaped, clear 422s that change nothing, deletes and isolation, and recall of every seeded word (parsing and
rendering alone: tests/unit/test_search_rules.py)."""

from __future__ import annotations

import base64
import json
import re

import psycopg2
import pytest

from service.rules.render.messages import history_messages
from tests.support.jwt_tokens import ADMIN, JWT_ENV, token
from tests.support.rows import Rows

NOW = 1767225600
HIT_KEYS = ["session_id", "session_name", "session_type", "component_id", "user_id", "run_id", "message", "role",
            "created_at", "snippet", "rank"]


def _msg(role: str, content, **extra) -> dict:
    return {"role": role, "content": content, **extra}


def _run(rows: Rows, session_id: str, run_id: str, messages: list, component: str = "agent_id", **extra) -> None:
    rows.run(session_id, {"run_id": run_id, component: "c1", "status": "COMPLETED", "messages": messages, **extra},
             created_at=extra.pop("created_at", NOW))


def _search(client, query: str, **kwargs):
    response = client.get(f"/sessions/-/search?{query}", **kwargs)
    assert response.status_code == 200, response.data
    assert response.headers["Agno-Search-Mode"] == "scan"
    return response.get_json()


def _refs(body: dict) -> list[str]:
    return [hit["message"] for hit in body["data"]]


def test_a_hit_has_the_documented_keys_and_names_the_message_it_found(client, rows) -> None:
    rows.session("s1", "agent", component_id="c1", user_id="alice")
    _run(rows, "s1", "r1", [_msg("system", "otter system prompt"),
                            _msg("user", "where do otters sleep", id="m-user", created_at=NOW + 5),
                            _msg("tool", "otter tool output"),
                            _msg("assistant", [{"type": "text", "text": "Otters sleep in water"}])])
    response = client.get("/sessions/-/search?q=otters")
    assert response.status_code == 200 and response.headers["Agno-Search-Mode"] == "scan"
    assert response.headers["Agno-Session-Applied"] == "q"
    body = response.get_json()
    assert list(body) == ["data", "next_cursor"] and body["next_cursor"] is None
    assert [list(hit) for hit in body["data"]] == [HIT_KEYS, HIT_KEYS]
    first, second = body["data"]
    assert first == {"session_id": "s1", "session_name": "where do otters sleep", "session_type": "agent",
                     "component_id": "c1", "user_id": "alice", "run_id": "r1", "message": "m-user", "role": "user",
                     "created_at": "2026-01-01T00:00:05Z", "snippet": "where do <mark>otters</mark> sleep",
                     "rank": first["rank"]}
    assert isinstance(first["rank"], float) and first["rank"] > 0
    # no stored id: the message's position in run_data.messages; the run's created_at stands in for its own
    assert (second["message"], second["role"], second["created_at"]) == ("r1#3", "assistant", "2026-01-01T00:00:00Z")
    assert second["snippet"] == "<mark>Otters</mark> sleep in water"
    # system and tool messages are not in chat_history, so they are never hits
    assert _search(client, "q=prompt")["data"] == [] and _search(client, "q=output")["data"] == []


def test_hits_are_ranked_then_newest_first(client, rows) -> None:
    rows.session("s1", "agent", component_id="c1")
    _run(rows, "s1", "r1", [_msg("user", "kiwi", id="once-old", created_at=NOW + 1),
                            _msg("user", "kiwi", id="once-new", created_at=NOW + 9),
                            _msg("user", "kiwi kiwi kiwi", id="thrice", created_at=NOW)])
    hits = _search(client, "q=kiwi")["data"]
    assert _refs({"data": hits}) == ["thrice", "once-new", "once-old"]
    assert hits[0]["rank"] > hits[1]["rank"] == hits[2]["rank"]


def test_modes_match_words_phrases_and_prefixes(client, rows) -> None:
    rows.session("s1", "agent", component_id="c1")
    _run(rows, "s1", "r1", [_msg("user", "the quick brown fox", id="a"), _msg("user", "brown the quick", id="b"),
                            _msg("user", "quickly browned", id="c")])
    assert sorted(_refs(_search(client, "q=quick+brown"))) == ["a", "b"]  # every word, any order
    assert _refs(_search(client, "q=quick+brown&mode=phrase")) == ["a"]  # in this order, adjacent
    assert sorted(_refs(_search(client, "q=quick+brown&mode=prefix"))) == ["a", "b", "c"]
    assert _refs(_search(client, "q=quic&mode=words")) == []
    # tsquery syntax in q is text, never an operator
    for hostile in ("a%27%27b", "%21quick", "quick%7Cnothing", "%5C%27", "%3A%2A", "%26%26"):
        for mode in ("words", "phrase", "prefix"):
            client_response = client.get(f"/sessions/-/search?q={hostile}&mode={mode}")
            assert client_response.status_code == 200, (hostile, mode, client_response.data)


def _filter_seed(rows: Rows) -> None:
    rows.session("ag", "agent", component_id="c1", user_id="alice")
    _run(rows, "ag", "ra", [_msg("user", "mango early", id="ag-u", created_at=NOW + 10),
                            _msg("assistant", "mango late", id="ag-a", created_at=NOW + 20)])
    rows.session("tm", "team", component_id="c2", user_id="bob")
    _run(rows, "tm", "rt", [_msg("user", "mango team", id="tm-u", created_at=NOW + 30)], component="team_id")
    rows.session("wf", "workflow", component_id="c3", user_id="alice")
    _run(rows, "wf", "rw", [_msg("user", "mango workflow's agent", id="wf-u", created_at=NOW + 40)])


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["ag-a", "ag-u", "tm-u", "wf-u"]),
    ("type=team", ["tm-u"]),
    ("type=agent", ["ag-a", "ag-u"]),
    ("component_id=c2", ["tm-u"]),
    ("type=agent&component_id=c2", []),
    ("user_id=alice", ["ag-a", "ag-u", "wf-u"]),
    ("role=assistant", ["ag-a"]),
    ("role=user", ["ag-u", "tm-u", "wf-u"]),
    ("created_after=1767225620", ["ag-a", "tm-u", "wf-u"]),
    ("created_before=1767225620", ["ag-a", "ag-u"]),
    ("created_after=1767225611&created_before=1767225630", ["ag-a", "tm-u"]),
])
def test_each_filter_narrows_the_hits(client, rows, query, expected) -> None:
    _filter_seed(rows)
    response = client.get(f"/sessions/-/search?q=mango&{query}")
    assert response.status_code == 200
    assert sorted(_refs(response.get_json())) == expected
    given = [pair.split("=")[0] for pair in query.split("&") if pair]
    assert response.headers["Agno-Session-Applied"] == ",".join(
        ["q", *(name for name in ("type", "component_id", "user_id", "role", "created_after", "created_before")
                if name in given)])


def test_pages_by_cursor_never_repeat_or_skip_and_are_bound_to_their_query(client, rows) -> None:
    for s in range(5):  # many equal ranks and times: the order's last keys decide
        rows.session(f"s{s}", "agent", component_id="c1")
        for r in range(2):
            _run(rows, f"s{s}", f"s{s}-r{r}", [_msg("user", "pear " * (1 + (s + r) % 2), created_at=NOW + r % 2)
                                                for _ in range(3)])
    whole = _search(client, "q=pear&limit=100")
    assert len(whole["data"]) == 30 and whole["next_cursor"] is None
    seen, url, pages = [], "/sessions/-/search?q=pear&limit=7", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.data
        body = response.get_json()
        seen += body["data"]
        pages += 1
        url = None
        if body["next_cursor"]:
            assert response.headers["Link"] == f'</sessions/-/search?q=pear&limit=7&after={body["next_cursor"]}>; ' \
                                               'rel="next"'
            url = f"/sessions/-/search?q=pear&limit=7&after={body['next_cursor']}"
        else:
            assert "Link" not in response.headers
    assert pages == 5 and seen == whole["data"]
    first = _search(client, "q=pear&limit=7")["next_cursor"]
    other = client.get(f"/sessions/-/search?q=pears&limit=7&after={first}")
    assert (other.status_code, other.get_json()) == (400, {"detail": "Cursor does not match the query"})
    for changed in ("q=pear&mode=prefix", "q=pear&role=user", "q=pear&type=agent"):
        assert client.get(f"/sessions/-/search?{changed}&after={first}").status_code == 400
    assert client.get(f"/sessions/-/search?q=pear&limit=3&after={first}").status_code == 200  # size may change
    body, mac = first.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    tampered[2]["rank"] = 99.0
    forged = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
    for bad in (f"{forged}.{mac}", first[:-2], "x.y", "garbage"):
        response = client.get(f"/sessions/-/search?q=pear&after={bad}")
        assert (response.status_code, response.get_json()) == (400, {"detail": "Invalid cursor"})


def test_snippets_mark_the_matches_and_escape_the_rest(client, rows) -> None:
    rows.session("s1", "agent", component_id="c1")
    _run(rows, "s1", "r1", [_msg("user", 'needle & "quote" < 3 > 2 \x01needle\x02 <b>bold</b>', id="m1")])
    snippet = _search(client, "q=needle")["data"][0]["snippet"]
    # text escaped; the characters the marks are made from are blanks in the text; HTML-like tags are dropped (the
    # parser reads them as tags, not words)
    assert snippet == '<mark>needle</mark> &amp; "quote" &lt; 3 &gt; 2  <mark>needle</mark>   bold'
    assert "\x01" not in snippet and "\x02" not in snippet


@pytest.mark.parametrize(("query", "error"), [
    ("", {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None}),
    ("q=", {"type": "string_too_short", "loc": ["query", "q"], "msg": "String should have at least 1 character",
            "input": "", "ctx": {"min_length": 1}}),
    ("q=" + "x" * 513, {"type": "string_too_long", "loc": ["query", "q"],
                        "msg": "String should have at most 512 characters", "input": "x" * 513,
                        "ctx": {"max_length": 512}}),
    ("q=a&mode=fuzzy", {"type": "enum", "loc": ["query", "mode"], "msg": "Input should be 'words', 'phrase' or "
                        "'prefix'", "input": "fuzzy", "ctx": {"expected": "'words', 'phrase' or 'prefix'"}}),
    ("q=a&role=system", {"type": "enum", "loc": ["query", "role"], "msg": "Input should be 'user' or 'assistant'",
                         "input": "system", "ctx": {"expected": "'user' or 'assistant'"}}),
    ("q=a&limit=0", {"type": "greater_than_equal", "loc": ["query", "limit"],
                     "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}}),
    ("q=a&limit=101", {"type": "less_than_equal", "loc": ["query", "limit"],
                       "msg": "Input should be less than or equal to 100", "input": "101", "ctx": {"le": 100}}),
    ("q=a&type=robot", {"type": "enum", "loc": ["query", "type"], "msg": "Input should be 'agent', 'team' or "
                        "'workflow'", "input": "robot", "ctx": {"expected": "'agent', 'team' or 'workflow'"}}),
    ("q=a%00b", {"type": "string_pattern_mismatch", "loc": ["query", "q"],
                 "msg": "String should match pattern '^[^\\x00]*$'", "input": "a\x00b",
                 "ctx": {"pattern": "^[^\\x00]*$"}}),
])
def test_bad_input_is_a_clear_422_that_changes_nothing(client, rows, query, error) -> None:
    _filter_seed(rows)
    before = rows.snapshot()
    response = client.get(f"/sessions/-/search?{query}")
    assert response.status_code == 422
    assert response.get_json() == {"detail": [error]}
    assert rows.snapshot() == before
    assert "Agno-Search-Mode" not in response.headers


def test_512_characters_are_a_query(client, rows) -> None:
    _filter_seed(rows)
    assert _search(client, "q=" + "mango+" * 85 + "xx")["data"] == []  # 512 characters, not every word present
    assert client.get("/sessions/-/search?q=a&db_id=nope").status_code == 404  # the database is answered first
    assert client.get("/sessions/-/search?q=&db_id=nope").status_code == 404


def test_a_deleted_session_or_run_leaves_no_hits(client, rows) -> None:
    _filter_seed(rows)
    assert "tm-u" in _refs(_search(client, "q=mango"))
    assert client.delete("/sessions/tm").status_code == 204
    assert "tm-u" not in _refs(_search(client, "q=mango"))
    rows.execute('DELETE FROM ai.agno_runs WHERE run_id = %s', ("ra",))
    assert _refs(_search(client, "q=mango")) == ["wf-u"]


def _content_string(content) -> str:
    """agno 3.1.10's Message.get_content_string, written again from its documented rule for this test."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        if not content:
            return ""
        if isinstance(content[0], dict) and "text" in content[0]:
            return str(content[0].get("text") or "")
        return json.dumps(content, ensure_ascii=False)
    return ""


HOSTILE_RUNS = [
    ["not", "an", "object"], "a string", 42, None,
    {"agent_id": "c1", "messages": "not a list"},
    {"agent_id": "c1", "messages": [1, "two", None, ["zebra"], {"role": "user", "content": "zebra plain"}]},
    {"agent_id": None, "messages": [{"role": "user", "content": "zebra null agent key"}]},
    {"workflow_id": "w", "messages": [{"role": "user", "content": "zebra workflow run"}]},
    {"team_id": "t", "parent_run_id": "p", "messages": [{"role": "user", "content": "zebra member run"}]},
    {"team_id": "t", "parent_run_id": None, "messages": [
        {"role": "assistant", "content": {"zebra": 1}}, {"role": None, "content": "zebra no role"},
        {"content": "zebra missing role"}, {"role": "user", "content": 7},
        {"role": "user", "content": [{"text": "zebra in text"}, {"text": "hidden zebra"}]},
        {"role": "user", "content": ["zebra", "listed"]}, {"role": "user", "content": []},
        {"role": "user", "content": [{"text": None}]},
        {"role": "user", "content": "zebra from history", "from_history": True},
        {"role": "user", "content": "zebra from history text", "from_history": " YES "},
        {"role": "user", "content": "zebra not from history", "from_history": "off"},
        {"role": "user", "content": "zebra zero", "from_history": 0},
        {"role": "user", "content": "zebra odd id", "id": 12, "created_at": "1767225999"},
        {"role": "user", "content": "zebra empty id", "id": "", "created_at": 1767225999.5},
        {"role": "user", "content": "zebra big time", "created_at": 10 ** 30},
        {"role": "user", "content": "zebra own time", "created_at": 1767229999, "id": "own"},
        {"role": "system", "content": "zebra system"}, {"role": "tool", "content": "zebra tool"}]},
]


def test_the_scan_finds_exactly_what_chat_history_shows_in_any_stored_json(client, rows) -> None:
    rows.session("h", "team", component_id="t")
    expected = set()
    for n, run_data in enumerate(HOSTILE_RUNS):
        run_id = f"h{n}"
        rows.execute("INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_index, run_data, created_at) "
                     "VALUES (%s, 'h', 'team', %s, %s, %s)", (run_id, n, json.dumps(run_data), NOW))
        stored = {**run_data, "run_id": run_id} if isinstance(run_data, dict) else run_data
        for index, message in history_messages(stored):
            if "zebra" in re.findall(r"\w+", _content_string(message.get("content")).lower()):
                given = message.get("id")
                expected.add(given if isinstance(given, str) and given else f"{run_id}#{index}")
    body = _search(client, "q=zebra&limit=100")
    assert sorted(_refs(body)) == sorted(expected)
    assert len(expected) == 12  # the rule really is exercised
    times = {hit["message"]: hit["created_at"] for hit in body["data"]}
    assert times["own"] == "2026-01-01T01:13:19Z"  # its own; text, fractional or huge ones: the run's
    assert times["h9#11"] == times["h9#12"] == times["h9#13"] == "2026-01-01T00:00:00Z"


def test_recall_of_seeded_exact_words_is_complete(client, rows) -> None:
    words = [f"w{n:03d}x{(n * 7919) % 1000:03d}" for n in range(120)]
    for s in range(12):
        rows.session(f"s{s}", "agent", component_id="c1", user_id=f"u{s % 3}")
        for r in range(2):
            batch = words[(s * 2 + r) * 5:(s * 2 + r) * 5 + 5]
            _run(rows, f"s{s}", f"s{s}-r{r}", [_msg("user" if i % 2 else "assistant", f"filler text {w} more filler",
                                                    id=f"id-{w}") for i, w in enumerate(batch)])
    for word in words:
        assert _refs(_search(client, f"q={word}")) == [f"id-{word}"], word


def test_isolation_no_foreign_hit_and_no_foreign_count(make_app, pg_dsn) -> None:
    client = make_app(**JWT_ENV).test_client()
    rows = Rows(pg_dsn)
    try:
        rows.session("a-1", user_id="alice", component_id="c1", session_data={"session_name": "alice's"})
        _run(rows, "a-1", "r-a", [_msg("user", "secret plum of alice", id="a-msg")])
        rows.session("b-1", user_id="bob", component_id="c1")
        _run(rows, "b-1", "r-b", [_msg("user", "bob's plum", id="b-msg")])
        alice = token("alice", scopes=("sessions:read",))
        bob = token("bob", scopes=("sessions:read",))
        admin = ADMIN
        assert _refs(_search(client, "q=plum", headers=alice)) == ["a-msg"]
        assert _refs(_search(client, "q=plum", headers=bob)) == ["b-msg"]
        assert _refs(_search(client, "q=plum&user_id=alice", headers=bob)) == ["b-msg"]  # forced to the caller
        assert _refs(_search(client, "q=secret", headers=bob)) == []
        assert sorted(_refs(_search(client, "q=plum", headers=admin))) == ["a-msg", "b-msg"]
        assert _refs(_search(client, "q=plum&user_id=alice", headers=admin)) == ["a-msg"]
        listed = client.get("/sessions?q=plum", headers=bob).get_json()
        assert [s["session_id"] for s in listed["data"]] == ["b-1"] and listed["meta"]["total_count"] == 1
        assert client.get("/sessions?q=secret", headers=bob).get_json()["meta"]["total_count"] == 0
        assert client.get("/sessions/-/search?q=plum").status_code == 401
        assert client.get("/sessions/-/search?q=plum",
                          headers=token("bob", scopes=("sessions:write",))).status_code == 403
    finally:
        rows.close()


def test_a_scan_past_the_request_timeout_is_a_504(make_app, pg_dsn) -> None:
    """The scan runs behind what the request has left: a scan held up (here by a lock on the runs table, so no
    timing luck is involved) ends as the request's 504, not as a hung worker."""
    client = make_app(AGNO_REQUEST_TIMEOUT="1").test_client()
    assert _search(client, "q=fig")["data"] == []
    locker = psycopg2.connect(pg_dsn)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE ai.agno_runs IN ACCESS EXCLUSIVE MODE")
        response = client.get("/sessions/-/search?q=fig")
        assert response.status_code == 504, response.data
    finally:
        locker.rollback()
        locker.close()
