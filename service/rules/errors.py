"""AgentOS's non-success answers as values: a status and the `detail` of its `{"detail": ...}` envelope."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer other than success, in AgentOS's `{"detail": ...}` envelope."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
