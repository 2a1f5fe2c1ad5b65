"""The mitmproxy addon: routes /sessions by mode, answers clients from the primary, compares off the path."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http
from mitmproxy.net import encoding

from proxy import control, deviations, html_report, redact, routes, rules, streaming
from proxy.answers import Answer, compare
from proxy.breaker import Breaker
from proxy.causes import cause_of
from proxy.diff import Difference
from proxy.metrics import Metrics
from proxy.mirror import MARKER, BodyTooLarge, Caller, CallFailed, CallTimeout, Outgoing
from proxy.outputs import ReportDir, new_run_dir, write_index
from proxy.sampling import Sampler
from proxy.settings import OPTIONS, Settings, from_options
from proxy.tally import Tally

log = logging.getLogger(__name__)
FLUSH_DELAY = 0.2  # seconds: summary.json trails the counts by at most this much


@dataclasses.dataclass
class Run:
    """One mode's stretch of time: its settings, its counts and its own report directory."""

    settings: Settings
    tally: Tally
    report: ReportDir
    ended_at: float | None = None

    def index_entry(self) -> dict[str, Any]:
        """Its line in runs.json."""
        ended = None if self.ended_at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.ended_at))
        return {"mode": self.settings.mode, "dir": self.report.dir.name,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.tally.started_at)),
                "ended_at": ended}


class ShadowAddon:
    """Shadow, cut-over and reverse shadow in one addon, switchable at run time; see docs/cutover.md."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.rules = rules.load()
        self.devs: list[deviations.Deviation] = []
        self.sampler = Sampler()
        self.breaker = Breaker()
        self.metrics = Metrics()
        self.run: Run | None = None
        self.runs: list[Run] = []
        self.caller: Caller | None = None
        self.slots: asyncio.Semaphore | None = None
        self.pending = 0
        self.tasks: set[asyncio.Task] = set()
        self._dirty: set[int] = set()
        self._flush_scheduled = False

    @property
    def tally(self) -> Tally:
        """The current run's counts."""
        return self.run.tally if self.run else Tally()

    @property
    def report(self) -> ReportDir | None:
        return self.run.report if self.run else None

    # --- mitmproxy lifecycle -------------------------------------------------------------------------------

    def load(self, loader: Any) -> None:
        for name, typespec, default, help_text in OPTIONS:
            loader.add_option(name, typespec, default, help_text)
        streaming.quiet_connection_logs()

    def configure(self, updated: set[str]) -> None:
        if not any(name.startswith("shadow_") for name in updated):
            return
        settings = from_options(ctx.options)
        if self.settings is not None and dataclasses.replace(self.settings, mode=settings.mode) == settings:
            self._start_run(settings)  # a mode switch: sampling, breaker and connections carry on
            return
        try:
            loaded = rules.load(settings.rules_file or None)
            devs = deviations.load(settings.deviations_file or None)
        except (rules.RulesError, deviations.DeviationsError) as exc:
            raise exceptions.OptionsError(str(exc)) from None
        self.rules, self.devs = loaded, devs
        sampling = dict(loaded.sampling)
        if settings.sample_percent is not None:
            sampling["percent"] = settings.sample_percent
        if settings.rate is not None:
            sampling["rate_per_second"] = settings.rate
        self.sampler = Sampler()
        self.sampler.update(sampling)
        self.breaker = Breaker(settings.breaker_failures, settings.breaker_cooldown)
        self.caller = None  # rebuilt with the new limits on first use, inside the event loop
        self._start_run(settings)

    def _start_run(self, settings: Settings) -> None:
        """A new report directory when the mode or the report directory changes; else the run goes on."""
        self.settings = settings
        old = self.run
        if old is not None and (old.settings.mode, old.settings.report_dir) == (settings.mode, settings.report_dir):
            old.settings = settings
            return
        if old is not None:
            old.ended_at = time.time()
            self._write(old)
        self.run = Run(settings, Tally(mode=settings.mode), new_run_dir(settings.report_dir, settings.mode))
        self.runs.append(self.run)
        self._write(self.run)
        write_index(settings.report_dir, [r.index_entry() for r in self.runs
                                          if r.settings.report_dir == settings.report_dir])
        log.info("shadow proxy: mode %s, report in %s", settings.mode, self.run.report.dir)

    def switch_mode(self, mode: str) -> bool:
        """The control API's mode switch, through mitmproxy's options; False when already in that mode."""
        if self.settings is not None and self.settings.mode == mode:
            return False
        ctx.options.update(shadow_mode=mode)
        return True

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

    # --- hooks ---------------------------------------------------------------------------------------------

    def request(self, flow: http.HTTPFlow) -> None:
        """Control requests are answered here; routed paths go to agno-session in cutover and reverse mode."""
        if self._is_control(flow):
            flow.response = control.answer(self, flow.request.method, flow.request.path,
                                           flow.request.raw_content or b"")
            return
        run = self.run
        s = run.settings  # the mode at the time the request came in holds for its whole exchange
        path, _ = routes.split_target(flow.request.path)
        routed = routes.is_routed(path, s.prefixes)
        flow.metadata["shadow_route"] = routes.canonical(flow.request.method, path) if routed else routes.NOT_ROUTED
        flow.metadata["shadow_run"] = run
        if routed and s.mode in ("cutover", "reverse"):
            flow.request.scheme, flow.request.host, flow.request.port = base_url_parts(s.sessions)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Every answer is streamed to the client as it arrives; one that may be compared is also copied, up to
        shadow_compare_max_bytes."""
        if self._is_control(flow) or "shadow_route" not in flow.metadata:
            return
        run: Run = flow.metadata["shadow_run"]
        if self._fixed_reason(flow, flow.metadata["shadow_route"], run.settings):
            flow.response.stream = True
            return
        copy = streaming.BoundedCopy(run.settings.compare_max_bytes)
        flow.metadata["shadow_copy"] = copy
        flow.response.stream = copy

    def response(self, flow: http.HTTPFlow) -> None:
        """The client's answer is already decided; count it and maybe start the comparison in the background."""
        if self._is_control(flow) or "shadow_route" not in flow.metadata:
            return
        route, run = flow.metadata["shadow_route"], flow.metadata["shadow_run"]
        run.tally.seen(route)
        self.metrics.requests.labels(route).inc()
        started = flow.request.timestamp_start
        ended = flow.response.timestamp_end or time.time()
        self.metrics.latency.labels("primary").observe(max(0.0, ended - started))
        reason = self._reason_to_skip(flow, route, run.settings)
        if reason:
            self._skip(run, route, reason)
            return
        self.pending += 1
        self.metrics.pending.set(self.pending)
        run.tally.mirrored(route)
        self.metrics.mirrored.labels(route).inc()
        primary = Answer(flow.response.status_code,
                         [(k.lower(), v) for k, v in flow.response.headers.items(multi=True)],
                         _primary_body(flow), max(0.0, ended - started))
        outgoing = Outgoing(flow.id, flow.request.method, flow.request.data.path,
                            tuple(flow.request.headers.items(multi=True)), flow.request.raw_content or b"")
        task = asyncio.get_running_loop().create_task(self._compare(run, route, outgoing, primary))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def error(self, flow: http.HTTPFlow) -> None:
        """The primary gave no answer (the client got mitmproxy's error): nothing to compare with."""
        if self._is_control(flow) or "shadow_route" not in flow.metadata or flow.response is not None:
            return
        route, run = flow.metadata["shadow_route"], flow.metadata["shadow_run"]
        run.tally.seen(route)
        self.metrics.requests.labels(route).inc()
        self._skip(run, route, "primary_error")

    # --- decisions -----------------------------------------------------------------------------------------

    def _is_control(self, flow: http.HTTPFlow) -> bool:
        port = self.settings.control_port if self.settings else 0
        return bool(port) and flow.client_conn.sockname is not None and flow.client_conn.sockname[1] == port

    def _fixed_reason(self, flow: http.HTTPFlow, route: str, s: Settings) -> str | None:
        """Why this exchange is never compared, known once the answer's headers are in; None if it may be."""
        if route == routes.NOT_ROUTED or self.rules.excluded(route):
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

    def _reason_to_skip(self, flow: http.HTTPFlow, route: str, s: Settings) -> str | None:
        """Why this request is not compared, or None to compare it; checked in this order."""
        fixed = self._fixed_reason(flow, route, s)
        if fixed:
            return fixed
        copy = flow.metadata.get("shadow_copy")
        if copy is not None and copy.overflowed:
            return "body_too_large"
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

    def _skip(self, run: Run, route: str, reason: str) -> None:
        run.tally.skipped(route, reason)
        self.metrics.not_compared.labels(route, reason).inc()
        self._changed(run)

    # --- the comparison, off the client's path -------------------------------------------------------------

    async def _compare(self, run: Run, route: str, req: Outgoing, primary: Answer) -> None:
        s = run.settings
        try:
            if self.caller is None:
                self.caller = Caller(s.timeout, s.concurrency * 3)
                self.slots = asyncio.Semaphore(s.concurrency)
            async with self.slots:
                try:
                    other = await self.caller.send(s.other, req, s.auth, limit=s.compare_max_bytes)
                except BodyTooLarge:
                    self._skip(run, route, "body_too_large")
                    return
                except (CallTimeout, CallFailed) as exc:
                    self.breaker.failure()
                    self.metrics.breaker_open.set(int(self.breaker.is_open))
                    self._skip(run, route, "timeout" if isinstance(exc, CallTimeout) else "candidate_error")
                    return
                self.breaker.success()
                self.metrics.breaker_open.set(0)
                self.metrics.latency.labels("candidate").observe(other.seconds)
                await self._judge(run, route, req, primary, other)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must never surface to a client; it is logged and counted
            log.exception("shadow comparison failed for %s %s", req.method, req.target)
            self._skip(run, route, "candidate_error")
        finally:
            self.pending -= 1
            self.metrics.pending.set(self.pending)

    async def _judge(self, run: Run, route: str, req: Outgoing, primary: Answer, other: Answer) -> None:
        """identical, declared, different or unstable; differences cancelled by the second primary's own noise."""
        s, noise, headers = run.settings, self.rules.for_route(route), self.rules.compared_headers()
        differences = compare(primary, other, noise, headers)
        safe = req.method.upper() in routes.SAFE_METHODS
        secondary = s.secondary_url()
        if secondary and safe:
            try:
                second = await self.caller.send(secondary, req, "pass", limit=s.compare_max_bytes)
                noisy = compare(primary, second, noise, headers)
                run.tally.noise(route, noisy)
                noisy_fields = {d.field for d in noisy}
                differences = [d for d in differences if d.field not in noisy_fields]
            except (CallTimeout, CallFailed, BodyTooLarge):
                pass
        outcome, recheck, declared = "identical", None, None
        if differences:
            agentos, sessions = (primary, other) if s.mode == "shadow" else (other, primary)
            declared = deviations.explain(self.devs, _as_declared_request(req), agentos, sessions)
            outcome = "declared" if declared else "different"
            if s.recheck and safe and not declared:
                outcome, recheck = await self._recheck(s, req, primary, noise, headers)
        example = self._example(s, req, primary, other, differences, outcome) if differences else None
        cause = cause_of(route, primary, other, differences, outcome, declared) if differences else None
        run.tally.compared(route, outcome, differences, example, cause)
        self.metrics.compared.labels(route, outcome).inc()
        for d in differences:
            self.metrics.differences.labels(route, d.field, d.kind).inc()
        if differences:
            entry = self._entry(s, route, req, primary, other, differences, outcome, recheck)
            run.report.record({**entry, "declared": declared.name if declared else None})
        self._changed(run)

    async def _recheck(self, s: Settings, req: Outgoing, primary: Answer, noise: Any, headers: tuple[str, ...]
                       ) -> tuple[str, dict[str, Any]]:
        """Ask both once more: if the primary's own answer moved, or the pair now agrees, it was timing."""
        try:
            p2, c2 = await asyncio.gather(self.caller.send(s.primary, req, "pass", limit=s.compare_max_bytes),
                                          self.caller.send(s.other, req, s.auth, limit=s.compare_max_bytes))
        except (CallTimeout, CallFailed, BodyTooLarge) as exc:
            return "different", {"error": str(exc)}
        primary_moved = compare(primary, p2, noise, headers)
        still = compare(p2, c2, noise, headers)
        outcome = "unstable" if primary_moved or not still else "different"
        return outcome, {"primary_changed": [d.as_dict() for d in primary_moved[:10]],
                         "differences": [d.as_dict() for d in still[:50]]}

    # --- outputs -------------------------------------------------------------------------------------------

    def _example(self, s: Settings, req: Outgoing, primary: Answer, other: Answer, differences: list[Difference],
                 outcome: str) -> dict[str, Any]:
        limit = 4000
        return {"method": req.method, "target": redact.target(req.target.decode("latin-1")), "outcome": outcome,
                "primary_side": s.primary_side, "primary_status": primary.status,
                "candidate_status": other.status, "primary_body": primary.body[:limit].decode("utf-8", "replace"),
                "candidate_body": other.body[:limit].decode("utf-8", "replace"),
                "curl": self._curl(s.other, req)}

    def _entry(self, s: Settings, route: str, req: Outgoing, primary: Answer, other: Answer,
               differences: list[Difference], outcome: str, recheck: dict | None) -> dict[str, Any]:
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

    def summary(self, run: Run | None = None) -> dict[str, Any]:
        """summary.json's content, of the current run unless another is named."""
        run = run or self.run
        if run is None:
            return Tally().as_dict()
        s = run.settings
        extra = {"report_dir": str(run.report.dir), "pending": self.pending, "breaker_open": self.breaker.is_open,
                 "sampling": self.sampler.settings(), "rules": self.rules.source,
                 "deviations": s.deviations_file or str(deviations.DEFAULT_FILE),
                 "noise_cancellation": bool(s.secondary)}
        return {**run.tally.as_dict(), **extra}

    def html(self) -> str:
        return html_report.render(self.tally, self.summary())

    def mode_status(self) -> dict[str, Any]:
        """GET /mode: the mode now, where its report is, and every run so far."""
        return {"mode": self.settings.mode, "report_dir": str(self.run.report.dir),
                "runs": [r.index_entry() for r in self.runs]}

    def reset(self) -> None:
        """Counters and examples of the current run back to zero (differences.ndjson is kept: it is the record)."""
        if self.run is not None:
            self.run.tally = Tally(mode=self.run.settings.mode)
        self.metrics = Metrics()
        self._changed(self.run)
        self.flush()

    def _changed(self, run: Run | None) -> None:
        if run is not None:
            self._dirty.add(id(run))
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
        """Write summary.json and report.html of every run that changed (and the current one) now."""
        self._flush_scheduled = False
        for run in self.runs:
            if run is self.run or id(run) in self._dirty:
                self._write(run)
        self._dirty.clear()

    def _write(self, run: Run) -> None:
        summary = self.summary(run)
        run.report.write_summary(summary, html_report.render(run.tally, summary))


def base_url_parts(base: str) -> tuple[str, str, int]:
    """scheme, host, port of a base URL, as mitmproxy's request fields want them."""
    parts = urlsplit(base)
    return parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _primary_body(flow: http.HTTPFlow) -> bytes:
    """The primary's decoded body: the streamed copy when there is one, else what mitmproxy buffered."""
    copy = flow.metadata.get("shadow_copy")
    if copy is None:
        return flow.response.get_content(strict=False) or b""
    raw = copy.body()
    coding = flow.response.headers.get("content-encoding")
    if not coding:
        return raw
    try:
        return encoding.decode(raw, coding)
    except ValueError:
        return raw


def _as_declared_request(req: Outgoing) -> deviations.Request:
    """The request as deviations.json's `when` patterns read it."""
    return deviations.Request(req.method, req.target.decode("latin-1"), req.body.decode("utf-8", "replace"),
                              "\n".join(f"{k.lower()}: {v}" for k, v in req.headers))


def _redacted(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "headers": [list(h) for h in redact.headers([tuple(h) for h in answer["headers"]])]}
