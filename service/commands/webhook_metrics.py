"""The deliverer's Prometheus metrics, served on a port of its own (AGNO_DELIVER_METRICS_PORT): `deliver` runs for
as long as its Deployment does, so Prometheus scrapes it like the service (a Pushgateway is for batch jobs, whose
process is gone before a scrape)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class WebhookMetrics:
    """Counts per subscription, the backlog, and whether this process is the database's active deliverer."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.delivered = Counter("agno_session_webhooks_delivered", "Events a receiver accepted (a 2xx answer).",
                                 ["db_id", "subscription"], registry=r)
        self.retried = Counter("agno_session_webhooks_retried", "Failed attempts that will be tried again later.",
                               ["db_id", "subscription"], registry=r)
        self.dead_lettered = Counter("agno_session_webhooks_dead_lettered", "Events that failed for the whole retry "
                                     "window and went to the dead letters.", ["db_id", "subscription"], registry=r)
        self.queued = Gauge("agno_session_webhooks_queued", "Events read from the change feed and not yet delivered.",
                            ["db_id", "subscription"], registry=r)
        self.lag = Gauge("agno_session_webhooks_lag_seconds", "How long the oldest undelivered event has waited since "
                         "it was read from the change feed (0: nothing waits).", ["db_id", "subscription"], registry=r)
        self.active = Gauge("agno_session_webhooks_active", "1 while this process holds the database's deliverer "
                            "lock and delivers; 0 while it stands by.", ["db_id"], registry=r)

    def serve(self, host: str, port: int) -> None:
        """Serve /metrics on `port` in a daemon thread (0: not at all)."""
        if port:
            start_http_server(port, addr=host, registry=self.registry)
