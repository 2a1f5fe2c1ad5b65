"""The service's log records as its JSON formatter renders them, caught in memory for the tests that read the log."""

from __future__ import annotations

import json
import logging

from service.core.logs import JsonFormatter


class Capture(logging.Handler):
    """Collects the service's log records rendered by its own JSON formatter."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def requests(self) -> list[dict]:
        return [e for e in map(json.loads, self.lines) if e["msg"] == "request"]
