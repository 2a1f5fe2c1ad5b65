"""Prometheus metrics of the proxy, in a registry of its own (served by the control API at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """One set of series per addon instance, so tests and resets start from zero."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("agno_shadow_requests", "Requests seen by the proxy", ["route"], registry=r)
        self.mirrored = Counter("agno_shadow_mirrored", "Requests sent to the comparison side", ["route"],
                                registry=r)
        self.not_compared = Counter("agno_shadow_not_compared", "Requests not compared, by reason",
                                    ["route", "reason"], registry=r)
        self.compared = Counter("agno_shadow_compared", "Compared pairs by outcome (identical, different, "
                                "unstable)", ["route", "outcome"], registry=r)
        self.differences = Counter("agno_shadow_field_differences", "Differing pairs per field and kind",
                                   ["route", "field", "kind"], registry=r)
        self.latency = Histogram("agno_shadow_upstream_seconds", "Answer time of each side", ["side"],
                                 registry=r, buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.pending = Gauge("agno_shadow_pending", "Comparisons queued or in flight", registry=r)
        self.breaker_open = Gauge("agno_shadow_breaker_open", "1 while the circuit breaker is open", registry=r)

    def exposition(self) -> bytes:
        """The text format."""
        return generate_latest(self.registry)
