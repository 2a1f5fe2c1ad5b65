"""The off-path calls: the same request sent to another side with httpx, in mitmproxy's own event loop."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

import httpx

from proxy.answers import Answer

MARKER = "x-agno-shadow"  # on every mirrored request; a request carrying it is never mirrored again
HOP_BY_HOP = frozenset({"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te",
                        "trailer", "upgrade", "proxy-authorization", "proxy-connection", MARKER})


class CallTimeout(Exception):
    """The side did not answer within the comparison timeout."""


class CallFailed(Exception):
    """The side could not be reached, or broke the exchange."""


class BodyTooLarge(Exception):
    """The side's answer is larger than the comparison may hold in memory."""


@dataclass(frozen=True)
class Outgoing:
    """A copy of the client's request, detached from the flow so it can be sent again later."""

    id: str
    method: str
    target: bytes  # path + query exactly as the client sent them
    headers: tuple[tuple[str, str], ...]
    body: bytes


def auth_headers(headers: tuple[tuple[str, str], ...], policy: str) -> list[tuple[str, str]]:
    """Authorization passed through, dropped, or replaced from an environment variable (`env:NAME`)."""
    kept = [(k, v) for k, v in headers if k.lower() != "authorization" or policy == "pass"]
    if policy.startswith("env:"):
        kept.append(("authorization", os.environ.get(policy[4:], "")))
    return kept


class Sender:
    """One pooled async client for every comparison call; each call has its own overall deadline."""

    def __init__(self, timeout: float, connections: int) -> None:
        self.timeout = timeout
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), limits=limits, follow_redirects=False,
                                        trust_env=False)

    async def send(self, base: str, req: Outgoing, auth: str = "pass", marked: bool = True,
                   limit: int | None = None) -> Answer:
        """The request on `base`; CallTimeout, CallFailed or BodyTooLarge instead of httpx's own exceptions."""
        headers = [(k, v) for k, v in auth_headers(req.headers, auth) if k.lower() not in HOP_BY_HOP]
        if marked:
            headers.append((MARKER, req.id))
        url = httpx.URL(base).copy_with(raw_path=req.target)
        request = self.client.build_request(req.method, url, headers=headers, content=req.body or None)
        started = time.perf_counter()
        try:
            try:
                response, body = await asyncio.wait_for(self._exchange(request, limit), self.timeout)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # A kept-alive connection the server closed just as it was reused (uvicorn drops idle ones after
                # 5 s): nothing was answered, so a read is asked once more on a fresh connection.
                if req.method not in ("GET", "HEAD"):
                    raise
                remaining = max(0.001, self.timeout - (time.perf_counter() - started))
                response, body = await asyncio.wait_for(self._exchange(request, limit), remaining)
        except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
            raise CallTimeout(f"{req.method} {base}: no answer in {self.timeout}s") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise CallFailed(f"{req.method} {base}: {type(exc).__name__}: {exc}") from exc
        headers_out = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw]
        return Answer(response.status_code, headers_out, body, time.perf_counter() - started)

    async def _exchange(self, request: httpx.Request, limit: int | None) -> tuple[httpx.Response, bytes]:
        """Send and read the decoded body, giving up (BodyTooLarge) as soon as it passes `limit` bytes."""
        response = await self.client.send(request, stream=True)
        try:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if limit is not None and size > limit:
                    raise BodyTooLarge(f"{request.method} {request.url}: answer larger than {limit} bytes")
                chunks.append(chunk)
            return response, b"".join(chunks)
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self.client.aclose()
