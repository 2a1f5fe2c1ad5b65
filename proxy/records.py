"""What a differing pair leaves behind: its differences.ndjson line and its example in the summary, redacted."""

from __future__ import annotations

import time
from typing import Any

from proxy import redact
from proxy.answers import Answer
from proxy.diff import Difference
from proxy.mirror import Outgoing
from proxy.settings import Settings

EXAMPLE_BODY_LIMIT = 4000  # bytes of each side's body an example shows


def example(s: Settings, req: Outgoing, primary: Answer, other: Answer, outcome: str) -> dict[str, Any]:
    """The route's example in summary.json and the HTML report."""
    limit = EXAMPLE_BODY_LIMIT
    return {"method": req.method, "target": redact.target(req.target.decode("latin-1")), "outcome": outcome,
            "primary_side": s.primary_side, "primary_status": primary.status,
            "candidate_status": other.status, "primary_body": primary.body[:limit].decode("utf-8", "replace"),
            "candidate_body": other.body[:limit].decode("utf-8", "replace"),
            "curl": curl(s.other, req)}


def entry(s: Settings, route: str, req: Outgoing, primary: Answer, other: Answer, differences: list[Difference],
          outcome: str, recheck: dict | None) -> dict[str, Any]:
    """The pair's line in differences.ndjson (the caller adds which declared deviation it was, if any)."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "id": req.id, "mode": s.mode,
        "route": route, "outcome": outcome, "primary_side": s.primary_side,
        "candidate_side": "sessions" if s.primary_side == "agentos" else "agentos",
        "request": {"method": req.method, "target": redact.target(req.target.decode("latin-1")),
                    "headers": [list(h) for h in redact.headers(list(req.headers))],
                    "body": req.body[:s.body_limit].decode("utf-8", "replace")},
        "primary": _redacted(primary.as_dict(s.body_limit)),
        "candidate": _redacted(other.as_dict(s.body_limit)),
        "differences": [d.as_dict() for d in differences],
        "recheck": recheck,
        "curl": {"primary": curl(s.primary, req), "candidate": curl(s.other, req)},
    }


def curl(base: str, req: Outgoing) -> str:
    """The request as a curl command line against `base`, secrets redacted."""
    return redact.curl(base, req.method, req.target.decode("latin-1"), list(req.headers), req.body)


def _redacted(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "headers": [list(h) for h in redact.headers([tuple(h) for h in answer["headers"]])]}
