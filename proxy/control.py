"""The control API on its own local listener: the mode, summary, reset, sampling at runtime, metrics, the report."""

from __future__ import annotations

import json
from typing import Any, Protocol

from mitmproxy import http

from proxy.metrics import Metrics
from proxy.sampling import Sampler
from proxy.settings import MODES, Settings

JSON = {"content-type": "application/json"}


class Controlled(Protocol):
    """What the control API reads and drives: the shadow addon, handed over by proxy/shadow.py, never imported."""

    settings: Settings | None
    sampler: Sampler
    metrics: Metrics

    def mode_status(self) -> dict[str, Any]: ...
    def switch_mode(self, mode: str) -> bool: ...
    def summary(self) -> dict[str, Any]: ...
    def reset(self) -> None: ...
    def html(self) -> str: ...


class ControlApi:
    """A mitmproxy addon of its own, listed before the shadow addon: it answers every flow that came in on the
    control port, so the shadow addon's guard leaves those flows alone."""

    def __init__(self, shadow: Controlled) -> None:
        self.shadow = shadow

    def request(self, flow: http.HTTPFlow) -> None:
        """Answered here, inside mitmproxy; a control request is never forwarded."""
        if flow.response is not None or not self.is_control(flow):
            return
        flow.response = answer(self.shadow, flow.request.method, flow.request.path, flow.request.raw_content or b"")

    def is_control(self, flow: http.HTTPFlow) -> bool:
        """Whether the flow came in on the control listener (none is configured while the port is 0)."""
        port = self.shadow.settings.control_port if self.shadow.settings else 0
        return bool(port) and flow.client_conn.sockname is not None and flow.client_conn.sockname[1] == port


def answer(addon: Controlled, method: str, path: str, body: bytes) -> http.Response:
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
