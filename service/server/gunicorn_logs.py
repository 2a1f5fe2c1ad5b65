"""gunicorn's own lines (start, workers booting, signals, errors) as the service's JSON lines, so every line an
operator reads from the service parses the same way."""

from __future__ import annotations

from gunicorn.glogging import Logger

from service.core.logs import JsonFormatter


class JsonLogger(Logger):
    """gunicorn's error log through the service's JSON formatter (gunicorn's access log stays off)."""

    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
