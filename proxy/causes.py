"""A differing pair's cause as the report groups it, with the error text each side gave."""

from __future__ import annotations

from proxy.answers import Answer
from proxy.deviations import Deviation
from proxy.diff import Difference
from proxy.tally import Cause

TEXT_LIMIT = 300


def cause_of(route: str, primary: Answer, other: Answer, differences: list[Difference], outcome: str,
             declared: Deviation | None) -> Cause:
    """Route, status pair, and the first message (an error's detail) or else the first differing pointer."""
    p_text, o_text = error_text(primary), error_text(other)
    if primary.status != other.status:
        first = o_text if other.status >= primary.status else p_text
    else:
        d = differences[0]
        first = f"{d.part} {d.pointer or '/'}: {d.kind}" if d.part == "body" else f"{d.part}: {d.kind}"
    return Cause(route, f"{primary.status} / {other.status}", first, outcome,
                 declared.name if declared else None, dict(declared.reason) if declared else {}, p_text, o_text)


def error_text(answer: Answer) -> str:
    """An error answer's `detail` (or its first bytes); empty for a success."""
    if answer.status < 400:
        return ""
    ok, document = answer.parsed()
    if ok and isinstance(document, dict) and "detail" in document:
        detail = document["detail"]
        text = detail if isinstance(detail, str) else str(detail)
    else:
        text = answer.body.decode("utf-8", "replace")
    return text[:TEXT_LIMIT] + ("…" if len(text) > TEXT_LIMIT else "")
