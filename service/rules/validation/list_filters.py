"""Extension `list-filters` on GET /sessions: the `metadata.<key>=<value>` family (one query parameter per key, so
no fixed parameter group can hold it) and the names of the filters a list applied."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from service.rules.validation.errors import error
from service.rules.validation.outcome import Outcome
from service.rules.validation.storable import storable_errors

METADATA_PREFIX = "metadata."
METADATA_APPLIED = "metadata.*"  # the Agno-Session-Applied name for any number of metadata filters
MAX_METADATA_FILTERS = 16  # each is a condition of the list's statement: enough for a UI, bounded for the planner
DATE_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")
FILTER_KEYS = ("metadata", *DATE_FILTERS)  # what a list's `filters` gains from this extension


def with_metadata_filters(query: Outcome, args: MultiDict) -> Outcome:
    """`query` plus `metadata`: the [key, value] pairs sorted by key (None when none is given); a repeated
    identical pair counts once; an empty key, a key given two values, NUL, or more than MAX_METADATA_FILTERS keys
    are deferred 422s."""
    given: dict[str, list[str]] = {}
    for name, value in args.items(multi=True):
        if name.startswith(METADATA_PREFIX):
            values = given.setdefault(name[len(METADATA_PREFIX):], [])
            if value not in values:
                values.append(value)
    errors = []
    for key, values in given.items():
        loc = ("query", METADATA_PREFIX + key)
        if not key:
            errors.append(error("string_too_short", loc, "String should have at least 1 character", key,
                                {"min_length": 1}))
        elif len(values) > 1:
            errors.append(error("metadata_conflict", loc, "Every metadata filter must match: give each key one "
                                                          "value", values))
        errors += storable_errors(key, loc, varchar=True) + storable_errors(values[0], loc, varchar=True)
    if len(given) > MAX_METADATA_FILTERS:
        errors.append(error("too_long", ("query", METADATA_APPLIED),
                            f"Give at most {MAX_METADATA_FILTERS} metadata filters, not {len(given)}",
                            sorted(given), {"max_length": MAX_METADATA_FILTERS, "actual_length": len(given)}))
    query.value = {**query.value, "metadata": [[k, v[0]] for k, v in sorted(given.items())] or None}
    query.deferred += errors
    return query


def applied_filters(query: dict) -> list[str]:
    """The Agno-Session-Applied names of the filters a list applied: `metadata.*` once, each date bound by name."""
    names = [METADATA_APPLIED] if query["metadata"] else []
    return names + [name for name in DATE_FILTERS if query[name] is not None]
