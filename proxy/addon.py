"""The mitmproxy addon: routes /sessions by mode, answers clients from the primary, compares off the path."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http
from mitmproxy.net import encoding

from proxy import deviations, report, routes, rules, skip_reasons, streaming
from proxy.answers import Answer
from proxy.breaker import Breaker
from proxy.comparison import Comparer
from proxy.metrics import Metrics
from proxy.mirror import Outgoing
from proxy.report import ReportDir
from proxy.runs import Run, Runs
from proxy.sampling import Sampler
from proxy.settings import OPTIONS, Settings, from_options
from proxy.tally import Tally

log = logging.getLogger(__name__)


class ShadowAddon:
    """Shadow, cut-over and reverse shadow in one addon, switchable at run time; see docs/cutover.md. The control
    API (proxy/control.py) is an addon of its own, given this one by proxy/shadow.py."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.rules = rules.load()
        self.devs: list[deviations.Deviation] = []
        self.sampler = Sampler()
        self.breaker = Breaker()
        self.metrics = Metrics()
        self.runs = Runs(self.summary)
        self.comparer = Comparer(self)

    @property
    def run(self) -> Run | None:
        """The current run."""
        return self.runs.current

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
        self.comparer.reset_sender()
        self._start_run(settings)

    def _start_run(self, settings: Settings) -> None:
        self.settings = settings
        self.runs.start(settings)

    def running(self) -> None:
        self.flush()
        log.info("shadow proxy: mode %s, routes %s, reports in %s", self.settings.mode,
                 ",".join(self.settings.prefixes), self.settings.report_dir)

    async def done(self) -> None:
        await self.comparer.close()
        self.flush()

    # --- hooks: each leaves alone a flow another addon answered (request) or that is not its own (the rest) ---

    def request(self, flow: http.HTTPFlow) -> None:
        """Routed paths go to agno-session in cutover and reverse mode; the mode now holds for the whole exchange."""
        if flow.response is not None:
            return
        run = self.run
        s = run.settings
        path, _ = routes.split_target(flow.request.path)
        routed = routes.is_routed(path, s.prefixes)
        flow.metadata["shadow_route"] = routes.canonical(flow.request.method, path) if routed else routes.NOT_ROUTED
        flow.metadata["shadow_run"] = run
        if routed and s.mode in ("cutover", "reverse"):
            flow.request.scheme, flow.request.host, flow.request.port = base_url_parts(s.sessions)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Every answer is streamed to the client as it arrives; one that may be compared is also copied, up to
        shadow_compare_max_bytes."""
        if "shadow_route" not in flow.metadata:
            return
        run: Run = flow.metadata["shadow_run"]
        if skip_reasons.fixed(flow, flow.metadata["shadow_route"], run.settings, self.rules):
            flow.response.stream = True
            return
        copy = streaming.BoundedCopy(run.settings.compare_max_bytes)
        flow.metadata["shadow_copy"] = copy
        flow.response.stream = copy

    def response(self, flow: http.HTTPFlow) -> None:
        """The client's answer is already decided; count it and maybe start the comparison in the background."""
        if "shadow_route" not in flow.metadata:
            return
        route, run = flow.metadata["shadow_route"], flow.metadata["shadow_run"]
        run.tally.seen(route)
        self.metrics.requests.labels(route).inc()
        started = flow.request.timestamp_start
        ended = flow.response.timestamp_end or time.time()
        self.metrics.latency.labels("primary").observe(max(0.0, ended - started))
        s = run.settings
        reason = (skip_reasons.fixed(flow, route, s, self.rules)
                  or skip_reasons.at_answer(flow, route, s, self.sampler, self.breaker, self.comparer.pending))
        if reason:
            self.skip(run, route, reason)
            return
        run.tally.mirrored(route)
        self.metrics.mirrored.labels(route).inc()
        primary = Answer(flow.response.status_code,
                         [(k.lower(), v) for k, v in flow.response.headers.items(multi=True)],
                         _primary_body(flow), max(0.0, ended - started))
        outgoing = Outgoing(flow.id, flow.request.method, flow.request.data.path,
                            tuple(flow.request.headers.items(multi=True)), flow.request.raw_content or b"")
        self.comparer.start(run, route, outgoing, primary)

    def error(self, flow: http.HTTPFlow) -> None:
        """The primary gave no answer (the client got mitmproxy's error): nothing to compare with."""
        if "shadow_route" not in flow.metadata or flow.response is not None:
            return
        route, run = flow.metadata["shadow_route"], flow.metadata["shadow_run"]
        run.tally.seen(route)
        self.metrics.requests.labels(route).inc()
        self.skip(run, route, "primary_error")

    def skip(self, run: Run, route: str, reason: str) -> None:
        """Count one exchange not compared, under its reason."""
        run.tally.skipped(route, reason)
        self.metrics.not_compared.labels(route, reason).inc()
        self.runs.changed(run)

    # --- what the control API reads and drives ---------------------------------------------------------------

    def summary(self, run: Run | None = None) -> dict[str, Any]:
        """summary.json's content, of the current run unless another is named."""
        run = run or self.run
        if run is None:
            return Tally().as_dict()
        s = run.settings
        extra = {"report_dir": str(run.report.dir), "pending": self.comparer.pending,
                 "breaker_open": self.breaker.is_open, "sampling": self.sampler.settings(),
                 "rules": self.rules.source, "deviations": s.deviations_file or str(deviations.DEFAULT_FILE),
                 "noise_cancellation": bool(s.secondary)}
        return {**run.tally.as_dict(), **extra}

    def html(self) -> str:
        return report.render(self.tally, self.summary())

    def mode_status(self) -> dict[str, Any]:
        """GET /mode: the mode now, where its report is, and every run so far."""
        return {"mode": self.settings.mode, "report_dir": str(self.run.report.dir),
                "runs": [r.index_entry() for r in self.runs.all]}

    def switch_mode(self, mode: str) -> bool:
        """The control API's mode switch, through mitmproxy's options; False when already in that mode."""
        if self.settings is not None and self.settings.mode == mode:
            return False
        ctx.options.update(shadow_mode=mode)
        return True

    def reset(self) -> None:
        """Counters and examples of the current run back to zero (differences.ndjson is kept: it is the record)."""
        if self.run is not None:
            self.run.tally = Tally(mode=self.run.settings.mode)
        self.metrics = Metrics()
        self.runs.changed(self.run)
        self.flush()

    def flush(self) -> None:
        """Write every changed run's summary.json and report.html now."""
        self.runs.flush()


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
