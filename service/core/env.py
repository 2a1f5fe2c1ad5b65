"""Reading typed values from the environment: one spelling of a boolean, one bounded integer, one error type, for
every setting of every layer."""

from __future__ import annotations

from collections.abc import Mapping

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
# prometheus_client's own variable, read once when it is imported: `serve` points it at a fresh directory
# (service.server.metrics_dir) and /metrics sums the worker files found there (service.api.metrics).
PROMETHEUS_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


class ConfigError(ValueError):
    """A setting is wrong; the message names the variable and what is expected."""


def env_flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """`name` as a boolean (`default` when unset); any other spelling raises ConfigError naming the variable."""
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_int(env: Mapping[str, str], name: str, default: int | None, minimum: int, maximum: int,
            unit: str = "") -> int | None:
    """`name` as an integer within [minimum, maximum] (`default` when unset or blank); else ConfigError naming the
    variable and the bounds. `unit` ("seconds") words the message when the number is a quantity."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be an integer{f' number of {unit}' if unit else ''}, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value
