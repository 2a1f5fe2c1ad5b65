"""Progress of a long command (a sweep, an export, an import, a copy): a bar on a terminal (click's, installed with
Flask), else a line every few seconds, so a CronJob's or a pipe's log shows it advancing without redraws."""

from __future__ import annotations

import time
from typing import TextIO

import click

PROGRESS_EVERY = 2.0  # seconds between progress lines when the output is not a terminal (as migrate's backfill)


class Progress:
    """Where a command working through `total` sessions stands (None: not known ahead); `update(done)` with the
    running total or `step()` per session, `close()` at the end (the summary follows on its own line)."""

    def __init__(self, label: str, total: int | None, out: TextIO) -> None:
        self.label, self.total, self.out = label, None if total is None else max(total, 0), out
        self.done = 0
        self._bar = None
        self._shown = 0
        self._last = time.monotonic()
        if out.isatty():
            self._bar = click.progressbar(length=max(self.total or 0, 1) if self.total is not None else None,
                                          label=label, file=out, show_pos=True)
            self._bar.__enter__()

    def step(self, count: int = 1) -> None:
        """Count `count` more sessions."""
        self.update(self.done + count)

    def update(self, done: int) -> None:
        """The running total of sessions done."""
        self.done = done
        if self._bar is not None:
            self._bar.update(max(done - self._shown, 0))
            self._shown = done
        elif time.monotonic() - self._last >= PROGRESS_EVERY:
            self._last = time.monotonic()
            of = f" of {self.total}" if self.total is not None else ""
            share = f" ({100 * done // self.total}%)" if self.total else ""
            print(f"{self.label}: {done}{of} sessions{share}", file=self.out, flush=True)

    def close(self) -> None:
        """End the bar, if one is drawn."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
