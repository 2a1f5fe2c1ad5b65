"""The pure parts of transcript search: parsing `q` and the search parameters (extensions `message-search`,
`session-search`), and rendering hits, snippets, references and cursor positions."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from service.rules.cursors import CursorInvalid
from service.rules.render import search
from service.rules.validation import parsers
from service.rules.validation.errors import RequestInvalid


def _parse(**args: str):
    return parsers.search_query(MultiDict(args))


def test_defaults_are_left_to_the_route_so_only_given_parameters_count_as_applied() -> None:
    parsed = _parse(q="hello world")
    assert parsed.deferred == []
    assert parsed.query["q"] == "hello world"
    assert all(parsed.query[k] is None for k in ("mode", "limit", "after", "role", "session_type", "user_id"))


def test_all_parameters_parse() -> None:
    parsed = _parse(q="x", type="team", component_id="c", user_id="u", role="assistant", created_after="1",
                    created_before="2", mode="prefix", limit="100", after="a.b")
    assert parsed.deferred == []
    assert {k: parsed.query[k] for k in ("session_type", "role", "mode", "limit", "created_after")} == {
        "session_type": "team", "role": "assistant", "mode": "prefix", "limit": 100, "created_after": 1}


@pytest.mark.parametrize(("args", "types"), [
    ({}, ["missing"]),
    ({"q": ""}, ["string_too_short"]),
    ({"q": "é" * 513}, ["string_too_long"]),
    ({"q": "a\x00"}, ["string_pattern_mismatch"]),
    ({"q": "", "mode": "x", "limit": "0"}, ["string_too_short", "enum", "greater_than_equal"]),
    ({"q": "a", "limit": "abc", "role": "tool"}, ["enum", "int_parsing"]),
    ({"q": "a", "user_id": "a\x00"}, ["string_pattern_mismatch"]),
])
def test_every_error_waits_for_the_database_and_q_comes_first(args, types) -> None:
    parsed = _parse(**args)  # nothing raised yet: db_id and table are answered first
    assert [e["type"] for e in parsed.deferred] == types
    with pytest.raises(RequestInvalid):
        parsed.checked()


def test_512_characters_are_accepted() -> None:
    assert _parse(q="é" * 512).deferred == []


def test_the_list_takes_q_as_an_optional_extension() -> None:
    assert parsers.list_query(MultiDict()).query["q"] is None
    assert parsers.list_query(MultiDict({"q": "x"})).query["q"] == "x"
    assert [e["type"] for e in parsers.list_query(MultiDict({"q": ""})).deferred] == ["string_too_short"]
    assert [e["loc"] for e in parsers.list_query(MultiDict({"q": "x" * 600})).deferred] == [["query", "q"]]


def test_snippets_escape_the_text_and_mark_the_matches() -> None:
    assert search.marked_snippet("a <b> & \x01word\x02 'x' \"y\"") == \
        "a &lt;b&gt; &amp; <mark>word</mark> 'x' \"y\""
    assert search.marked_snippet(None) == ""


def test_references_prefer_the_stored_id() -> None:
    assert search.message_reference("r1", 3, "m-9") == "m-9"
    assert search.message_reference("r1", 3, None) == "r1#3"
    assert search.message_reference("r1", 0, "") == "r1#0"


def _row(**extra) -> dict:
    return {"session_id": "s", "session_type": "team", "agent_id": None, "team_id": "t1", "workflow_id": None,
            "user_id": "u", "session_data": None, "workflow_data": None, "run_id": "r", "position": 2,
            "message_id": None, "role": "user", "created_at": 1767225600, "rank": 0.5, "snippet": "\x01hi\x02",
            "ordered_by": "relevance",
            "name_run": {"input": None, "messages": [{"role": "user", "content": "first words"}]}, **extra}


def test_a_hit_names_its_session_as_the_list_does() -> None:
    hit = search.search_hit(_row())
    assert hit == {"session_id": "s", "session_name": "first words", "session_type": "team", "component_id": "t1",
                   "user_id": "u", "run_id": "r", "message": "r#2", "role": "user",
                   "created_at": "2026-01-01T00:00:00Z", "snippet": "<mark>hi</mark>", "rank": 0.5}
    named = search.search_hit(_row(session_data={"session_name": "Stored"}, name_run=None))
    assert named["session_name"] == "Stored"
    untyped = search.search_hit(_row(session_type=None, team_id=None, agent_id="a1", name_run=None))
    assert (untyped["session_type"], untyped["component_id"], untyped["session_name"]) == ("agent", "a1", "")


def test_cursor_positions_round_trip_and_refuse_what_a_genuine_cursor_cannot_hold() -> None:
    position = search.hit_position(_row())
    assert search.position_from_cursor(position) == position
    newest_first = search.hit_position(_row(ordered_by="recent"))
    assert newest_first["rank"] == 0.0 and newest_first["order"] == "recent"  # the rank is not part of that order
    assert search.position_from_cursor(newest_first) == newest_first
    first_version = {k: v for k, v in position.items() if k != "order"}  # sealed before broad searches existed
    assert search.position_from_cursor(first_version) == position
    for bad in ({**position, "rank": "1"}, {**position, "rank": True}, {**position, "rank": float("nan")},
                {**position, "created_at": 2**63}, {**position, "position": -1}, {**position, "run_id": 5},
                {**position, "session_id": "a\x00"}, {**position, "order": "random"}, {}):
        with pytest.raises(CursorInvalid):
            search.position_from_cursor(bad)


def _windows(before_count: int, after_count: int, limit: int):
    """A target at position 100 with `before_count` messages before it and `after_count` after, gathered as the
    route gathers them (older: up to limit; from the target: it and up to limit after)."""
    from service.rules.render.history import HistoryWindow, NewerWindow, Position

    def row(i: int) -> dict:
        return {"run_index": i, "created_at": 0, "run_id": f"r{i}",
                "run_data": {"agent_id": "a", "messages": [{"role": "user", "content": str(i)}]}}

    target = Position(100, 0, "r100", 0)
    older = HistoryWindow(limit - 1, target)
    older.feed([row(i) for i in range(100, 99 - before_count, -1)])
    newer = NewerWindow(limit, Position(100, 0, "r100", -1))
    newer.feed([row(i) for i in range(100, 101 + after_count)])
    return older, newer


@pytest.mark.parametrize(("before", "after", "limit", "shown", "prev", "next_"), [
    (10, 10, 5, [98, 99, 100, 101, 102], True, True),
    (10, 10, 4, [98, 99, 100, 101], True, True),
    (0, 10, 5, [100, 101, 102, 103, 104], False, True),
    (10, 1, 5, [97, 98, 99, 100, 101], True, False),
    (2, 2, 5, [98, 99, 100, 101, 102], False, False),
    (2, 2, 9, [98, 99, 100, 101, 102], False, False),
    (3, 3, 1, [100], True, True),
])
def test_the_centred_window(before, after, limit, shown, prev, next_) -> None:
    from service.rules.render.history import centred_page

    page = centred_page(*_windows(before, after, limit), limit)
    assert [int(m["content"]) for m in page.messages(0)] == shown
    assert (page.prev is not None, page.next is not None) == (prev, next_)
    if prev:
        assert page.prev.run_index == shown[0]
    if next_:
        assert page.next.run_index == shown[-1]
