"""The history window (rules/render/history.py): pages of the last messages, walked with positions, are exactly
chat_history's messages, in order, none repeated or skipped, whatever the runs hold."""

from __future__ import annotations

import pytest

from service.rules.cursors import CursorInvalid
from service.rules.render import HistoryWindow, Position, name_decided
from service.rules.render.messages import chat_history

NOW = 1767225600


def _msg(run: int, i: int, role: str, **extra) -> dict:
    return {"id": f"m{run}-{i}", "role": role, "content": f"c{run}-{i}", "created_at": NOW + run, **extra}


def _runs() -> list[dict]:
    """Rows in agno's order: a mix of runs chat_history shows partly or not at all."""
    runs = []
    for n in range(12):
        messages = [_msg(n, 0, "system"), _msg(n, 1, "user"), _msg(n, 2, "assistant"),
                    _msg(n, 3, "tool"), _msg(n, 4, "assistant")]
        if n % 4 == 1:
            messages.insert(1, _msg(n, 9, "user", from_history="yes"))  # carried over: never shown
        data: dict = {"run_id": f"r{n}", "agent_id": "a", "messages": messages}
        if n == 3:
            data["parent_run_id"] = "r2"  # a member run: not shown
        if n == 5:
            data = {"run_id": "r5", "workflow_id": "w", "messages": messages}  # not agent/team shaped
        if n == 7:
            data["messages"] = [_msg(n, 0, "system")]  # nothing to show
        runs.append({"run_index": n if n != 11 else None, "created_at": NOW, "run_id": f"r{n}", "run_data": data})
    return runs


def _page(runs: list[dict], limit: int, before: Position | None, batch: int) -> HistoryWindow:
    window = HistoryWindow(limit, before)
    newest_first = runs[::-1]
    if before is not None:
        index = next(i for i, r in enumerate(newest_first) if r["run_id"] == before.run_id)
        newest_first = newest_first[index:]
    for start in range(0, len(newest_first), batch):
        if window.feed(newest_first[start:start + batch]):
            break
    return window


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 100])
@pytest.mark.parametrize("batch", [1, 4, 50])
def test_paging_back_yields_chat_history_exactly(limit, batch) -> None:
    runs = _runs()
    full = chat_history([r["run_data"] for r in runs], NOW)
    assert len(full) == 27
    pages, before = [], None
    for _ in range(len(full) + 1):  # a window that failed to move back would loop: bounded, it fails instead
        window = _page(runs, limit, before, batch)
        page = window.messages(NOW)
        assert 0 < len(page) <= limit
        pages.insert(0, page)
        before = window.older
        if before is None:
            break
        before = Position.from_json(before.as_json())  # what a cursor carries
    else:
        pytest.fail("paging did not reach the oldest message")
    assert [m for page in pages for m in page] == full
    assert pages[-1] == full[-limit:]


def test_limit_zero_shows_nothing_and_has_no_older_page() -> None:
    window = HistoryWindow(0, None)
    assert window.feed(_runs()[::-1])
    assert window.messages(NOW) == [] and window.older is None


@pytest.mark.parametrize("raw", [
    {}, {"i": 1, "c": 1, "r": "r", "m": -1}, {"i": "1", "c": 1, "r": "r", "m": 0},
    {"i": 1, "c": 2**63, "r": "r", "m": 0},
    {"i": True, "c": 1, "r": "r", "m": 0}, {"i": 1, "c": 1, "r": 5, "m": 0}, {"i": 1, "c": 1, "r": "a\x00", "m": 0},
    {"i": 1.5, "c": 1, "r": "r", "m": 0},
])
def test_positions_a_genuine_cursor_cannot_hold_are_invalid(raw) -> None:
    with pytest.raises(CursorInvalid):
        Position.from_json(raw)


def test_the_name_is_decided_by_the_first_run_that_names_the_session() -> None:
    row = {"session_id": "s", "session_type": "agent", "agent_id": "a", "session_data": {}}
    quiet = {"run_id": "q", "agent_id": "a", "messages": [{"role": "assistant", "content": "hi"}]}
    named = {"run_id": "n", "agent_id": "a", "messages": [{"role": "user", "content": "Plan"}]}
    assert not name_decided(row, [], "agent") and not name_decided(row, [quiet], "agent")
    assert name_decided(row, [quiet, named], "agent")
    assert name_decided({**row, "session_data": {"session_name": ""}}, [], "agent")
