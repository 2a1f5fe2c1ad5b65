"""The run-cursors parameters as the parsers read them: AgentOS's own errors first, ours deferred until the
database is resolved, `exclude` a comma list kept in the documented order."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from service.rules.validation import parsers
from service.rules.validation.errors import RequestInvalid


def test_exclude_is_a_comma_list_in_the_documented_order_without_repeats() -> None:
    parsed = parsers.runs_query(MultiDict({"exclude": " tools,messages,,tools "}))
    assert parsed.query["exclude"] == ("messages", "tools") and not parsed.deferred
    assert parsers.runs_query(MultiDict()).query["exclude"] is None
    assert parsers.run_query(MultiDict({"exclude": "events"})).query["exclude"] == ("events",)


def test_unknown_names_and_bad_paging_are_deferred_422s() -> None:
    parsed = parsers.runs_query(MultiDict({"exclude": "messages,bogus", "limit": "1001", "order": "up"}))
    assert [(e["loc"], e["type"], e["input"]) for e in parsed.deferred] == [
        (["query", "limit"], "less_than_equal", "1001"), (["query", "order"], "enum", "up"),
        (["query", "exclude"], "enum", "bogus")]


def test_agentos_errors_come_first_and_alone() -> None:
    with pytest.raises(RequestInvalid) as raised:  # FastAPI's 422 names only what AgentOS itself checks
        parsers.runs_query(MultiDict({"type": "robot", "limit": "0"}))
    assert [e["loc"] for e in raised.value.errors] == [["query", "type"]]


def test_previews_ignore_exclude() -> None:
    parsed = parsers.run_previews_query(MultiDict({"exclude": "bogus", "limit": "2"}))
    assert parsed.query["exclude"] == () and parsed.query["limit"] == 2 and not parsed.deferred
