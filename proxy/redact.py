"""Secrets out of everything the proxy writes down: credentials in headers and tokens in query strings."""

from __future__ import annotations

import re
import shlex
from urllib.parse import parse_qsl, quote

REDACTED = "[REDACTED]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
                            "x-auth-token", "x-amz-security-token"})
SECRET_PARAM = re.compile(r"(token|key|secret|password|passwd|signature|sig|auth|credential|session_token)",
                          re.IGNORECASE)
NOT_REPLAYED = frozenset({"host", "content-length", "connection", "transfer-encoding", "accept-encoding"})


def headers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Header pairs with credential values replaced."""
    return [(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in pairs]


def target(raw: str) -> str:
    """A request target whose secret-looking query values are replaced (the rest stays byte for byte)."""
    path, sep, query = raw.partition("?")
    if not sep:
        return raw
    parts = []
    for piece in query.split("&"):
        name, eq, _ = piece.partition("=")
        decoded = parse_qsl(piece, keep_blank_values=True)
        key = decoded[0][0] if decoded else name
        parts.append(f"{name}={quote(REDACTED)}" if eq and SECRET_PARAM.search(key) else piece)
    return f"{path}?{'&'.join(parts)}"


def curl(base_url: str, method: str, raw_target: str, pairs: list[tuple[str, str]], body: bytes) -> str:
    """A curl command that repeats the request without secrets: credentials come from $AGNO_SHADOW_AUTH."""
    argv = ["curl", "-sS", "-i", "--path-as-is", "-X", method, base_url.rstrip("/") + target(raw_target)]
    for name, value in pairs:
        lower = name.lower()
        if lower in NOT_REPLAYED or lower == "x-agno-shadow":
            continue
        if lower in SECRET_HEADERS:
            argv.append("-H")
            argv.append(f'{name}: ${{AGNO_SHADOW_AUTH}}' if lower == "authorization" else f"{name}: {REDACTED}")
            continue
        argv += ["-H", f"{name}: {value}"]
    if body:
        argv += ["--data-binary", body.decode("utf-8", "replace")]
    quoted = [shlex.quote(a) for a in argv]
    # Let the shell expand the credential variable, nothing else.
    return " ".join(q.replace("${AGNO_SHADOW_AUTH}", "'\"${AGNO_SHADOW_AUTH}\"'") for q in quoted)
