"""The addon's mitmproxy options (`--set name=value`) and their validation into one settings object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import exceptions

MODES = ("shadow", "cutover", "reverse")

# name, type, default, help. Numbers with fractions are strings: mitmproxy's --set parses no floats.
OPTIONS: tuple[tuple[str, type, Any, str], ...] = (
    ("shadow_mode", str, "shadow", "shadow: AgentOS answers, agno-session is compared; cutover: agno-session "
     "answers the routed paths, nothing is compared; reverse: agno-session answers, AgentOS is compared"),
    ("shadow_agentos", str, "", "AgentOS base URL, e.g. http://127.0.0.1:7777 (also the mitmdump reverse target)"),
    ("shadow_sessions", str, "", "agno-session base URL, e.g. http://127.0.0.1:8080"),
    ("shadow_routes", str, "/sessions", "comma-separated path prefixes served by agno-session"),
    ("shadow_rules", str, "", "YAML rules file (default: proxy/rules.default.yaml)"),
    ("shadow_report_dir", str, "shadow-report", "directory holding one <mode>-<UTC time>/ directory per mode run "
     "(summary.json, differences.ndjson, report.html) and runs.json listing them"),
    ("shadow_deviations", str, "", "the declared deviations (default: the repository's "
     "tests/contract/deviations.json); a pair they explain is counted declared, not different"),
    ("shadow_compare_max_bytes", int, 4 << 20, "a compared answer larger than this is streamed and counted "
     "body_too_large instead of being held in memory"),
    ("shadow_sample_percent", str, "", "global sampling percentage 0-100 (default: the rules file's)"),
    ("shadow_rate", str, "", "cap on mirrored requests per second, 0 = none (default: the rules file's)"),
    ("shadow_timeout", str, "5", "seconds the comparison side may take"),
    ("shadow_concurrency", int, 8, "comparison calls in flight at most"),
    ("shadow_queue", int, 256, "comparisons waiting for a slot at most; more are counted queue_full"),
    ("shadow_breaker_failures", int, 5, "consecutive timeouts/errors that open the circuit breaker"),
    ("shadow_breaker_cooldown", str, "10", "seconds the breaker stays open before one probe"),
    ("shadow_mirror_writes", bool, False, "mirror POST/PATCH/PUT/DELETE too (needs shadow_candidate_own_db)"),
    ("shadow_candidate_own_db", bool, False, "declare that the comparison side has its own database"),
    ("shadow_auth", str, "pass", "Authorization sent to the comparison side: pass, drop, or env:VARIABLE"),
    ("shadow_recheck", bool, True, "on a difference, ask both sides once more and call it unstable if the "
     "primary's answer changed"),
    ("shadow_secondary", str, "", "second primary for noise cancellation: a base URL, or 'primary' to ask "
     "the primary twice"),
    ("shadow_control_port", int, 0, "local port of the control listener (a second --mode reverse:...@PORT)"),
    ("shadow_body_limit", int, 65536, "bytes of each body kept in differences.ndjson"),
)


@dataclass(frozen=True)
class Settings:
    """Validated options."""

    mode: str
    agentos: str
    sessions: str
    prefixes: tuple[str, ...]
    rules_file: str
    report_dir: str
    deviations_file: str
    compare_max_bytes: int
    sample_percent: float | None
    rate: float | None
    timeout: float
    concurrency: int
    queue: int
    breaker_failures: int
    breaker_cooldown: float
    mirror_writes: bool
    auth: str
    recheck: bool
    secondary: str
    control_port: int
    body_limit: int

    @property
    def primary(self) -> str:
        """The side whose answer the client gets for routed paths."""
        return self.agentos if self.mode == "shadow" else self.sessions

    @property
    def other(self) -> str:
        """The side that is only compared."""
        return self.sessions if self.mode == "shadow" else self.agentos

    @property
    def primary_side(self) -> str:
        return "agentos" if self.mode == "shadow" else "sessions"

    def secondary_url(self) -> str | None:
        """The second primary, if noise cancellation is on."""
        if not self.secondary:
            return None
        return self.primary if self.secondary == "primary" else self.secondary


def from_options(o: Any) -> Settings:
    """Check every option; raise OptionsError naming the option and what is wrong."""
    if o.shadow_mode not in MODES:
        raise exceptions.OptionsError(f"shadow_mode must be one of {', '.join(MODES)}, not {o.shadow_mode!r}")
    for name in ("shadow_agentos", "shadow_sessions"):
        _base_url(name, getattr(o, name), required=True)
    if o.shadow_secondary and o.shadow_secondary != "primary":
        _base_url("shadow_secondary", o.shadow_secondary, required=True)
    prefixes = tuple(p.strip() for p in o.shadow_routes.split(",") if p.strip())
    if not prefixes or any(not p.startswith("/") for p in prefixes):
        raise exceptions.OptionsError(f"shadow_routes must be path prefixes starting with '/': {o.shadow_routes!r}")
    if o.shadow_mirror_writes and not o.shadow_candidate_own_db:
        raise exceptions.OptionsError(
            "shadow_mirror_writes needs shadow_candidate_own_db=true: on one shared database every mirrored "
            "write would be applied twice (see docs/cutover.md)")
    auth = o.shadow_auth
    if auth not in ("pass", "drop") and not auth.startswith("env:"):
        raise exceptions.OptionsError("shadow_auth must be pass, drop or env:VARIABLE (the value is never "
                                      "given on the command line)")
    if auth.startswith("env:") and auth[4:] not in os.environ:
        raise exceptions.OptionsError(f"shadow_auth: environment variable {auth[4:]} is not set")
    for name in ("shadow_concurrency", "shadow_queue", "shadow_breaker_failures", "shadow_body_limit",
                 "shadow_compare_max_bytes"):
        if getattr(o, name) < (0 if name == "shadow_queue" else 1):
            raise exceptions.OptionsError(f"{name} must be positive, not {getattr(o, name)}")
    return Settings(
        mode=o.shadow_mode, agentos=o.shadow_agentos.rstrip("/"), sessions=o.shadow_sessions.rstrip("/"),
        prefixes=prefixes, rules_file=o.shadow_rules, report_dir=o.shadow_report_dir,
        deviations_file=o.shadow_deviations, compare_max_bytes=o.shadow_compare_max_bytes,
        sample_percent=_number("shadow_sample_percent", o.shadow_sample_percent, 0, 100),
        rate=_number("shadow_rate", o.shadow_rate, 0, None),
        timeout=_number("shadow_timeout", o.shadow_timeout, 0.001, None) or 5.0,
        concurrency=o.shadow_concurrency, queue=o.shadow_queue, breaker_failures=o.shadow_breaker_failures,
        breaker_cooldown=_number("shadow_breaker_cooldown", o.shadow_breaker_cooldown, 0, None) or 0.0,
        mirror_writes=bool(o.shadow_mirror_writes), auth=auth, recheck=bool(o.shadow_recheck),
        secondary=o.shadow_secondary, control_port=o.shadow_control_port, body_limit=o.shadow_body_limit,
    )


def _base_url(name: str, value: str, required: bool) -> None:
    if not value:
        if required:
            raise exceptions.OptionsError(f"{name} is required (a base URL such as http://127.0.0.1:8080)")
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise exceptions.OptionsError(f"{name} must be a base URL like http://host:port (no path), not {value!r}")


def _number(name: str, text: str, low: float, high: float | None) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise exceptions.OptionsError(f"{name} must be a number, not {text!r}") from None
    if value < low or (high is not None and value > high):
        raise exceptions.OptionsError(f"{name} must be between {low} and {high if high is not None else '∞'}")
    return value
