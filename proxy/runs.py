"""The mode runs: one per stretch of a mode, each with its counts and report directory, written soon after a change."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from proxy import report
from proxy.report import ReportDir
from proxy.settings import Settings
from proxy.tally import Tally

log = logging.getLogger(__name__)
FLUSH_DELAY = 0.2  # seconds: summary.json trails the counts by at most this much


@dataclasses.dataclass
class Run:
    """One mode's stretch of time: its settings, its counts and its own report directory."""

    settings: Settings
    tally: Tally
    report: ReportDir
    ended_at: float | None = None

    def index_entry(self) -> dict[str, Any]:
        """Its line in runs.json."""
        ended = None if self.ended_at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.ended_at))
        return {"mode": self.settings.mode, "dir": self.report.dir.name,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.tally.started_at)),
                "ended_at": ended}


class Runs:
    """Every run of this proxy process, the current one last; a changed run's files are rewritten once per
    FLUSH_DELAY, not once per request."""

    def __init__(self, summary: Callable[[Run], dict[str, Any]]) -> None:
        self.all: list[Run] = []
        self.current: Run | None = None
        self._summary = summary
        self._dirty: set[int] = set()
        self._flush_scheduled = False

    def start(self, settings: Settings) -> None:
        """A new report directory when the mode or the report directory changes; else the run goes on."""
        old = self.current
        if old is not None and (old.settings.mode, old.settings.report_dir) == (settings.mode, settings.report_dir):
            old.settings = settings
            return
        if old is not None:
            old.ended_at = time.time()
            self._write(old)
        self.current = Run(settings, Tally(mode=settings.mode), report.new_run_dir(settings.report_dir, settings.mode))
        self.all.append(self.current)
        self._write(self.current)
        report.write_index(settings.report_dir, [r.index_entry() for r in self.all
                                                 if r.settings.report_dir == settings.report_dir])
        log.info("shadow proxy: mode %s, report in %s", settings.mode, self.current.report.dir)

    def changed(self, run: Run | None) -> None:
        """Mark a run's files stale and have them written FLUSH_DELAY later (at once outside an event loop)."""
        if run is not None:
            self._dirty.add(id(run))
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_later(FLUSH_DELAY, self.flush)

    def flush(self) -> None:
        """Write summary.json and report.html of every run that changed (and the current one) now."""
        self._flush_scheduled = False
        for run in self.all:
            if run is self.current or id(run) in self._dirty:
                self._write(run)
        self._dirty.clear()

    def _write(self, run: Run) -> None:
        summary = self._summary(run)
        run.report.write_summary(summary, report.render(run.tally, summary))
