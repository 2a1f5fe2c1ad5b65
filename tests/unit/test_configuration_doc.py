"""docs/configuration.md documents exactly the environment variables the service reads: none missing, none stale."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Variables the service reads but does not own: the platform's, documented where they matter (the data directory).
NOT_SETTINGS = {"XDG_DATA_HOME"}
VARIABLE = re.compile(r"(AGNO|JWT|OS|DATABASE|PROMETHEUS|XDG)_[A-Z][A-Z_]*")


def read_by_service() -> set[str]:
    """Every string constant under service/ that is an environment variable's name."""
    found = set()
    for path in (ROOT / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and VARIABLE.fullmatch(node.value):
                found.add(node.value)
    return found - NOT_SETTINGS


def documented() -> set[str]:
    """The variables named in the first column of the reference's tables."""
    names = set()
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return names


def test_every_variable_the_service_reads_is_documented_and_nothing_else() -> None:
    read, doc = read_by_service(), documented()
    assert len(read) > 40  # the scan sees the settings at all
    assert sorted(read - doc) == [], "read by the service but missing from docs/configuration.md"
    assert sorted(doc - read) == [], "documented in docs/configuration.md but read nowhere"
