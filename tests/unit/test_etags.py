"""The precondition header rules (service/rules/etags.py): strong If-Match, weak If-None-Match, `*`, lists."""

from __future__ import annotations

import pytest

from service.rules import etags

TAG = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(("header", "current", "passes"), [
    (None, TAG, True), (None, None, True),                        # no precondition
    (f'"{TAG}"', TAG, True), (f'"x", "{TAG}"', TAG, True), ("*", TAG, True),
    (f'W/"{TAG}"', TAG, False),                                   # weak tags never match If-Match
    ('"x"', TAG, False), ("", TAG, False), (f'"{TAG}" trailing junk', TAG, False),
    ("*", None, False), (f'"{TAG}"', None, False),                # nothing matches a missing session
])
def test_if_match(header: str | None, current: str | None, passes: bool) -> None:
    assert etags.if_match_passes(header, current) is passes


@pytest.mark.parametrize(("header", "hits"), [
    (None, False), ('"x"', False), ("", False),
    (f'"{TAG}"', True), (f'W/"{TAG}"', True), (f'"x",W/"{TAG}"', True), ("*", True),
])
def test_if_none_match(header: str | None, hits: bool) -> None:
    assert etags.if_none_match_hits(header, TAG) is hits


def test_the_header_value_is_a_quoted_strong_tag() -> None:
    assert etags.quoted(TAG) == f'"{TAG}"'
