"""The history window (extension `history-window`): the last messages of chat_history before a position, gathered
from runs read newest first, so only the runs a page shows (and one message past it) are ever read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.core.pg_limits import BIGINT_MAX
from service.rules.cursors import CursorInvalid
from service.rules.render.messages import history_messages, message_to_dict

_INT_MIN = -BIGINT_MAX - 1


@dataclass(frozen=True)
class Position:
    """A message's place in agno's run order: its run's key (run_index, NULLs last; created_at; run_id) and its
    index in that run's stored messages. A cursor names the oldest message of a page: the next page is before it."""

    run_index: int | None
    created_at: int
    run_id: str
    message: int

    def as_json(self) -> dict[str, Any]:
        return {"i": self.run_index, "c": self.created_at, "r": self.run_id, "m": self.message}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Position:
        """A position read back from a cursor; values a genuine cursor cannot hold are CursorInvalid."""
        index, created, run_id, message = (raw.get(k) for k in ("i", "c", "r", "m"))
        if not (index is None or _bigint(index)) or not _bigint(created) or not _bigint(message) or message < 0:
            raise CursorInvalid()
        if not isinstance(run_id, str) or "\x00" in run_id:
            raise CursorInvalid()
        return cls(index, created, run_id, message)


def _bigint(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _INT_MIN <= value <= BIGINT_MAX


class HistoryWindow:
    """Collects the last `limit` history messages before `before` (None: the newest) plus one older message, which
    tells whether an older page exists. Feed it run rows newest first until `feed` says it is full."""

    def __init__(self, limit: int, before: Position | None) -> None:
        self.limit, self.before = limit, before
        self._newest_first: list[tuple[Position, dict]] = []

    def feed(self, rows: list[dict]) -> bool:
        """Take run rows (run_index, created_at, run_id, run_data), newest first; True once nothing more is needed."""
        for row in rows:
            if self.full:
                break
            found = history_messages(row["run_data"])
            if self.before is not None and row["run_id"] == self.before.run_id:
                found = [(i, m) for i, m in found if i < self.before.message]
            for index, message in reversed(found):
                position = Position(row["run_index"], row["created_at"], row["run_id"], index)
                self._newest_first.append((position, message))
                if self.full:
                    break
        return self.full

    @property
    def full(self) -> bool:
        return len(self._newest_first) > self.limit

    def messages(self, now: int) -> list[dict]:
        """The page, oldest first, each message as chat_history renders it."""
        page = self._newest_first[:self.limit]
        return [message_to_dict(message, now) for _, message in reversed(page)]

    @property
    def older(self) -> Position | None:
        """The cursor position of the next older page (the oldest message shown), or None when none is older."""
        return self._newest_first[self.limit - 1][0] if self.full and self.limit > 0 else None

    @property
    def collected(self) -> list[tuple[Position, dict]]:
        """Every message gathered, newest first (up to limit + 1)."""
        return list(self._newest_first)


class NewerWindow:
    """Collects the first `limit` history messages after `after` plus one newer message, which tells whether a
    newer page exists. Feed it run rows oldest first (from `after`'s run on) until `feed` says it is full."""

    def __init__(self, limit: int, after: Position) -> None:
        self.limit, self.after = limit, after
        self._oldest_first: list[tuple[Position, dict]] = []

    def feed(self, rows: list[dict]) -> bool:
        """Take run rows (run_index, created_at, run_id, run_data), oldest first; True once nothing more is needed."""
        for row in rows:
            found = history_messages(row["run_data"])
            if row["run_id"] == self.after.run_id:
                found = [(i, m) for i, m in found if i > self.after.message]
            for index, message in found:
                if self.full:
                    return True
                self._oldest_first.append((Position(row["run_index"], row["created_at"], row["run_id"], index),
                                           message))
        return self.full

    @property
    def full(self) -> bool:
        return len(self._oldest_first) > self.limit

    @property
    def collected(self) -> list[tuple[Position, dict]]:
        """Every message gathered, oldest first (up to limit + 1)."""
        return list(self._oldest_first)


@dataclass(frozen=True)
class Page:
    """A page of chat_history: its messages oldest first with their positions, and the positions its `prev` and
    `next` cursors name (None: nothing older, or newer, than the page)."""

    shown: list[tuple[Position, dict]]
    prev: Position | None
    next: Position | None

    def messages(self, now: int) -> list[dict]:
        """The page's messages as chat_history renders them."""
        return [message_to_dict(message, now) for _, message in self.shown]


def newer_page(window: NewerWindow) -> Page:
    """The page a NewerWindow gathered: its first `limit` messages, older ones before it, maybe newer ones after."""
    shown = window.collected[:window.limit]
    return Page(shown, shown[0][0] if shown else None, shown[-1][0] if window.full and shown else None)


def centred_page(older: HistoryWindow, from_target: NewerWindow, limit: int) -> Page:
    """`limit` messages around a target: `from_target` gathered it first and the messages after it, `older` those
    before it. As many before as after (one more before when `limit` is even); near either end of the session the
    window keeps its size by taking more from the other side."""
    before, (target, *after) = older.collected, from_target.collected
    if limit == 0:
        return Page([], None, None)
    take_before = min(len(before), limit // 2)
    take_after = min(len(after), limit - 1 - take_before)
    take_before = min(len(before), limit - 1 - take_after)
    shown = [*reversed(before[:take_before]), target, *after[:take_after]]
    return Page(shown, shown[0][0] if len(before) > take_before else None,
                shown[-1][0] if len(after) > take_after else None)
