"""What a retention run did, as Prometheus metrics pushed to a Pushgateway when it ends (a CronJob's process is
gone before any scrape; AGNO_METRICS_PUSHGATEWAY). Each run replaces the previous run's values under its job."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway

from service.core.logs import LOGGER
from service.core.retention_policies import Policy
from service.storage.retention import Outcome

JOB = "agno-session-retention"
log = logging.getLogger(LOGGER)


class RetentionMetrics:
    """The counts of one run, per database and policy."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        labels = ["db_id", "policy", "action"]
        self.sessions = Counter("agno_session_retention_sessions", "Sessions a retention run archived, deleted or "
                                "trimmed, per database, policy and action.", labels, registry=r)
        self.runs = Counter("agno_session_retention_runs", "Runs a retention run archived, deleted or trimmed away, "
                            "per database, policy and action.", labels, registry=r)
        self.skipped = Counter("agno_session_retention_skipped_sessions", "Matching sessions a retention run left: "
                               "under a legal hold (`held`) or in use by a writer (`busy`, taken by a later run).",
                               ["db_id", "policy", "reason"], registry=r)
        self.last_success = Gauge("agno_session_retention_last_success_timestamp_seconds", "When a retention run "
                                  "last finished every policy of every database (epoch seconds).", registry=r)
        self.duration = Gauge("agno_session_retention_duration_seconds", "How long the last retention run took.",
                              registry=r)

    def record(self, db_id: str, policy: Policy, outcome: Outcome) -> None:
        self.sessions.labels(db_id, policy.name, policy.action).inc(outcome.sessions)
        self.runs.labels(db_id, policy.name, policy.action).inc(outcome.runs)
        self.skipped.labels(db_id, policy.name, "held").inc(outcome.held)
        self.skipped.labels(db_id, policy.name, "busy").inc(outcome.busy)

    def finished(self, seconds: float, succeeded: bool) -> None:
        self.duration.set(seconds)
        if succeeded:
            self.last_success.set(time.time())

    def push(self, url: str | None) -> None:
        """Push to the Pushgateway at `url` (nothing without one); a failed push is logged, not fatal: the sweep's
        work is done and committed either way."""
        if not url:
            return
        try:
            push_to_gateway(url, job=JOB, registry=self.registry, timeout=10)
        except OSError as exc:
            log.warning("could not push the retention metrics", extra={"fields": {"url": url, "error": str(exc)}})
