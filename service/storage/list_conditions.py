"""The SQL side of extension `list-filters` on GET /sessions: the date bounds' conditions and the metadata
filters' parameters (the WHERE itself is composed by sessions.list_filter)."""

from __future__ import annotations

import json
import re
from typing import Any

from service.storage.binding import jsonb

MAX_NUMBER_CHARS = 1000  # numeric holds 131072 digits before the point and 16383 after: far within
_SURROGATE = re.compile("[\ud800-\udfff]")

DATE_FILTERS = {  # extension `list-filters`: inclusive epoch-second bounds, as AgentOS's runs route takes them
    "created_after": "s.created_at >= %(created_after)s",
    "created_before": "s.created_at <= %(created_before)s",
    # updated_* read the list's sort key for updated_at (a row never updated counts as updated when created),
    # the expression the service's `updated` index covers
    "updated_after": "COALESCE(s.updated_at, s.created_at) >= %(updated_after)s",
    "updated_before": "COALESCE(s.updated_at, s.created_at) <= %(updated_before)s",
}
# every filter but the type: the trigger-kept counts total by type alone, so any of these counts rows
NARROWING = ("user_id", "component_id", "session_name", "metadata", "q", *DATE_FILTERS)


def metadata_params(pairs: list[list[str]] | None) -> dict[str, Any]:
    """The parameters of the metadata filters: key, value, and the documents whose containment finds every row
    whose `metadata ->> key` is the value's text (a string equal to it, or the JSON the text spells: 5, true, {...}),
    a superset the `->>` equality then narrows."""
    params: dict[str, Any] = {}
    for i, (key, value) in enumerate(pairs or []):
        docs: list[Any] = [jsonb({key: value})]
        if _spells_storable_json(value):  # its own text, so PostgreSQL reads its numbers exactly
            docs.append(f"{{{json.dumps(key)}: {value}}}")
        params |= {f"metadata_key_{i}": key, f"metadata_value_{i}": value, f"metadata_docs_{i}": docs}
    return params


def _spells_storable_json(text: str) -> bool:
    """Whether `text` is JSON for a number, boolean, object or array whose text a stored value could have (a stored
    string equal to `text` is found by the first document; a stored null has no `->>` text to equal)."""
    try:
        value = json.loads(text, parse_constant=_refuse, parse_int=_plain_number, parse_float=_plain_number)
    except (ValueError, RecursionError):
        return False
    return value is not None and not isinstance(value, str) and _storable(value)


def _refuse(name: str) -> None:
    raise ValueError(name)  # NaN and Infinity are not JSON, and jsonb cannot hold them


def _plain_number(raw: str) -> int:
    """jsonb writes numbers without an exponent, so a text with one equals no stored value's text (and 1e-99999
    would overflow PostgreSQL's numeric); the parsed value itself is not needed."""
    if "e" in raw or "E" in raw or len(raw) > MAX_NUMBER_CHARS:
        raise ValueError(raw)
    return 0


def _storable(value: Any) -> bool:
    """jsonb refuses NUL and unpaired surrogates in strings (json.loads accepts their escapes)."""
    if isinstance(value, str):
        return "\x00" not in value and _SURROGATE.search(value) is None
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True
