"""JSON pointers (RFC 6901) and the wildcard patterns noise rules use to name them."""

from __future__ import annotations

import re


def escape(token: str | int) -> str:
    """One reference token, escaped as RFC 6901 says."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join(pointer: str, token: str | int) -> str:
    """The pointer of a child."""
    return f"{pointer}/{escape(token)}"


def generalise(pointer: str) -> str:
    """Array indices replaced by `*`, so `/data/3/name` and `/data/7/name` count as one field."""
    return re.sub(r"/\d+(?=/|$)", "/*", pointer)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`*` matches within one token, `**` any number of tokens (any depth); raises ValueError when malformed."""
    if pattern == "":
        return re.compile(r"^$")
    if not pattern.startswith("/"):
        raise ValueError(f"pointer pattern {pattern!r} must be empty or start with '/'")
    parts = []
    for token in pattern.split("/")[1:]:
        if token == "**":
            parts.append(r"(?:/[^/]*)*")
        elif "**" in token:
            raise ValueError(f"pointer pattern {pattern!r}: '**' must be a whole token")
        else:
            parts.append("/" + re.escape(token).replace(r"\*", "[^/]*"))
    return re.compile("^" + "".join(parts) + "$")
