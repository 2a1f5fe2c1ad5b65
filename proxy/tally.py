"""What the proxy saw, per canonical route: compared and how it came out, or why it was not compared."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from proxy.diff import Difference

REASONS = (
    "sampled_out",         # outside the sampling share
    "rate_capped",         # over the mirrored-requests-per-second cap
    "queue_full",          # too many comparisons waiting
    "breaker_open",        # the other side failed repeatedly; not called for a while
    "timeout",             # the other side did not answer in time
    "candidate_error",     # the other side could not be reached or broke the connection
    "write_not_mirrored",  # a write, and writes are not mirrored (see docs/cutover.md)
    "route_excluded",      # not a routed path, or excluded by the rules file
    "loop_guard",          # the request was itself a mirrored one
    "primary_error",       # the primary gave no answer to compare with
    "cutover_mode",        # cut-over mode answers without comparing
    "event_stream",        # a text/event-stream answer: streamed to the client as it came, never compared
    "body_too_large",      # a body above shadow_compare_max_bytes: streamed, not held in memory to compare
)
# declared: differs exactly as a deviation of tests/contract/deviations.json says; only `different` is a regression.
OUTCOMES = ("identical", "declared", "different", "unstable")
EXAMPLES_PER_FIELD = 3

# Diffy's thresholds: a field is a regression only when the candidate differs clearly more than the noise.
RELATIVE_THRESHOLD = 20.0
ABSOLUTE_THRESHOLD = 0.03


@dataclass
class FieldTally:
    """Differences at one field (part or generalised pointer) of one route."""

    kinds: Counter[str] = field(default_factory=Counter)
    raw: int = 0
    noise: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def regression(self, compared: int) -> bool:
        """Diffy's filter: more raw than noise differences, by enough relatively and absolutely."""
        if self.raw <= self.noise or compared == 0:
            return False
        relative = abs(self.raw - self.noise) / (self.raw + self.noise) * 100
        absolute = abs(self.raw - self.noise) / compared * 100
        return relative > RELATIVE_THRESHOLD and absolute > ABSOLUTE_THRESHOLD


@dataclass
class Cause:
    """Why a pair differed, as the report groups it: route, status pair, first differing message or pointer."""

    route: str
    statuses: str
    first: str
    outcome: str
    declared: str | None = None
    reason: dict[str, str] = field(default_factory=dict)
    primary_text: str = ""
    candidate_text: str = ""
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.route, self.statuses, self.first, self.outcome

    def as_dict(self, with_examples: bool = True) -> dict[str, Any]:
        """The summary.json shape of a cause."""
        out = {"route": self.route, "statuses": self.statuses, "first": self.first, "outcome": self.outcome,
               "declared": self.declared, "reason": self.reason, "primary_text": self.primary_text,
               "candidate_text": self.candidate_text, "count": self.count}
        return {**out, "examples": self.examples} if with_examples else out


@dataclass
class RouteTally:
    """Counts for one canonical route."""

    seen: int = 0
    mirrored: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    not_compared: Counter[str] = field(default_factory=Counter)
    fields: dict[str, FieldTally] = field(default_factory=dict)

    def as_dict(self, with_examples: bool = True) -> dict[str, Any]:
        """The summary.json shape of a route."""
        compared = sum(self.outcomes.values())
        return {
            "seen": self.seen, "mirrored": self.mirrored, "compared": compared,
            **{o: self.outcomes[o] for o in OUTCOMES},
            "not_compared": {r: self.not_compared[r] for r in REASONS if self.not_compared[r]},
            "fields": {
                name: {"kinds": dict(f.kinds), "raw": f.raw, "noise": f.noise,
                       "regression": f.regression(compared),
                       **({"examples": f.examples} if with_examples else {})}
                for name, f in sorted(self.fields.items())
            },
        }


@dataclass
class Tally:
    """Every request is counted exactly once: either compared (with an outcome) or not, with its reason."""

    mode: str = "shadow"
    started_at: float = field(default_factory=time.time)
    routes: dict[str, RouteTally] = field(default_factory=dict)
    causes: dict[tuple[str, str, str, str], Cause] = field(default_factory=dict)

    def route(self, name: str) -> RouteTally:
        return self.routes.setdefault(name, RouteTally())

    def seen(self, route: str) -> None:
        self.route(route).seen += 1

    def mirrored(self, route: str) -> None:
        self.route(route).mirrored += 1

    def skipped(self, route: str, reason: str) -> None:
        assert reason in REASONS, reason
        self.route(route).not_compared[reason] += 1

    def compared(self, route: str, outcome: str, differences: list[Difference], example: dict | None,
                 cause: Cause | None = None) -> None:
        """An outcome; for differences, their cause and (unless declared) each field's kinds, with a few examples."""
        tally = self.route(route)
        tally.outcomes[outcome] += 1
        if cause is not None:
            kept = self.causes.setdefault(cause.key, cause)
            kept.count += 1
            if example is not None and len(kept.examples) < EXAMPLES_PER_FIELD:
                kept.examples.append({**example, "differences": [d.as_dict() for d in differences[:5]]})
        if outcome == "declared":
            return
        for name, diffs in _by_field(differences).items():
            f = tally.fields.setdefault(name, FieldTally())
            f.raw += 1
            f.kinds.update(d.kind for d in diffs)
            if example is not None and len(f.examples) < EXAMPLES_PER_FIELD:
                f.examples.append({**example, "differences": [d.as_dict() for d in diffs[:5]]})

    def noise(self, route: str, differences: list[Difference]) -> None:
        """Differences between the primary and the second primary: what this field differs by on its own."""
        tally = self.route(route)
        for name in _by_field(differences):
            tally.fields.setdefault(name, FieldTally()).noise += 1

    def as_dict(self) -> dict[str, Any]:
        """summary.json: totals first, then per canonical route."""
        routes = {name: r.as_dict(with_examples=False) for name, r in sorted(self.routes.items())}
        not_compared = Counter()
        for r in self.routes.values():
            not_compared.update(r.not_compared)
        totals = {k: sum(r[k] for r in routes.values())
                  for k in ("seen", "mirrored", "compared", *OUTCOMES)}
        declared = Counter()
        for c in self.causes.values():
            if c.declared:
                declared[c.declared] += c.count
        return {"mode": self.mode, "started_at": _iso(self.started_at), "updated_at": _iso(time.time()),
                **totals, "regressions": totals["different"], "declared_by_name": dict(sorted(declared.items())),
                "not_compared": {r: not_compared[r] for r in REASONS}, "routes": routes,
                "causes": self.sorted_causes(with_examples=False)}

    def sorted_causes(self, with_examples: bool = True) -> list[dict[str, Any]]:
        """Regressions first, then unstable, then declared; the most frequent first within each."""
        rank = {"different": 0, "unstable": 1, "declared": 2}
        ordered = sorted(self.causes.values(), key=lambda c: (rank.get(c.outcome, 3), -c.count, c.key))
        return [c.as_dict(with_examples) for c in ordered]


def _by_field(differences: list[Difference]) -> dict[str, list[Difference]]:
    grouped: dict[str, list[Difference]] = {}
    for d in differences:
        grouped.setdefault(d.field, []).append(d)
    return grouped


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
