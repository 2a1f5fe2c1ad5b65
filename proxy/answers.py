"""One side's answer, and the comparison of two answers under the rules of their route."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from proxy.diff import Difference, Noise, diff


@dataclass
class Answer:
    """Status, headers (names lower-cased, in order, repeats kept) and the decoded body of one response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float = 0.0

    def header(self, name: str) -> str | None:
        """A header's value, repeats joined with ', ' as HTTP allows."""
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None

    def parsed(self) -> tuple[bool, Any]:
        """(True, document) when the body is JSON, else (False, None)."""
        if not self.body:
            return False, None
        try:
            return True, json.loads(self.body)
        except ValueError:
            return False, None

    def as_dict(self, body_limit: int) -> dict[str, Any]:
        """The NDJSON shape; the body as text, cut at body_limit bytes."""
        body = self.body[:body_limit].decode("utf-8", "replace")
        return {"status": self.status, "headers": [list(h) for h in self.headers], "body": body,
                "body_truncated": len(self.body) > body_limit, "seconds": round(self.seconds, 6)}


def compare(primary: Answer, candidate: Answer, noise: Noise, headers: tuple[str, ...]) -> list[Difference]:
    """Status, the named headers and the body: JSON structurally, anything else byte for byte."""
    out: list[Difference] = []
    if primary.status != candidate.status:
        out.append(Difference("", "value", primary.status, candidate.status, part="status"))
    for name in headers:
        a, b = primary.header(name), candidate.header(name)
        if a != b:
            kind = "missing" if b is None else "extra" if a is None else "value"
            out.append(Difference("", kind, a, b, part=f"header:{name}"))
    if primary.body == candidate.body:
        return out
    ok_a, doc_a = primary.parsed()
    ok_b, doc_b = candidate.parsed()
    if not (ok_a and ok_b):
        out.append(Difference("", "bytes", _text(primary.body), _text(candidate.body)))
        return out
    found = diff(doc_a, doc_b, noise)
    if not found and not diff(doc_a, doc_b):
        # Same document, different bytes (spacing, escapes, duplicate keys): a client that hashes it sees it.
        found = [Difference("", "bytes", _text(primary.body), _text(candidate.body))]
    return out + found


def _text(body: bytes, limit: int = 2000) -> str:
    return body[:limit].decode("utf-8", "replace")
