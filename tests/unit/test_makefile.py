"""Plain `make` answers with every target, grouped, one line each: a target without a description cannot hide."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ["Run", "Test", "Proxy", "Bench", "Deploy"]


def listed() -> dict[str, list[str]]:
    """The targets plain `make` prints, by group, in order."""
    out = subprocess.run(["make", "--no-print-directory", "-s"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    groups: dict[str, list[str]] = {}
    group = None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            group = line.strip()
            groups[group] = []
        elif line.strip():
            assert group is not None, line
            name, _, description = line.strip().partition(" ")
            assert description.strip(), f"{name} has no description"
            groups[group].append(name)
    return groups


def defined() -> set[str]:
    """Every target the Makefile defines by name (the file-named stamp rules aside)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-zA-Z_-]*):(?!=)", text, re.MULTILINE))


def test_plain_make_lists_every_target_once_in_its_group() -> None:
    groups = listed()
    assert list(groups) == GROUPS
    names = [name for members in groups.values() for name in members]
    assert len(names) == len(set(names))
    assert set(names) == defined()
    assert {"run", "install"} <= set(groups["Run"]) and "unit-test" in groups["Test"]


def test_every_named_target_is_phony() -> None:
    """A file called like a target (a `test` directory, a `bench` package) must not make it 'up to date'."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = set(" ".join(re.findall(r"^\.PHONY:(.*)$", text, re.MULTILINE)).split())
    assert defined() <= phony
