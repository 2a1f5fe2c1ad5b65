"""Thread-safe session state for library workflows, with deterministic merging of parallel branches."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """Structural equality of the same types: 1, 1.0 and True differ; deep-copied plain objects are equal."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a).__eq__ is object.__eq__ and hasattr(a, "__dict__"):
        return a is b or _same(vars(a), vars(b))  # a clone's copy of an untouched object is not a change
    try:
        return bool(a == b)
    except Exception:  # exotic __eq__ (array-like): treat as changed, the branch's copy wins
        return False


def _apply_diff(target: dict, original: Mapping, branch: Mapping) -> None:
    """Replay on `target` what `branch` changed relative to `original`: adds, edits, deletions, nested dicts."""
    for key, value in branch.items():
        before = original.get(key, _MISSING)
        if before is not _MISSING and _same(before, value):
            continue  # untouched by this branch: an earlier branch's change stands
        current = target.get(key)
        if before is _MISSING:
            before = {}  # a dict two branches both added is merged like one they both edited
        if isinstance(before, dict) and isinstance(value, dict) and isinstance(current, dict):
            _apply_diff(current, before, value)
        else:
            target[key] = copy.deepcopy(value)
    for key in original:
        if key not in branch:
            target.pop(key, None)


def _deep_update(target: dict, source: Mapping) -> None:
    """Merge `source` into `target`, descending into dicts present on both sides; `source` wins elsewhere."""
    for key, value in source.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _deep_update(current, value)
        else:
            target[key] = copy.deepcopy(value)


def _snapshot(value: SessionState | Mapping) -> dict:
    """A private deep copy of a state or mapping, taken under that state's own lock only."""
    return value.get_all() if isinstance(value, SessionState) else copy.deepcopy(dict(value))


class SessionState:
    """A dict guarded by a re-entrant lock: every read hands out a deep copy, never a live reference."""

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.RLock()
        self._data: dict[str, Any] = copy.deepcopy(dict(initial)) if initial else {}

    @property
    def lock(self) -> threading.RLock:
        """The state's lock, so a caller can make a read-modify-write sequence atomic."""
        return self._lock

    @contextmanager
    def locked(self) -> Iterator[dict[str, Any]]:
        """The live dict under the lock, for compound updates; do not keep it after the block."""
        with self._lock:
            yield self._data

    def get(self, key: str, default: Any = None) -> Any:
        """A deep copy of one value, so callers cannot mutate the state behind the lock."""
        with self._lock:
            return copy.deepcopy(self._data.get(key, default))

    def set(self, key: str, value: Any) -> None:
        """Store a deep copy of `value`, so later changes to the caller's object do not leak in."""
        value = copy.deepcopy(value)
        with self._lock:
            self._data[key] = value

    def update(self, key: str, fn: Callable[[Any], Any], default: Any = None) -> Any:
        """Atomically replace a value with `fn(old)` (counters, appends); returns the new value."""
        with self._lock:
            new = fn(copy.deepcopy(self._data.get(key, default)))
            self._data[key] = copy.deepcopy(new)
            return new

    def delete(self, key: str) -> bool:
        """Remove a key; whether it was there."""
        with self._lock:
            return self._data.pop(key, _MISSING) is not _MISSING

    def get_all(self) -> dict[str, Any]:
        """A consistent deep-copied snapshot of the whole state."""
        with self._lock:
            return copy.deepcopy(self._data)

    def clear(self) -> None:
        """Remove every key."""
        with self._lock:
            self._data.clear()

    def replace(self, data: Mapping[str, Any]) -> None:
        """Swap in a deep copy of `data` as the whole state."""
        data = copy.deepcopy(dict(data))
        with self._lock:
            self._data = data

    def clone(self) -> SessionState:
        """An independent deep copy that keeps Python types (tuples, sets, custom objects)."""
        return SessionState(self.get_all())

    def merge(self, other: SessionState | Mapping[str, Any]) -> None:
        """Deep-merge another state into this one; the other is snapshotted first, so no two locks are held."""
        incoming = _snapshot(other)
        with self._lock:
            _deep_update(self._data, incoming)

    def apply_branches(self, original: SessionState | Mapping[str, Any],
                       branches: Iterable[SessionState | Mapping[str, Any]]) -> None:
        """Replay each branch's changes against `original` onto this state, in branch order."""
        base = _snapshot(original)
        snapshots = [_snapshot(b) for b in branches]
        with self._lock:
            for branch in snapshots:
                _apply_diff(self._data, base, branch)

    def __copy__(self) -> SessionState:
        return self.clone()

    def __deepcopy__(self, memo: dict) -> SessionState:
        return self.clone()

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (SessionState, Mapping)):
            return _same(self.get_all(), _snapshot(other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SessionState({self.get_all()!r})"


def merge_parallel(original: SessionState | Mapping[str, Any],
                   branches: Iterable[SessionState | Mapping[str, Any]]) -> dict[str, Any]:
    """`original` with every branch's changes applied in branch order (later branches win on conflicts)."""
    result = SessionState(_snapshot(original))
    result.apply_branches(original, branches)
    return result.get_all()
