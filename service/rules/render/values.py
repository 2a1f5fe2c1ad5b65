"""Small value rules shared by the session and run projections (coercions, text, the sdk label)."""

from __future__ import annotations

import json
from typing import Any

from service.rules.validation.scalars import FALSE_WORDS


def with_sdk(metadata: Any, agent_data: Any) -> Any:
    """AgentOS shows an external agent's sdk/framework label inside metadata without storing it."""
    sdk = (agent_data.get("sdk") or agent_data.get("framework")) if isinstance(agent_data, dict) else None
    if isinstance(sdk, str) and sdk:
        return {**(metadata if isinstance(metadata, dict) else {}), "sdk": sdk}
    return metadata


def as_text(value: Any) -> str:
    """Text where AgentOS demands a string and 500s on anything else (Message.get_content_string rule)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if not value:
            return ""
        if isinstance(value[0], dict) and isinstance(value[0].get("text"), str):
            return value[0]["text"]
    return json.dumps(value, ensure_ascii=False, default=str)


def stringify_input(value: Any) -> Any:
    """agno's stringify_input_content: dicts as indented JSON, user-message lists as their content."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, indent=2, default=str)
    if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("role") == "user":
        return value[0].get("content", str(value))
    return str(value)


def lax_bool(value: Any) -> bool:
    """pydantic's lax bool: 'false'/'no'/'0' strings are False, the rest by truthiness."""
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return bool(value)


def lax_int(value: Any) -> Any:
    """pydantic's lax int: integral floats, bools and numeric strings become ints; the rest is left as is."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return value
    return value

