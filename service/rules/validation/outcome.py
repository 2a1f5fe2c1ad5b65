"""The outcome of parsing one request: what FastAPI refuses at once, and our own 422s that wait for the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.rules.validation.errors import RequestInvalid


@dataclass
class Outcome:
    """A parsed part (query or body): FastAPI's own errors, and ours that count only when FastAPI found none."""

    value: Any
    errors: list[dict] = field(default_factory=list)
    deferred: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Parsed:
    """A request that passed FastAPI's validation: its query, its body, and our own 422 errors, which wait until
    the database is resolved (AgentOS answers a bad db_id first and would fail on these only later)."""

    query: dict
    body: Any = None
    deferred: list[dict] = field(default_factory=list)

    def checked(self) -> Parsed:
        """This request, or the deferred 422 now (for callers that resolve no database)."""
        if self.deferred:
            raise RequestInvalid(self.deferred)
        return self


def finish(query: Outcome, body: Outcome | None = None) -> Parsed:
    """FastAPI's 422 for every error it finds (query first), else the parsed request with our errors deferred."""
    parts = [query] if body is None else [query, body]
    errors = [e for p in parts for e in p.errors]
    if errors:
        raise RequestInvalid(errors)
    deferred = [e for p in parts for e in p.deferred]
    return Parsed(query.value, body.value if body is not None else None, deferred)
