"""deviations.json and docs/compatibility.md name exactly the same deliberate differences."""

from __future__ import annotations

import re
from pathlib import Path

from tests.contract import deviations

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"


def documented_names() -> list[str]:
    """Names in the first column of the doc's tables (the `Known gaps` list is prose, not deviations)."""
    return re.findall(r"^\| `([a-z0-9-]+)` \|", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)


def test_every_declared_deviation_is_documented_and_vice_versa() -> None:
    declared = [d.name for d in deviations.load()]
    assert len(declared) == len(set(declared)), "a deviation is declared twice"
    assert sorted(declared) == sorted(documented_names())


def test_every_observable_deviation_says_what_it_expects() -> None:
    for dev in deviations.load():
        if dev.when is not None:
            assert "a_status" in dev.expect and "b_status" in dev.expect, dev.name
