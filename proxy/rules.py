"""The comparison rules file (YAML): validated at load with an error that names the file and the place."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from proxy import pointers, routes

DEFAULT_FILE = Path(__file__).with_name("rules.default.yaml")
ALWAYS_COMPARED = ("content-type",)

_POINTERS = {"type": "array", "items": {"type": "string"}}
_NOISE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ignore": _POINTERS,
        "uuids": _POINTERS,
        "sets": _POINTERS,
        "timestamps": {
            "type": "object",
            "additionalProperties": False,
            "required": ["pointers"],
            "properties": {"pointers": _POINTERS, "tolerance_seconds": {"type": "number", "minimum": 0}},
        },
    },
}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
SAMPLING_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "percent": _PERCENT,
        "rate_per_second": {"type": "number", "minimum": 0},
        "routes": {"type": "object", "additionalProperties": _PERCENT},
    },
}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "headers": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"}},
        "exclude": {"type": "array", "items": {"type": "string"}},
        "sampling": SAMPLING_SCHEMA,
        "noise": _NOISE,
        "routes": {"type": "object", "additionalProperties": _NOISE},
    },
}


class RulesError(ValueError):
    """A rules file that cannot be used, with the file and the JSON path of the problem in its message."""


@dataclass
class RouteNoise:
    """The noise rules in force for one canonical route (global ones plus the route's own)."""

    ignore: list[re.Pattern[str]] = field(default_factory=list)
    uuids: list[re.Pattern[str]] = field(default_factory=list)
    sets: list[re.Pattern[str]] = field(default_factory=list)
    timestamps: list[re.Pattern[str]] = field(default_factory=list)
    tolerance_seconds: float = 0.0

    def ignored(self, pointer: str) -> bool:
        return _any(self.ignore, pointer)

    def as_set(self, pointer: str) -> bool:
        return _any(self.sets, pointer)

    def same_uuid_shape(self, pointer: str, a: Any, b: Any) -> bool:
        return _any(self.uuids, pointer) and _is_uuid(a) and _is_uuid(b)

    def same_timestamp(self, pointer: str, a: Any, b: Any) -> bool:
        if not _any(self.timestamps, pointer):
            return False
        ta, tb = _instant(a), _instant(b)
        return ta is not None and tb is not None and abs(ta - tb) <= self.tolerance_seconds


@dataclass
class Rules:
    """A loaded, validated rules file."""

    source: str
    headers: tuple[str, ...]
    exclude: tuple[str, ...]
    sampling: dict[str, Any]
    noise: dict[str, Any]
    route_noise: dict[str, dict[str, Any]]
    _cache: dict[str, RouteNoise] = field(default_factory=dict, repr=False)

    def compared_headers(self) -> tuple[str, ...]:
        """content-type plus the headers the file names, lower-cased."""
        return ALWAYS_COMPARED + tuple(h.lower() for h in self.headers if h.lower() not in ALWAYS_COMPARED)

    def excluded(self, route: str) -> bool:
        """Whether a canonical route (`METHOD /template`) is never compared."""
        return any(_route_matches(key, route) for key in self.exclude)

    def for_route(self, route: str) -> RouteNoise:
        """Global noise rules merged with those of every key that matches the route."""
        if route not in self._cache:
            specs = [self.noise] + [spec for key, spec in self.route_noise.items() if _route_matches(key, route)]
            merged = RouteNoise()
            for spec in specs:
                merged.ignore += [pointers.compile_pattern(p) for p in spec.get("ignore", [])]
                merged.uuids += [pointers.compile_pattern(p) for p in spec.get("uuids", [])]
                merged.sets += [pointers.compile_pattern(p) for p in spec.get("sets", [])]
                stamps = spec.get("timestamps") or {}
                merged.timestamps += [pointers.compile_pattern(p) for p in stamps.get("pointers", [])]
                merged.tolerance_seconds = max(merged.tolerance_seconds, stamps.get("tolerance_seconds", 0))
            self._cache[route] = merged
        return self._cache[route]


def load(path: str | Path | None = None) -> Rules:
    """Read and validate a rules file (the packaged default when none is given); RulesError if unusable."""
    source = Path(path) if path else DEFAULT_FILE
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{source}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise RulesError(f"{source}: not valid YAML: {exc}") from exc
    return parse(document if document is not None else {}, str(source))


def parse(document: Any, source: str = "<rules>") -> Rules:
    """Validate a parsed rules document; every problem is reported as `source: $.json.path: message`."""
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(document), key=lambda e: list(e.path))
    if errors:
        raise RulesError("\n".join(f"{source}: {e.json_path}: {e.message}" for e in errors))
    for key in list(document.get("exclude", [])) + list(document.get("routes", {})) + list(
            document.get("sampling", {}).get("routes", {})):
        check_route_key(key, source)
    for where, spec in [("$.noise", document.get("noise", {}))] + [
            (f"$.routes['{k}']", v) for k, v in document.get("routes", {}).items()]:
        for name in ("ignore", "uuids", "sets"):
            _check_patterns(spec.get(name, []), f"{source}: {where}.{name}")
        _check_patterns((spec.get("timestamps") or {}).get("pointers", []), f"{source}: {where}.timestamps.pointers")
    return Rules(source, tuple(document.get("headers", [])), tuple(document.get("exclude", [])),
                 dict(document.get("sampling", {})), dict(document.get("noise", {})), dict(document.get("routes", {})))


def check_route_key(key: str, source: str = "<rules>") -> None:
    """A route key is `/template` or `METHOD /template` with a known template; else RulesError."""
    method, _, template = key.rpartition(" ")
    if template not in routes.ROUTE_NAMES or (method and not method.isalpha()):
        raise RulesError(f"{source}: unknown route {key!r}; routes are 'METHOD /template' or '/template' with "
                         f"a template among: {', '.join(routes.ROUTE_NAMES)}")


def _check_patterns(patterns: list[str], where: str) -> None:
    for i, pattern in enumerate(patterns):
        try:
            pointers.compile_pattern(pattern)
        except ValueError as exc:
            raise RulesError(f"{where}[{i}]: {exc}") from exc


def _route_matches(key: str, route: str) -> bool:
    method, _, template = key.rpartition(" ")
    route_method, _, route_template = route.partition(" ")
    return template == route_template and (not method or method.upper() == route_method)


def _any(patterns: list[re.Pattern[str]], pointer: str) -> bool:
    return any(p.match(pointer) for p in patterns)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _instant(value: Any) -> float | None:
    """Seconds since the epoch of an ISO 8601 string or an epoch number (seconds), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    return None
