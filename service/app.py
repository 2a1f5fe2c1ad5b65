"""The application factory: settings in, a ready WSGI app out; everything set up here, nothing at import."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Flask

from service.core.config import Settings, load_settings
from service.core.json_codec import allow_deep_values
from service.core.logs import LOGGER, configure_logging


def create_app(settings: Settings | None = None) -> Flask:
    """Settings (from the environment by default) → the /sessions app with its pools, routes and middleware."""
    from service.api import (
        capabilities,
        changes,
        erasure,
        error_handlers,
        health,
        lifecycle,
        metrics,
        middleware,
        portability,
        search,
        sessions,
        spec,
        state_merge,
    )
    from service.embedded import with_embedded_dsn
    from service.storage.registry import Registry

    settings = with_embedded_dsn(settings or load_settings())
    configure_logging(settings.log_level)
    allow_deep_values()
    warning = metrics.tenant_warning(settings)
    if warning:
        logging.getLogger(LOGGER).warning(warning)
    app = Flask(__name__)
    observed = metrics.Metrics(settings)
    app.url_map.merge_slashes = False  # `//` (e.g. a %2F-leading id) matches no route, as in AgentOS; no redirect
    app.config.update(
        SETTINGS=settings,
        REGISTRY=Registry(settings.databases, settings.pool_max, settings.request_timeout, observed),
        METRICS=observed,
        INSTANTIATED_AT=datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
    )
    for module in (health, capabilities, changes, erasure, search, lifecycle, portability, sessions, state_merge, spec,
                   metrics):
        app.register_blueprint(module.bp)
    middleware.install(app, settings)
    error_handlers.install(app, settings.max_body_bytes)
    metrics.install(app, observed)
    app.wsgi_app = middleware.AgentOSStatusLine(  # type: ignore[method-assign]
        middleware.StripTrailingSlash(app.wsgi_app))
    return app
