"""The event process's Prometheus metrics (one process, one registry): open streams, events sent, and how far the
pollers trail the writes they deliver."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# From a poll right after the commit to a poller that was retrying through a database restart.
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
POLL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class EventMetrics:
    """Every series of `serve-events`, per database."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.subscribers = Gauge("agno_session_events_subscribers", "Open event streams, per database.", ["db_id"],
                                 registry=r)
        self.sent = Counter("agno_session_events_sent", "Events written to streams (one per stream it went to), per "
                            "database.", ["db_id"], registry=r)
        self.poll_lag = Histogram("agno_session_events_poll_lag_seconds", "Time from a change's write to the poll "
                                  "that read it, per database.", ["db_id"], buckets=LAG_BUCKETS, registry=r)
        self.poll_seconds = Histogram("agno_session_events_poll_duration_seconds", "Time of one read of the change "
                                      "log by a poller, per database.", ["db_id"], buckets=POLL_BUCKETS, registry=r)
        self.poll_failures = Counter("agno_session_events_poll_failures", "Failed reads of the change log (retried "
                                     "with backoff), per database.", ["db_id"], registry=r)
        self.catch_ups = Counter("agno_session_events_catch_up_reads", "Reads a resuming stream made of its own "
                                 "before joining the poller, per database.", ["db_id"], registry=r)
        self.overflows = Counter("agno_session_events_overflows", "Streams ended because the client read too slowly "
                                 "(it resumes with Last-Event-ID), per database.", ["db_id"], registry=r)
