"""The mitmproxy addon: routes /sessions by mode, answers clients from the primary, compares off the path."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http

from proxy import control, html_report, redact, routes, rules
from proxy.answers import Answer, compare
from proxy.breaker import Breaker
from proxy.diff import Difference
from proxy.metrics import Metrics
from proxy.mirror import MARKER, Caller, CallFailed, CallTimeout, Outgoing
from proxy.outputs import ReportDir
from proxy.sampling import Sampler
from proxy.settings import OPTIONS, Settings, from_options
from proxy.tally import Tally

log = logging.getLogger(__name__)
FLUSH_DELAY = 0.2  # seconds: summary.json trails the counts by at most this much


class ShadowAddon:
    """Shadow, cut-over and reverse shadow in one addon; see docs/cutover.md."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.rules = rules.load()
        self.sampler = Sampler()
        self.breaker = Breaker()
        self.metrics = Metrics()
        self.tally = Tally()
        self.report: ReportDir | None = None
        self.caller: Caller | None = None
        self.slots: asyncio.Semaphore | None = None
        self.pending = 0
        self.tasks: set[asyncio.Task] = set()
        self._flush_scheduled = False

    # --- mitmproxy lifecycle -------------------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        for name, typespec, default, help_text in OPTIONS:
            loader.add_option(name, typespec, default, help_text)

    def configure(self, updated: set[str]) -> None:
        if not any(name.startswith("shadow_") for name in updated):
            return
        settings = from_options(ctx.options)
        try:
            loaded = rules.load(settings.rules_file or None)
        except rules.RulesError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        self.settings, self.rules = settings, loaded
        sampling = dict(loaded.sampling)
        if settings.sample_percent is not None:
            sampling["percent"] = settings.sample_percent
        if settings.rate is not None:
            sampling["rate_per_second"] = settings.rate
        self.sampler = Sampler()
        self.sampler.update(sampling)
        self.breaker = Breaker(settings.breaker_failures, settings.breaker_cooldown)
        self.tally.mode = settings.mode
        if self.report is None or self.report.dir.as_posix() != settings.report_dir:
            if self.report is not None:
                self.report.close()
            self.report = ReportDir(settings.report_dir)
        self.caller = None  # rebuilt with the new limits on first use, inside the event loop

    def running(self) -> None:
        self.flush()
        log.info("shadow proxy: mode %s, routes %s, reports in %s", self.settings.mode,
                 ",".join(self.settings.prefixes), self.settings.report_dir)

    async def done(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.caller is not None:
            await self.caller.close()
        self.flush()
        if self.report is not None:
            self.report.close()

    # --- hooks ---------------------------------------------------------------------------------------------

    def request(self, flow: http.HTTPFlow) -> None:
        """Control requests are answered here; routed paths go to agno-session in cutover and reverse mode."""
        s = self.settings
        if self._is_control(flow):
            flow.response = control.answer(self, flow.request.method, flow.request.path,
                                           flow.request.raw_content or b"")
            return
        path, _ = routes.split_target(flow.request.path)
        routed = routes.is_routed(path, s.prefixes)
        flow.metadata["shadow_route"] = routes.canonical(flow.request.method, path) if routed else routes.NOT_ROUTED
        if routed and s.mode in ("cutover", "reverse"):
            flow.request.scheme, flow.request.host, flow.request.port = base_url_parts(s.sessions)

    def response(self, flow: http.HTTPFlow) -> None:
        """The client's answer is already decided; count it and maybe start the comparison in the background."""
        if self._is_control(flow) or "shadow_route" not in flow.metadata:
            return
        route = flow.metadata["shadow_route"]
        self.tally.seen(route)
        self.metrics.requests.labels(route).inc()
        started = flow.request.timestamp_start
        ended = flow.response.timestamp_end or time.time()
        self.metrics.latency.labels("primary").observe(max(0.0, ended - started))
        reason = self._reason_to_skip(flow, route)
        if reason:
            self._skip(route, reason)
            return
        self.pending += 1
        self.metrics.pending.set(self.pending)
        self.tally.mirrored(route)
        self.metrics.mirrored.labels(route).inc()
        primary = Answer(flow.response.status_code,
                         [(k.lower(), v) for k, v in flow.response.headers.items(multi=True)],
                         flow.response.get_content(strict=False) or b"", max(0.0, ended - started))
        outgoing = Outgoing(flow.id, flow.request.method, flow.request.data.path,
                            tuple(flow.request.headers.items(multi=True)), flow.request.raw_content or b"")
        task = asyncio.get_running_loop().create_task(self._compare(route, outgoing, primary))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def error(self, flow: http.HTTPFlow) -> None:
        """The primary gave no answer (the client got mitmproxy's error): nothing to compare with."""
        if self._is_control(flow) or "shadow_route" not in flow.metadata or flow.response is not None:
            return
        route = flow.metadata["shadow_route"]
        self.tally.seen(route)
        self.metrics.requests.labels(route).inc()
        self._skip(route, "primary_error")

    # --- decisions -----------------------------------------------------------------------------------------

    def _is_control(self, flow: http.HTTPFlow) -> bool:
        port = self.settings.control_port if self.settings else 0
        return bool(port) and flow.client_conn.sockname is not None and flow.client_conn.sockname[1] == port

    def _reason_to_skip(self, flow: http.HTTPFlow, route: str) -> str | None:
        """Why this request is not compared, or None to compare it; checked in this order."""
        s = self.settings
        if route == routes.NOT_ROUTED or self.rules.excluded(route):
            return "route_excluded"
        if MARKER in flow.request.headers:
            return "loop_guard"
        if s.mode == "cutover":
            return "cutover_mode"
        if flow.request.method.upper() not in routes.SAFE_METHODS and not s.mirror_writes:
            return "write_not_mirrored"
        path, query = routes.split_target(flow.request.path)
        if not self.sampler.sampled(route, routes.sampling_key(path, query)):
            return "sampled_out"
        if not self.sampler.admit():
            return "rate_capped"
        if not self.breaker.allow():
            return "breaker_open"
        if self.pending >= s.concurrency + s.queue:
            return "queue_full"
        return None

    def _skip(self, route: str, reason: str) -> None:
        self.tally.skipped(route, reason)
        self.metrics.not_compared.labels(route, reason).inc()
        self._changed()

    # --- the comparison, off the client's path -------------------------------------------------------------

    async def _compare(self, route: str, req: Outgoing, primary: Answer) -> None:
        s = self.settings
        try:
            if self.caller is None:
                self.caller = Caller(s.timeout, s.concurrency * 3)
                self.slots = asyncio.Semaphore(s.concurrency)
            async with self.slots:
                try:
                    other = await self.caller.send(s.other, req, s.auth)
                except (CallTimeout, CallFailed) as exc:
                    self.breaker.failure()
                    self.metrics.breaker_open.set(int(self.breaker.is_open))
                    self._skip(route, "timeout" if isinstance(exc, CallTimeout) else "candidate_error")
                    return
                self.breaker.success()
                self.metrics.breaker_open.set(0)
                self.metrics.latency.labels("candidate").observe(other.seconds)
                await self._judge(route, req, primary, other)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must never surface to a client; it is logged and counted
            log.exception("shadow comparison failed for %s %s", req.method, req.target)
            self._skip(route, "candidate_error")
        finally:
            self.pending -= 1
            self.metrics.pending.set(self.pending)

    async def _judge(self, route: str, req: Outgoing, primary: Answer, other: Answer) -> None:
        """identical, different or unstable; differences cancelled by the second primary's own noise."""
        s, noise, headers = self.settings, self.rules.for_route(route), self.rules.compared_headers()
        differences = compare(primary, other, noise, headers)
        safe = req.method.upper() in routes.SAFE_METHODS
        secondary = s.secondary_url()
        if secondary and safe:
            try:
                second = await self.caller.send(secondary, req, "pass")
                noisy = compare(primary, second, noise, headers)
                self.tally.noise(route, noisy)
                noisy_fields = {d.field for d in noisy}
                differences = [d for d in differences if d.field not in noisy_fields]
            except (CallTimeout, CallFailed):
                pass
        outcome, recheck = "identical", None
        if differences:
            outcome = "different"
            if s.recheck and safe:
                outcome, recheck = await self._recheck(req, primary, noise, headers)
        self.tally.compared(route, outcome, differences, self._example(req, primary, other, differences, outcome)
                            if differences else None)
        self.metrics.compared.labels(route, outcome).inc()
        for d in differences:
            self.metrics.differences.labels(route, d.field, d.kind).inc()
        if differences:
            self.report.record(self._entry(route, req, primary, other, differences, outcome, recheck))
        self._changed()

    async def _recheck(self, req: Outgoing, primary: Answer, noise: Any, headers: tuple[str, ...]
                       ) -> tuple[str, dict[str, Any]]:
        """Ask both once more: if the primary's own answer moved, or the pair now agrees, it was timing."""
        s = self.settings
        try:
            p2, c2 = await asyncio.gather(self.caller.send(s.primary, req, "pass"),
                                          self.caller.send(s.other, req, s.auth))
        except (CallTimeout, CallFailed) as exc:
            return "different", {"error": str(exc)}
        primary_moved = compare(primary, p2, noise, headers)
        still = compare(p2, c2, noise, headers)
        outcome = "unstable" if primary_moved or not still else "different"
        return outcome, {"primary_changed": [d.as_dict() for d in primary_moved[:10]],
                         "differences": [d.as_dict() for d in still[:50]]}

    # --- outputs -------------------------------------------------------------------------------------------

    def _example(self, req: Outgoing, primary: Answer, other: Answer, differences: list[Difference],
                 outcome: str) -> dict[str, Any]:
        limit = 4000
        return {"method": req.method, "target": redact.target(req.target.decode("latin-1")), "outcome": outcome,
                "primary_side": self.settings.primary_side, "primary_status": primary.status,
                "candidate_status": other.status, "primary_body": primary.body[:limit].decode("utf-8", "replace"),
                "candidate_body": other.body[:limit].decode("utf-8", "replace"),
                "curl": self._curl(self.settings.other, req)}

    def _entry(self, route: str, req: Outgoing, primary: Answer, other: Answer, differences: list[Difference],
               outcome: str, recheck: dict | None) -> dict[str, Any]:
        s = self.settings
        return {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "id": req.id, "mode": s.mode,
            "route": route, "outcome": outcome, "primary_side": s.primary_side,
            "candidate_side": "sessions" if s.primary_side == "agentos" else "agentos",
            "request": {"method": req.method, "target": redact.target(req.target.decode("latin-1")),
                        "headers": [list(h) for h in redact.headers(list(req.headers))],
                        "body": req.body[:s.body_limit].decode("utf-8", "replace")},
            "primary": _redacted(primary.as_dict(s.body_limit)),
            "candidate": _redacted(other.as_dict(s.body_limit)),
            "differences": [d.as_dict() for d in differences],
            "recheck": recheck,
            "curl": {"primary": self._curl(s.primary, req), "candidate": self._curl(s.other, req)},
        }

    def _curl(self, base: str, req: Outgoing) -> str:
        return redact.curl(base, req.method, req.target.decode("latin-1"), list(req.headers), req.body)

    def summary(self) -> dict[str, Any]:
        """summary.json's content."""
        s = self.settings
        extra = {"pending": self.pending, "breaker_open": self.breaker.is_open,
                 "sampling": self.sampler.settings(), "rules": self.rules.source,
                 "noise_cancellation": bool(s and s.secondary)}
        return {**self.tally.as_dict(), **extra}

    def html(self) -> str:
        return html_report.render(self.tally, self.summary())

    def reset(self) -> None:
        """Counters and examples back to zero (differences.ndjson is kept: it is the record)."""
        self.tally = Tally(mode=self.tally.mode)
        self.metrics = Metrics()
        self.flush()

    def _changed(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write summary.json and report.html now."""
        self._flush_scheduled = False
        if self.report is not None:
            summary = self.summary()
            self.report.write_summary(summary, html_report.render(self.tally, summary))


def base_url_parts(base: str) -> tuple[str, str, int]:
    """scheme, host, port of a base URL, as mitmproxy's request fields want them."""
    parts = urlsplit(base)
    return parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _redacted(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "headers": [list(h) for h in redact.headers([tuple(h) for h in answer["headers"]])]}
