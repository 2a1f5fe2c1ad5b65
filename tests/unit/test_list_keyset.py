"""Keyset positions of the list's cursor pages: what a position holds for each sort, which sealed positions are
accepted back, and that the condition's shape bounds the sort key first (so the index scan starts there)."""

from __future__ import annotations

import pytest

from service.storage.list_keyset import after_condition, keyed_by, position_of, valid_position

ROW = {"session_id": "s1", "created_at": 10, "updated_at": None, "user_id": None, "session_type": "agent"}


def test_positions_hold_the_sort_key_and_the_id() -> None:
    assert position_of(ROW, "created_at") == {"id": "s1", "k": 10}
    assert position_of(ROW, "updated_at") == {"id": "s1", "k": 10}  # falls back to created_at, as the sort does
    assert position_of({**ROW, "updated_at": 12}, "updated_at") == {"id": "s1", "k": 12}
    assert position_of(ROW, "user_id") == {"id": "s1", "k": None}
    assert position_of(ROW, "session_id") == {"id": "s1"}
    assert position_of(ROW, "no_such_column") == {"id": "s1"}
    assert keyed_by("metadata") is None


@pytest.mark.parametrize(("position", "sort_by", "ok"), [
    ({"id": "s1", "k": 10}, "created_at", True),
    ({"id": "s1", "k": None}, "created_at", False),  # created_at is NOT NULL
    ({"id": "s1", "k": "10"}, "created_at", False),
    ({"id": "s1", "k": True}, "updated_at", False),
    ({"id": "s1", "k": 2**63}, "created_at", False),
    ({"id": "s1", "k": None}, "user_id", True),
    ({"id": "s1", "k": "u"}, "user_id", True),
    ({"id": "s1", "k": 5}, "user_id", False),
    ({"id": "s1"}, "created_at", False),
    ({"id": "s1"}, "session_id", True),
    ({"id": "s1", "k": 1}, "session_id", False),
    ({"id": 1}, "session_id", False),
    ({}, "session_id", False),
])
def test_only_positions_of_the_sorts_shape_are_accepted(position, sort_by, ok) -> None:
    assert valid_position(position, sort_by) is ok


def _text(sort_by: str, order: str, position: dict) -> tuple[str, dict]:
    condition, params = after_condition(sort_by, order, position)
    return condition.string, params


def test_conditions_bound_the_key_first_and_break_ties_on_the_id() -> None:
    text, params = _text("created_at", "desc", {"id": "s1", "k": 10})
    assert text == ("WHERE (created_at <= %(after_key)s::bigint AND (created_at < %(after_key)s::bigint OR "
                    "session_id < %(after_id)s))")
    assert params == {"after_id": "s1", "after_key": 10}
    text, _ = _text("updated_at", "asc", {"id": "s1", "k": 10})
    assert text.startswith("WHERE (COALESCE(updated_at, created_at) >= %(after_key)s::bigint")
    assert "IS NULL" not in text  # never NULL: no OR branch that would defeat the index
    assert _text("session_id", "asc", {"id": "s1"})[0] == "WHERE session_id > %(after_id)s"


def test_nullable_keys_place_nulls_as_postgresql_orders_them() -> None:
    asc, _ = _text("user_id", "asc", {"id": "s1", "k": "u"})
    assert asc.endswith(" OR user_id IS NULL")  # NULLs come last ascending: still ahead
    desc, _ = _text("user_id", "desc", {"id": "s1", "k": "u"})
    assert "IS NULL" not in desc  # NULLs come first descending: already behind
    assert _text("user_id", "asc", {"id": "s1", "k": None})[0] == "WHERE user_id IS NULL AND session_id > %(after_id)s"
    assert _text("user_id", "desc", {"id": "s1", "k": None})[0] == (
        "WHERE (user_id IS NULL AND session_id < %(after_id)s) OR user_id IS NOT NULL")
