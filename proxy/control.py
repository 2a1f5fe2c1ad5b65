"""The control API on its own local listener: the mode, summary, reset, sampling at runtime, metrics, the report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mitmproxy import http

from proxy.settings import MODES

if TYPE_CHECKING:
    from proxy.addon import ShadowAddon

JSON = {"content-type": "application/json"}


def answer(addon: ShadowAddon, method: str, path: str, body: bytes) -> http.Response:
    """Dispatch one control request; answered inside mitmproxy, never forwarded."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if path == "/mode" and method == "GET":
        return _json(200, addon.mode_status())
    if path == "/mode" and method == "PUT":
        try:
            mode = requested_mode(body)
        except ValueError as exc:
            return _json(400, {"detail": str(exc)})
        changed = addon.switch_mode(mode)
        return _json(200, {**addon.mode_status(), "changed": changed})
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
    if path in ("/mode", "/summary", "/reset", "/sampling", "/metrics", "/report"):
        return _json(405, {"detail": "Method Not Allowed"})
    return _json(404, {"detail": "Not Found", "routes": ["GET|PUT /mode", "GET /summary", "POST /reset",
                                                         "GET|PUT /sampling", "GET /metrics", "GET /report"]})


def requested_mode(body: bytes) -> str:
    """The mode of a `PUT /mode` body, `{"mode": "cutover"}`; ValueError saying what is wrong."""
    try:
        document = json.loads(body or b"")
    except ValueError:
        raise ValueError('the body must be JSON: {"mode": "shadow" | "cutover" | "reverse"}') from None
    if not isinstance(document, dict) or set(document) != {"mode"}:
        raise ValueError('the body must be a JSON object with one key, "mode"')
    mode = document["mode"]
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {json.dumps(mode)}")
    return mode


def _json(status: int, document: Any) -> http.Response:
    return http.Response.make(status, json.dumps(document, indent=2, default=str), JSON)
