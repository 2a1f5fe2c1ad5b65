"""A progress bar on a terminal for the long-running commands (nothing when the output is not a terminal)."""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 30
EVERY = 0.2  # seconds between redraws


class Progress:
    """`done of total` as a bar on `out` (stderr), redrawn in place at most every EVERY seconds."""

    def __init__(self, label: str, total: int | None, out: TextIO) -> None:
        self.label, self.total, self.out = label, total, out
        self.shown = out.isatty()
        self.done = 0
        self._drawn = 0.0
        self._started = time.monotonic()

    def step(self, count: int = 1) -> None:
        """Count `count` more sessions."""
        self.done += count
        if self.shown and time.monotonic() - self._drawn >= EVERY:
            self._draw()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        rate = self.done / max(self._drawn - self._started, 1e-9)
        if self.total:
            filled = min(WIDTH, WIDTH * self.done // self.total)
            bar = f"[{'#' * filled}{'-' * (WIDTH - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done}"
        self.out.write(f"\r{self.label} {bar} sessions, {rate:,.0f}/s ")
        self.out.flush()

    def close(self) -> None:
        """The final state, and the line ended (the summary follows on its own line)."""
        if self.shown:
            self._draw()
            self.out.write("\n")
            self.out.flush()
