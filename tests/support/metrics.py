"""Reading a Prometheus exposition: the samples of /metrics by name and labels, for the tests that check counts."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float | None:
    """The one sample with exactly these labels, or None when the exposition lacks it."""
    return samples(text).get((name, tuple(sorted(labels.items()))))
