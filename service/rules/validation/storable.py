"""Values AgentOS accepts but cannot bind or store (it answers 500): ours to refuse with a precise 422."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from service.core.pg_limits import BIGINT_MAX
from service.rules.validation.errors import NOT_UNICODE, STRING, SURROGATE, error, le_error

NO_NUL = "^[^\\x00]*$"


def storable_errors(value: Any, loc: tuple, *, varchar: bool = False) -> list[dict]:
    """Where AgentOS 500s writing or binding a value: NaN/Infinity, lone surrogates, NUL in keys/columns."""
    if isinstance(value, float) and not math.isfinite(value):
        return [error("finite_number", loc, "Input should be a finite number", value)]
    if isinstance(value, str):
        if SURROGATE.search(value):
            return [error("string_unicode", loc, NOT_UNICODE, value)]
        if varchar and "\x00" in value:
            return [error("string_pattern_mismatch", loc, f"String should match pattern '{NO_NUL}'", value,
                          {"pattern": NO_NUL})]
        return []
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in storable_errors(v, (*loc, i), varchar=varchar)]
    if isinstance(value, dict):
        errors = []
        for k, v in value.items():
            errors += storable_errors(k, (*loc, k, "[key]"), varchar=True)
            errors += storable_errors(v, (*loc, k), varchar=varchar)
        return errors
    return []


def path_errors(session_id: str | None) -> list[dict]:
    """NUL in the path's session_id: the one path value AgentOS binds into SQL (run ids are compared in Python)."""
    if session_id is None:
        return []
    return storable_errors(session_id, ("path", "session_id"), varchar=True)



def column_errors(value: dict, names: Iterable[str], *, varchar: bool) -> list[dict]:
    return [e for n in names for e in storable_errors(value.get(n), ("body", n), varchar=varchar)]



def run_errors(runs: list | None) -> list[dict]:
    """Each preloaded run needs a string run_id: it is the runs table's primary key."""
    errors = []
    for i, run in enumerate(runs or ()):
        loc = ("body", "runs", i, "run_id")
        if "run_id" not in run:
            errors.append(error("missing", loc, "Field required", run))
        elif not isinstance(run["run_id"], str):
            errors.append(error("string_type", loc, STRING, run["run_id"]))
        for key in ("run_index", "created_at"):  # bigint columns, filled from these when they are integers
            value = run.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and not -BIGINT_MAX - 1 <= value <= BIGINT_MAX:
                bound_loc = ("body", "runs", i, key)
                errors.append(le_error(bound_loc, value, BIGINT_MAX) if value > 0 else error(
                    "greater_than_equal", bound_loc, f"Input should be greater than or equal to {-BIGINT_MAX - 1}",
                    value, {"ge": -BIGINT_MAX - 1}))
    return errors

