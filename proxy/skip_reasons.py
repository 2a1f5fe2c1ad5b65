"""Why an exchange is not compared: the reasons summary.json counts under `not_compared`, checked in this order."""

from __future__ import annotations

from mitmproxy import http

from proxy import routes, streaming
from proxy.breaker import Breaker
from proxy.mirror import MARKER
from proxy.rules import Rules
from proxy.sampling import Sampler
from proxy.settings import Settings


def fixed(flow: http.HTTPFlow, route: str, s: Settings, rules: Rules) -> str | None:
    """The reason known once the answer's headers are in (such an answer is streamed, not copied); None if none."""
    if route == routes.NOT_ROUTED or rules.excluded(route):
        return "route_excluded"
    if MARKER in flow.request.headers:
        return "loop_guard"
    if s.mode == "cutover":
        return "cutover_mode"
    if flow.request.method.upper() not in routes.SAFE_METHODS and not s.mirror_writes:
        return "write_not_mirrored"
    if streaming.is_event_stream(flow.response.headers.get("content-type")):
        return "event_stream"
    return None


def at_answer(flow: http.HTTPFlow, route: str, s: Settings, sampler: Sampler, breaker: Breaker,
              pending: int) -> str | None:
    """The reason known once the whole answer is in, after the fixed ones; None to compare it."""
    copy = flow.metadata.get("shadow_copy")
    if copy is not None and copy.overflowed:
        return "body_too_large"
    path, query = routes.split_target(flow.request.path)
    if not sampler.sampled(route, routes.sampling_key(path, query)):
        return "sampled_out"
    if not sampler.admit():
        return "rate_capped"
    if not breaker.allow():
        return "breaker_open"
    if pending >= s.concurrency + s.queue:
        return "queue_full"
    return None
