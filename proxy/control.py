"""The control API on its own local listener: summary, reset, sampling at runtime, metrics, the HTML report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mitmproxy import http

if TYPE_CHECKING:
    from proxy.addon import ShadowAddon

JSON = {"content-type": "application/json"}


def answer(addon: ShadowAddon, method: str, path: str, body: bytes) -> http.Response:
    """Dispatch one control request; answered inside mitmproxy, never forwarded."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if path == "/summary" and method == "GET":
        return _json(200, addon.summary())
    if path == "/reset" and method == "POST":
        addon.reset()
        return _json(200, addon.summary())
    if path == "/sampling" and method == "GET":
        return _json(200, addon.sampler.settings())
    if path == "/sampling" and method in ("PUT", "PATCH"):
        try:
            changes = json.loads(body or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("the body must be a JSON object")
            addon.sampler.update(changes)
        except ValueError as exc:
            return _json(422, {"detail": str(exc)})
        return _json(200, addon.sampler.settings())
    if path == "/metrics" and method == "GET":
        return http.Response.make(200, addon.metrics.exposition(),
                                  {"content-type": "text/plain; version=0.0.4; charset=utf-8"})
    if path == "/report" and method == "GET":
        return http.Response.make(200, addon.html(), {"content-type": "text/html; charset=utf-8"})
    if path in ("/summary", "/reset", "/sampling", "/metrics", "/report"):
        return _json(405, {"detail": "Method Not Allowed"})
    return _json(404, {"detail": "Not Found", "routes": ["GET /summary", "POST /reset", "GET|PUT /sampling",
                                                         "GET /metrics", "GET /report"]})


def _json(status: int, document: Any) -> http.Response:
    return http.Response.make(status, json.dumps(document, indent=2, default=str), JSON)
