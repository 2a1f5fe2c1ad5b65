"""Flows and addons for the proxy's unit tests: mitmproxy's test flows, a configured shadow addon, an in-process
candidate, the control listener, the hooks driven in mitmproxy's order."""

from __future__ import annotations

import asyncio
import json

import httpx
from mitmproxy.test import tflow

from proxy.addon import ShadowAddon
from proxy.control import ControlApi
from proxy.mirror import Sender

AGENTOS, SESSIONS = "http://127.0.0.1:7777", "http://127.0.0.1:8080"


def configured(tctx, addon: ShadowAddon, tmp_path, **options) -> ShadowAddon:
    tctx.configure(addon, shadow_agentos=AGENTOS, shadow_sessions=SESSIONS,
                   shadow_report_dir=str(tmp_path / "report"), **options)
    return addon


def flow(method: str = "GET", path: str = "/sessions/s1", body: bytes = b"", status: int = 200,
         answer: dict | None = None, headers: dict | None = None):
    f = tflow.tflow(resp=True)
    f.request.method, f.request.path, f.request.content = method, path, body
    for name, value in (headers or {}).items():
        f.request.headers[name] = value
    f.response.status_code = status
    f.response.headers["content-type"] = "application/json"
    document = answer if answer is not None else {"session_id": "s1", "n": 1}
    f.response.content = json.dumps(document, separators=(",", ":")).encode()
    return f


def candidate(addon: ShadowAddon, handler) -> None:
    """The comparison side replaced by an in-process transport."""
    addon.comparer.sender = Sender(addon.settings.timeout, 4)
    addon.comparer.sender.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    addon.comparer.slots = asyncio.Semaphore(addon.settings.concurrency)


def json_answer(document: dict, status: int = 200):
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=document, headers={"content-type": "application/json"})
    return handler


def request(addon: ShadowAddon, f) -> None:
    """The request hook as mitmproxy calls it: before the answer exists (which `flow` already built)."""
    answer, f.response = f.response, None
    addon.request(f)
    f.response = answer


def control(addon: ShadowAddon, method: str, path: str, body: bytes = b""):
    """A request on the control listener (port 8881), through the control addon."""
    f = tflow.tflow()
    f.client_conn.sockname = ("127.0.0.1", 8881)
    f.request.method, f.request.path, f.request.content = method, path, body
    ControlApi(addon).request(f)
    return f.response


async def drive(addon: ShadowAddon, *flows) -> None:
    for f in flows:
        request(addon, f)
        addon.response(f)
    while addon.comparer.tasks:
        await asyncio.gather(*addon.comparer.tasks)
