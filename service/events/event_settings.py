"""`serve-events`'s own settings (the databases, authentication and cursor key are the service's: core's Settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from service.core.env import ConfigError, env_int


@dataclass(frozen=True)
class EventSettings:
    """Where the event process listens and how it polls, keeps streams alive and bounds their memory."""

    host: str = "127.0.0.1"
    port: int = 8081
    poll_interval: float = 0.2  # seconds between polls of a caught-up change log: commit-to-event stays well under 1 s
    keepalive: float = 15.0  # seconds without an event before a keepalive comment
    page: int = 500  # changes one read returns at most
    queue: int = 10000  # events waiting for one slow stream before it is ended (its client resumes, losing nothing)
    catch_ups: int = 4  # resuming streams reading the database at once (the others wait their turn)
    start_wait: float = 10.0  # seconds a new stream waits for its database's first poll before a 503
    max_streams: int = 10000  # open streams, all databases together; the next one is 503


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} seconds, got {raw!r}")
    return value


def load_event_settings(env: Mapping[str, str], host: str) -> EventSettings:
    """AGNO_EVENTS_* from the environment; `host` (AGNO_SERVICE_HOST) unless AGNO_EVENTS_HOST is set."""
    d = EventSettings()
    return EventSettings(
        host=env.get("AGNO_EVENTS_HOST") or host,
        port=env_int(env, "AGNO_EVENTS_PORT", d.port, 1, 65535),
        poll_interval=_seconds(env, "AGNO_EVENTS_POLL_INTERVAL", d.poll_interval, 0.01, 10),
        keepalive=_seconds(env, "AGNO_EVENTS_KEEPALIVE", d.keepalive, 0.1, 300),
        page=env_int(env, "AGNO_EVENTS_PAGE", d.page, 1, 1000),
        queue=env_int(env, "AGNO_EVENTS_QUEUE", d.queue, 10, 1_000_000),
        catch_ups=env_int(env, "AGNO_EVENTS_CATCH_UPS", d.catch_ups, 1, 64),
        start_wait=d.start_wait,
        max_streams=env_int(env, "AGNO_EVENTS_MAX_STREAMS", d.max_streams, 1, 1_000_000),
    )
