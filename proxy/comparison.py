"""The comparison off the client's path: the other side asked, the pair judged, the outcome counted and recorded."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from proxy import deviations, records, routes
from proxy.answers import Answer, compare
from proxy.breaker import Breaker
from proxy.causes import cause_of
from proxy.metrics import Metrics
from proxy.mirror import BodyTooLarge, CallFailed, CallTimeout, Outgoing, Sender
from proxy.rules import Rules
from proxy.runs import Run, Runs
from proxy.settings import Settings

log = logging.getLogger(__name__)


class Shadow(Protocol):
    """What a comparison reads from the shadow addon when it runs (configure and reset replace these)."""

    rules: Rules
    devs: list[deviations.Deviation]
    breaker: Breaker
    metrics: Metrics
    runs: Runs

    def skip(self, run: Run, route: str, reason: str) -> None: ...


class Comparer:
    """One pooled Sender for every comparison, at most `shadow_concurrency` of them at once, each one a task."""

    def __init__(self, shadow: Shadow) -> None:
        self.shadow = shadow
        self.sender: Sender | None = None
        self.slots: asyncio.Semaphore | None = None
        self.pending = 0
        self.tasks: set[asyncio.Task] = set()

    def start(self, run: Run, route: str, req: Outgoing, primary: Answer) -> None:
        """Queue the comparison in mitmproxy's event loop; the client already has its answer."""
        self.pending += 1
        self.shadow.metrics.pending.set(self.pending)
        task = asyncio.get_running_loop().create_task(self._compare(run, route, req, primary))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def reset_sender(self) -> None:
        """Rebuilt with the new limits on first use, inside the event loop."""
        self.sender = None

    async def close(self) -> None:
        """Cancel what is still running and close the pooled connections."""
        for task in list(self.tasks):
            task.cancel()
        if self.sender is not None:
            await self.sender.close()

    async def _compare(self, run: Run, route: str, req: Outgoing, primary: Answer) -> None:
        s, shadow = run.settings, self.shadow
        try:
            if self.sender is None:
                self.sender = Sender(s.timeout, s.concurrency * 3)
                self.slots = asyncio.Semaphore(s.concurrency)
            async with self.slots:
                try:
                    other = await self.sender.send(s.other, req, s.auth, limit=s.compare_max_bytes)
                except BodyTooLarge:
                    shadow.skip(run, route, "body_too_large")
                    return
                except (CallTimeout, CallFailed) as exc:
                    shadow.breaker.failure()
                    shadow.metrics.breaker_open.set(int(shadow.breaker.is_open))
                    shadow.skip(run, route, "timeout" if isinstance(exc, CallTimeout) else "candidate_error")
                    return
                shadow.breaker.success()
                shadow.metrics.breaker_open.set(0)
                shadow.metrics.latency.labels("candidate").observe(other.seconds)
                await self._judge(run, route, req, primary, other)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug here must never surface to a client; it is logged and counted
            log.exception("shadow comparison failed for %s %s", req.method, req.target)
            shadow.skip(run, route, "candidate_error")
        finally:
            self.pending -= 1
            shadow.metrics.pending.set(self.pending)

    async def _judge(self, run: Run, route: str, req: Outgoing, primary: Answer, other: Answer) -> None:
        """identical, declared, different or unstable; differences cancelled by the second primary's own noise."""
        shadow = self.shadow
        s, noise, headers = run.settings, shadow.rules.for_route(route), shadow.rules.compared_headers()
        differences = compare(primary, other, noise, headers)
        safe = req.method.upper() in routes.SAFE_METHODS
        secondary = s.secondary_url()
        if secondary and safe:
            try:
                second = await self.sender.send(secondary, req, "pass", limit=s.compare_max_bytes)
                noisy = compare(primary, second, noise, headers)
                run.tally.noise(route, noisy)
                noisy_fields = {d.field for d in noisy}
                differences = [d for d in differences if d.field not in noisy_fields]
            except (CallTimeout, CallFailed, BodyTooLarge):
                pass
        outcome, recheck, declared = "identical", None, None
        if differences:
            agentos, sessions = (primary, other) if s.mode == "shadow" else (other, primary)
            declared = deviations.explain(shadow.devs, _as_declared_request(req), agentos, sessions)
            outcome = "declared" if declared else "different"
            if s.recheck and safe and not declared:
                outcome, recheck = await self._recheck(s, req, primary, noise, headers)
        example = records.example(s, req, primary, other, outcome) if differences else None
        cause = cause_of(route, primary, other, differences, outcome, declared) if differences else None
        run.tally.compared(route, outcome, differences, example, cause)
        shadow.metrics.compared.labels(route, outcome).inc()
        for d in differences:
            shadow.metrics.differences.labels(route, d.field, d.kind).inc()
        if differences:
            entry = records.entry(s, route, req, primary, other, differences, outcome, recheck)
            run.report.record({**entry, "declared": declared.name if declared else None})
        shadow.runs.changed(run)

    async def _recheck(self, s: Settings, req: Outgoing, primary: Answer, noise: Any, headers: tuple[str, ...]
                       ) -> tuple[str, dict[str, Any]]:
        """Ask both once more: if the primary's own answer moved, or the pair now agrees, it was timing."""
        try:
            p2, c2 = await asyncio.gather(self.sender.send(s.primary, req, "pass", limit=s.compare_max_bytes),
                                          self.sender.send(s.other, req, s.auth, limit=s.compare_max_bytes))
        except (CallTimeout, CallFailed, BodyTooLarge) as exc:
            return "different", {"error": str(exc)}
        primary_moved = compare(primary, p2, noise, headers)
        still = compare(p2, c2, noise, headers)
        outcome = "unstable" if primary_moved or not still else "different"
        return outcome, {"primary_changed": [d.as_dict() for d in primary_moved[:10]],
                         "differences": [d.as_dict() for d in still[:50]]}


def _as_declared_request(req: Outgoing) -> deviations.Request:
    """The request as deviations.json's `when` patterns read it."""
    return deviations.Request(req.method, req.target.decode("latin-1"), req.body.decode("utf-8", "replace"),
                              "\n".join(f"{k.lower()}: {v}" for k, v in req.headers))
