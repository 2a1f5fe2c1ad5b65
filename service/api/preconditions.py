"""The `If-Match` of a write to one session (extension `preconditions`): refused with 428 before anything is read
when the deployment requires it, compared on the locked row inside the write's transaction otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from service.rules import etags
from service.rules.errors import ApiError

Row = TypeVar("Row")
Write = TypeVar("Write")


def write_precondition() -> Callable[[str | None], None] | None:
    """What the storage calls with the locked row's tag (None: no such session), raising 412 when If-Match does not
    match; None when the request has no If-Match (428 instead when AGNO_REQUIRE_IF_MATCH is set)."""
    header = request.headers.get("If-Match")
    if header is None:
        if current_app.config["SETTINGS"].require_if_match:
            raise ApiError(428, etags.REQUIRED)
        return None

    def check(current: str | None) -> None:
        if not etags.if_match_passes(header, current):
            raise ApiError(412, etags.CHANGED, {"ETag": etags.quoted(current)} if current is not None else None)

    return check


def refuse_missing(precondition: Callable[[str | None], None] | None) -> None:
    """A write that found no session: 412 under If-Match (no tag matches a missing session); the caller answers
    AgentOS's 404 otherwise."""
    if precondition is not None:
        precondition(None)


def checked(compute: Callable[[Row], Write], precondition: Callable[[str | None], None] | None
            ) -> Callable[[Row], Write]:
    """`compute` for a locked-row write, comparing If-Match against the locked row's `etag` first."""
    if precondition is None:
        return compute

    def run(row: Row) -> Write:
        precondition(row["etag"])  # type: ignore[index]
        return compute(row)

    return run
