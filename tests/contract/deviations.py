"""The declared deviations (deviations.json) and the one question the contract test asks of them:
is this difference between AgentOS and agno-session one we chose?"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.contract import replay

FILE = Path(__file__).resolve().parent / "deviations.json"


@dataclass(frozen=True)
class Deviation:
    """One named, deliberate difference and the evidence that identifies it."""

    name: str
    when: dict[str, str] | list[dict[str, str]] | None
    expect: dict[str, Any]

    def matches(self, req: replay.Request) -> bool:
        """Whether the request is one this deviation is about: every pattern of any one `when` alternative."""
        if self.when is None:
            return False
        text = {"method": req.method, "target": req.target,
                "body": "" if req.body is None else req.body.decode("utf-8", "replace"),
                "headers": "\n".join(f"{name.lower()}: {value}" for name, value in req.headers)}
        alternatives = self.when if isinstance(self.when, list) else [self.when]
        return any(all(re.search(p, text[k]) for k, p in alt.items()) for alt in alternatives)

    def explains(self, a: replay.Response, b: replay.Response, row_problems: list[str]) -> bool:
        """Whether both answers (and the rows) look exactly as this deviation says they do."""
        e = self.expect
        if a.status == b.status and a.reason != b.reason:
            return False  # a status's reason phrase is never a chosen difference
        if not (_status_ok(a.status, e.get("a_status")) and _status_ok(b.status, e.get("b_status"))):
            return False
        if "a_detail" in e and not re.search(e["a_detail"], a.body.decode("utf-8", "replace")):
            return False
        if "b_detail" in e and not re.search(e["b_detail"], b.body.decode("utf-8", "replace")):
            return False
        if row_problems and not e.get("rows"):
            return False
        if isinstance(e.get("rows"), list) and not all(_kept_by_b(p, e["rows"]) for p in row_problems):
            return False
        if "reordered" in e:
            return _reordered_equal(a, b, e["reordered"])
        return True


def _kept_by_b(problem: str, tables: list[str]) -> bool:
    """A row-comparison problem that is a row of one of these tables A deleted and B kept."""
    found = re.fullmatch(r"row (\w+)\[.*\]: only in B", problem, flags=re.DOTALL)
    return found is not None and found.group(1) in tables


def _status_ok(status: int, expected: int | list[int] | None) -> bool:
    return expected is None or status == expected or (isinstance(expected, list) and status in expected)


def _reordered_equal(a: replay.Response, b: replay.Response, key: str) -> bool:
    """Same answer once the list under `key` is put in session_id order: only the order was unspecified."""
    try:
        body_a, body_b = json.loads(a.body), json.loads(b.body)
    except ValueError:
        return False
    for body in (body_a, body_b):
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            return False
        body[key] = sorted(items, key=lambda item: str(item.get("session_id")))
    return body_a == body_b


def load() -> list[Deviation]:
    """Every declared deviation, in file order."""
    raw = json.loads(FILE.read_text(encoding="utf-8"))["deviations"]
    return [Deviation(d["name"], d.get("when"), d.get("expect", {})) for d in raw]


def explain(devs: list[Deviation], req: replay.Request, a: replay.Response, b: replay.Response,
            row_problems: list[str] | None = None) -> str | None:
    """The name of the deviation that accounts for this difference, or None (an undeclared difference)."""
    return next((d.name for d in devs if d.matches(req) and d.explains(a, b, row_problems or [])), None)
