"""RFC 8288 `Link` targets for the extensions' cursor pages: the request's own URL with one cursor parameter
replaced, so every paged route names its next page the same way."""

from __future__ import annotations

from urllib.parse import quote, unquote_plus

from flask import request

_QUERY_SAFE = "%=+/:@!$'()*,;?-._~"  # kept as sent; anything else (`>`, spaces, raw bytes) percent-encoded


def page_url(parameter: str, token: str, drop: tuple[str, ...] = ()) -> str:
    """This request as a path-absolute URL (RFC 3986 §4.2, resolved against the request's own URL): its path and
    query, its other parameters kept as sent (characters a URL cannot hold escaped) but those named in `drop`,
    `parameter` set to `token`."""
    pieces = [quote(p.encode("latin-1"), safe=_QUERY_SAFE) for p in request.query_string.decode("latin-1").split("&")
              if p and unquote_plus(p.split("=", 1)[0]) not in (parameter, *drop)]
    path = quote(request.script_root + request.path, safe="/!$&'()*+,;=:@-._~")
    return f"{path}?{'&'.join([*pieces, f'{parameter}={token}'])}"


def link(parameter: str, token: str, rel: str, drop: tuple[str, ...] = ()) -> str:
    """The `Link` header value naming the page `token` opens (without the parameters `drop` names)."""
    return f'<{page_url(parameter, token, drop)}>; rel="{rel}"'
