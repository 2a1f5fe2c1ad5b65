"""Which eligible requests are mirrored: a global and per-route share, consistent per conversation, rate-capped."""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from proxy import rules


@dataclass
class Sampler:
    """Percentages in 0–100; a route's percentage applies to the global share (50 × 50 → 25 %)."""

    percent: float = 100.0
    rate_per_second: float = 0.0
    routes: dict[str, float] = field(default_factory=dict)
    _tokens: float = field(default=0.0, repr=False)
    _refilled: float = field(default_factory=time.monotonic, repr=False)

    def share(self, route: str) -> float:
        """The percentage of the route's requests that is mirrored."""
        route_percent = next((p for key, p in self.routes.items() if rules._route_matches(key, route)), 100.0)
        return self.percent * route_percent / 100.0

    def sampled(self, route: str, key: str | None) -> bool:
        """Consistent by key (a session is wholly in or out at a given share), random without one."""
        share = self.share(route)
        if share >= 100:
            return True
        if share <= 0:
            return False
        point = _bucket(key) if key is not None else random.random()
        return point * 100 < share

    def admit(self) -> bool:
        """The rate cap as a token bucket of one second's worth: False means this second's budget is spent."""
        if self.rate_per_second <= 0:
            return True
        now = time.monotonic()
        self._tokens = min(self.rate_per_second, self._tokens + (now - self._refilled) * self.rate_per_second)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def settings(self) -> dict[str, Any]:
        """What the control API shows."""
        return {"percent": self.percent, "rate_per_second": self.rate_per_second, "routes": dict(self.routes)}

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial change (validated like the rules file's `sampling`); ValueError when invalid."""
        errors = list(jsonschema.Draft202012Validator(rules.SAMPLING_SCHEMA).iter_errors(changes))
        if errors:
            raise ValueError("; ".join(f"{e.json_path}: {e.message}" for e in errors))
        for key in changes.get("routes", {}):
            rules.check_route_key(key, "sampling")
        self.percent = float(changes.get("percent", self.percent))
        self.rate_per_second = float(changes.get("rate_per_second", self.rate_per_second))
        if "routes" in changes:
            self.routes = {k: float(v) for k, v in changes["routes"].items()}
        self._tokens = min(self._tokens, self.rate_per_second)


def _bucket(key: str) -> float:
    """A stable point in [0, 1) for a key, the same in every process and run."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
