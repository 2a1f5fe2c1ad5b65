"""Progress of a long sweep: a bar on a terminal (click's, already installed with Flask), else a line every few
seconds, so a CronJob's log shows it advancing without a screenful of redraws."""

from __future__ import annotations

import time
from typing import TextIO

import click

PROGRESS_EVERY = 2.0  # seconds between progress lines when the output is not a terminal (as migrate's backfill)


class Progress:
    """Where a sweep of `total` items stands; `update(done)` with the running total, `close()` at the end."""

    def __init__(self, label: str, total: int, out: TextIO) -> None:
        self.label, self.total, self.out = label, max(total, 0), out
        self._bar = None
        self._shown = 0
        self._last = time.monotonic()
        if out.isatty():
            self._bar = click.progressbar(length=max(self.total, 1), label=label, file=out, show_pos=True)
            self._bar.__enter__()

    def update(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(max(done - self._shown, 0))
            self._shown = done
        elif time.monotonic() - self._last >= PROGRESS_EVERY:
            self._last = time.monotonic()
            share = f" ({100 * done // self.total}%)" if self.total else ""
            print(f"{self.label}: {done} of {self.total} sessions{share}", file=self.out, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
