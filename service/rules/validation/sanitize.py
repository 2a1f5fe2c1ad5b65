"""The characters agno strips from what it stores, stripped the same way before we store it."""

from __future__ import annotations

import re
from typing import Any

# What agno removes from every string value it writes into a JSON column (and from a new session name).
_UNSTORED_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
JSON_BODY_FIELDS = ("session_name", "session_state", "metadata", "summary", "runs")


def sanitize_strings(value: Any) -> Any:
    """Strip the characters agno strips from string values (keys are kept, as agno keeps them)."""
    if isinstance(value, str):
        return _UNSTORED_CHARS.sub("", value)
    if isinstance(value, list):
        return [sanitize_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: sanitize_strings(v) for k, v in value.items()}
    return value

