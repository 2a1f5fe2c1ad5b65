"""A structural JSON diff that names each difference by its JSON pointer and kind (Diffy's kinds)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from proxy import pointers

KINDS = ("value", "type", "missing", "extra", "order", "length", "bytes")


@dataclass(frozen=True)
class Difference:
    """One difference: in which part of the answer, where in the body (pointer), what kind, both values."""

    pointer: str
    kind: str
    primary: Any = None
    candidate: Any = None
    part: str = "body"  # "status", "header:<name>" or "body"

    @property
    def field(self) -> str:
        """What differences are aggregated under: the part, or the body pointer with indices as `*`."""
        return pointers.generalise(self.pointer) if self.part == "body" else self.part

    def as_dict(self) -> dict[str, Any]:
        """The NDJSON shape."""
        return {"part": self.part, "pointer": self.pointer, "kind": self.kind, "primary": self.primary,
                "candidate": self.candidate}


class Noise(Protocol):
    """What the diff asks of the noise rules at each pointer."""

    def ignored(self, pointer: str) -> bool: ...
    def same_timestamp(self, pointer: str, a: Any, b: Any) -> bool: ...
    def same_uuid_shape(self, pointer: str, a: Any, b: Any) -> bool: ...
    def as_set(self, pointer: str) -> bool: ...


class NoNoise:
    """No rules: every byte of structure counts."""

    def ignored(self, pointer: str) -> bool:
        return False

    def same_timestamp(self, pointer: str, a: Any, b: Any) -> bool:
        return False

    def same_uuid_shape(self, pointer: str, a: Any, b: Any) -> bool:
        return False

    def as_set(self, pointer: str) -> bool:
        return False


def json_type(value: Any) -> str:
    """The JSON type name; integers and fractions differ because their bytes do."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def diff(primary: Any, candidate: Any, noise: Noise | None = None, pointer: str = "") -> list[Difference]:
    """Every difference between two parsed JSON documents, in document order of the primary."""
    noise = noise or NoNoise()
    out: list[Difference] = []
    _walk(primary, candidate, noise, pointer, out)
    return out


def _walk(a: Any, b: Any, noise: Noise, ptr: str, out: list[Difference]) -> None:
    if noise.ignored(ptr):
        return
    if noise.same_timestamp(ptr, a, b) or noise.same_uuid_shape(ptr, a, b):
        return
    ta, tb = json_type(a), json_type(b)
    if ta != tb:
        out.append(Difference(ptr, "type", a, b))
    elif ta == "object":
        _objects(a, b, noise, ptr, out)
    elif ta == "array":
        _arrays(a, b, noise, ptr, out)
    elif a != b:
        out.append(Difference(ptr, "value", a, b))


def _objects(a: dict, b: dict, noise: Noise, ptr: str, out: list[Difference]) -> None:
    for key, value in a.items():
        child = pointers.join(ptr, key)
        if key not in b:
            if not noise.ignored(child):
                out.append(Difference(child, "missing", value, None))
        else:
            _walk(value, b[key], noise, child, out)
    for key, value in b.items():
        child = pointers.join(ptr, key)
        if key not in a and not noise.ignored(child):
            out.append(Difference(child, "extra", None, value))
    shared_a = [k for k in a if k in b and not noise.ignored(pointers.join(ptr, k))]
    shared_b = [k for k in b if k in a and not noise.ignored(pointers.join(ptr, k))]
    if shared_a != shared_b:
        out.append(Difference(ptr, "order", shared_a, shared_b))


def _arrays(a: list, b: list, noise: Noise, ptr: str, out: list[Difference]) -> None:
    if noise.as_set(ptr):
        a, b = sorted(a, key=_canonical), sorted(b, key=_canonical)
    elif len(a) == len(b) and a != b and sorted(map(_canonical, a)) == sorted(map(_canonical, b)):
        out.append(Difference(ptr, "order", a, b))
        return
    if len(a) != len(b):
        out.append(Difference(ptr, "length", len(a), len(b)))
        return
    for index, (x, y) in enumerate(zip(a, b, strict=True)):
        _walk(x, y, noise, pointers.join(ptr, index), out)
