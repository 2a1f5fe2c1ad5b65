"""JSON as AgentOS encodes and agno stores it, shared by the HTTP answers and the JSONB columns."""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson

# A JSON column written as the literal null: what agno stores for the fields it includes as None.
JSON_NULL = object()
# Values nest as deep as AgentOS decodes them (959 levels): walking, rendering and encoding them recursively
# needs more than Python's default 1000 frames.
RECURSION_LIMIT = 4000
_CHUNK = 128  # orjson refuses to nest deeper than 254 levels; deeper values are encoded a chunk at a time
# A run of 19 ASCII digits (a number orjson may not hold exactly) is found by mapping every digit to "0" and
# searching for nineteen of them: C-speed passes, 5-15x cheaper than a regex scan over kilobytes of run data.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def allow_deep_values() -> None:
    """Raise the recursion limit so values as deep as AgentOS accepts can be walked (called by create_app)."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON byte-identical to pydantic-core's (orjson formats floats the same way)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return orjson.dumps(_verbatim(body, 0))


def _verbatim(value: Any, level: int) -> Any:
    """What orjson refuses, handed over as ready-made JSON fragments: integers beyond 64 bits and the parts of
    a value nested deeper than orjson's limit (pydantic-core answers up to 255 levels)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return orjson.Fragment(str(value))
    if isinstance(value, (dict, list)) and level >= _CHUNK:
        return orjson.Fragment(dumps(value))
    if isinstance(value, dict):
        return {k: _verbatim(v, level + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_verbatim(v, level + 1) for v in value]
    return value


def loads(text: str) -> Any:
    """Decode stored JSON fast; the stdlib where orjson would turn integers beyond 64 bits into floats."""
    if _LONG_NUMBER in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO):
        return json.loads(text)
    return orjson.loads(text)
