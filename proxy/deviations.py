"""The project's one list of deliberate differences (tests/contract/deviations.json), read by the proxy so that a
declared difference is reported as declared, with its reason from docs/compatibility.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxy.answers import Answer

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPOSITORY / "tests" / "contract" / "deviations.json"
REASONS_DOC = REPOSITORY / "docs" / "compatibility.md"


class DeviationsError(ValueError):
    """A deviations file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Request:
    """What a deviation's `when` is matched against: the request as the client sent it."""

    method: str
    target: str
    body: str
    headers: str  # `name: value` lines, names lower-cased


@dataclass(frozen=True)
class Deviation:
    """One named difference: which requests it is about, and how both answers look when it is the cause."""

    name: str
    when: tuple[dict[str, re.Pattern[str]], ...]
    expect: dict[str, Any]
    reason: dict[str, str] = field(default_factory=dict)

    def matches(self, req: Request) -> bool:
        """Every pattern of any one `when` alternative is found in the request."""
        text = {"method": req.method, "target": req.target, "body": req.body, "headers": req.headers}
        return any(all(p.search(text[k]) for k, p in alt.items()) for alt in self.when)

    def explains(self, agentos: Answer, sessions: Answer) -> bool:
        """Both answers look as the declaration says (stored rows are not the proxy's to see)."""
        e = self.expect
        if not (_status_ok(agentos.status, e.get("a_status")) and _status_ok(sessions.status, e.get("b_status"))):
            return False
        for key, answer in (("a_detail", agentos), ("b_detail", sessions)):
            if key in e and not re.search(e[key], answer.body.decode("utf-8", "replace")):
                return False
        return "reordered" not in e or _reordered_equal(agentos, sessions, e["reordered"])


def load(path: str | Path | None = None, reasons_doc: Path = REASONS_DOC) -> list[Deviation]:
    """Every observable deviation (those with a `when`), in file order; DeviationsError if unusable."""
    source = Path(path) if path else DEFAULT_FILE
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))["deviations"]
        reasons = documented_reasons(reasons_doc)
        return [Deviation(d["name"], _compiled(d["when"]), dict(d.get("expect", {})), reasons.get(d["name"], {}))
                for d in raw if d.get("when") is not None]
    except OSError as exc:
        raise DeviationsError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError, re.error) as exc:
        raise DeviationsError(f"{source}: not a deviations file ({type(exc).__name__}: {exc}); its schema is in "
                              "its \"about\" field") from exc


def explain(devs: list[Deviation], req: Request, agentos: Answer, sessions: Answer) -> Deviation | None:
    """The declared deviation that accounts for this pair, or None: an undeclared difference, a regression."""
    return next((d for d in devs if d.matches(req) and d.explains(agentos, sessions)), None)


def documented_reasons(doc: Path) -> dict[str, dict[str, str]]:
    """Per deviation name, its row of docs/compatibility.md as {column heading: cell}; {} without the doc."""
    try:
        lines = doc.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    found: dict[str, dict[str, str]] = {}
    headings: list[str] = []
    for line in lines:
        if not line.startswith("|"):
            headings = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not headings:
            headings = cells
            continue
        name = re.fullmatch(r"`([\w-]+)`", cells[0])
        if name:
            found[name.group(1)] = dict(zip(headings[1:], cells[1:], strict=False))
    return found


def _compiled(when: dict | list) -> tuple[dict[str, re.Pattern[str]], ...]:
    alternatives = when if isinstance(when, list) else [when]
    return tuple({k: re.compile(p) for k, p in alt.items()} for alt in alternatives)


def _status_ok(status: int, expected: int | list[int] | None) -> bool:
    return expected is None or status == expected or (isinstance(expected, list) and status in expected)


def _reordered_equal(a: Answer, b: Answer, key: str) -> bool:
    """Equal once the list under `key` is in session_id order: only the order was unspecified."""
    ok_a, body_a = a.parsed()
    ok_b, body_b = b.parsed()
    if not (ok_a and ok_b):
        return False
    for body in (body_a, body_b):
        items = body.get(key) if isinstance(body, dict) else None
        if not isinstance(items, list):
            return False
        body[key] = sorted(items, key=lambda item: str(item.get("session_id") if isinstance(item, dict) else item))
    return body_a == body_b
