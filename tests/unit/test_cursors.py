"""Opaque cursors (rules/cursors.py): sealed positions survive a round trip; altered, foreign or replayed ones are
the two 400s, never an exception of another kind."""

from __future__ import annotations

import base64
import json

import pytest

from service.rules.cursors import MAX_CURSOR_CHARS, CursorInvalid, CursorMismatch, seal, unseal

KEY = b"k1"
BINDING = ["db", "ai", "agno_sessions", "s1"]
POSITION = {"i": 7, "c": 1767225600, "r": "run-7", "m": 3}


def test_a_sealed_position_round_trips_and_is_url_safe() -> None:
    token = seal("history", BINDING, POSITION, KEY)
    assert unseal(token, "history", BINDING, KEY) == POSITION
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert seal("history", BINDING, POSITION, KEY) == token  # deterministic: any worker or replica agrees


@pytest.mark.parametrize("binding", [["db", "ai", "agno_sessions", "s2"], ["db2", "ai", "agno_sessions", "s1"]])
def test_a_cursor_replayed_on_another_query_is_a_mismatch(binding) -> None:
    token = seal("history", BINDING, POSITION, KEY)
    with pytest.raises(CursorMismatch) as caught:
        unseal(token, "history", binding, KEY)
    assert (caught.value.status, caught.value.detail) == (400, "Cursor does not match the query")
    with pytest.raises(CursorMismatch):
        unseal(token, "runs", BINDING, KEY)  # another kind of cursor


def _forged_body(token: str) -> str:
    body, mac = token.split(".")
    raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[2]["m"] = 0
    edited = base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{edited}.{mac}"


def _flipped(token: str) -> str:
    return ("B" if token[0] == "A" else "A") + token[1:]


@pytest.mark.parametrize("make", [
    lambda t: "", lambda t: "abc", lambda t: "a.b", lambda t: t + ".x", lambda t: t.replace(".", ""),
    lambda t: t[:-2], lambda t: _flipped(t), lambda t: t + "=", lambda t: "%%%." + t.split(".")[1],
    lambda t: "x" * (MAX_CURSOR_CHARS + 1), _forged_body, lambda t: "é." + t.split(".")[1],
], ids=["empty", "no-dot", "garbage", "two-dots", "dotless", "truncated", "flipped", "padded", "bad-base64",
        "too-long", "edited-position", "non-ascii"])
def test_an_altered_cursor_is_invalid(make) -> None:
    token = seal("history", BINDING, POSITION, KEY)
    with pytest.raises(CursorInvalid) as caught:
        unseal(make(token), "history", BINDING, KEY)
    assert (caught.value.status, caught.value.detail) == (400, "Invalid cursor")


def test_a_cursor_sealed_under_another_key_is_invalid() -> None:
    with pytest.raises(CursorInvalid):
        unseal(seal("history", BINDING, POSITION, b"other"), "history", BINDING, KEY)
