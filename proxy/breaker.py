"""A circuit breaker for the comparison side: stop calling it after consecutive failures, probe after a pause."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Breaker:
    """Closed → open after `threshold` consecutive failures; after `cooldown` seconds one call may probe."""

    threshold: int = 5
    cooldown: float = 10.0
    failures: int = 0
    opened_at: float | None = None
    _probing: bool = field(default=False, repr=False)

    @property
    def is_open(self) -> bool:
        """Whether calls are being refused right now."""
        return self.opened_at is not None

    def allow(self) -> bool:
        """Whether a call may go out; in the half-open state only one probe at a time."""
        if self.opened_at is None:
            return True
        if not self._probing and time.monotonic() - self.opened_at >= self.cooldown:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        """A completed call closes the breaker."""
        self.failures, self.opened_at, self._probing = 0, None, False

    def failure(self) -> None:
        """A timeout or transport error; the threshold-th in a row (or a failed probe) opens the breaker."""
        self.failures += 1
        if self._probing or self.failures >= self.threshold:
            self.opened_at, self._probing = time.monotonic(), False
