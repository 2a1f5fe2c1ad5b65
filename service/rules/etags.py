"""HTTP preconditions on a session (RFC 9110 §13): `If-Match` compares strongly, `If-None-Match` weakly, `*` matches
any current state; header values are parsed by werkzeug (a list of tags, `W/` marking weak ones)."""

from __future__ import annotations

from werkzeug.http import parse_etags, quote_etag

CHANGED = "Session has changed"
REQUIRED = "If-Match is required"


def quoted(tag: str) -> str:
    """The `ETag` header value of a session's tag: strong, quoted."""
    return quote_etag(tag)


def if_match_passes(header: str | None, current: str | None) -> bool:
    """Whether a write may go ahead: no header, `*` on an existing session, or a listed strong tag equal to the
    current one (`current` None: no such session, which no precondition matches). Weak tags never match."""
    if header is None:
        return True
    if current is None:
        return False
    return parse_etags(header).contains(current)


def if_none_match_hits(header: str | None, current: str) -> bool:
    """Whether a read of an existing session is answered 304: `*`, or any listed tag (weak or strong) equal to the
    current one."""
    if header is None:
        return False
    tags = parse_etags(header)
    return tags.star_tag or tags.contains_weak(current)
