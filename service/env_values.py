"""Reading typed values from the environment: one spelling of a boolean for every setting."""

from __future__ import annotations

from collections.abc import Mapping

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_flag(env: Mapping[str, str], name: str, default: bool, error: type[Exception]) -> bool:
    """`name` as a boolean (`default` when unset); any other spelling raises `error` naming the variable."""
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise error(f"{name} must be true or false, got {raw!r}")
