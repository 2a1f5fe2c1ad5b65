"""Export, import and copy of sessions: the streaming loops behind `agno-session export | import | copy`, with a
progress bar and a summary. Memory holds one batch of sessions, whatever the total."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from service.commands.bundle_io import lines
from service.commands.progress import Progress
from service.rules import bundle
from service.storage import portable
from service.storage.errors import StorageError
from service.storage.pool import Database

BATCH = 200  # sessions read per statement


def export_bundle(db: Database, filters: dict[str, Any], out: BinaryIO, err: TextIO, batch: int = BATCH
                  ) -> bundle.Writer:
    """Write the bundle of every session matching `filters` to `out`; the writer holds the counts."""
    found = portable.layout(db)
    writer = bundle.Writer()
    c = db.config
    out.write(writer.line(bundle.header(c.db_id, c.schema, found.names(), found.columns, int(time.time()),
                                        _stated(filters))))
    progress = Progress("export", portable.export_count(db, filters), err)
    for session_id, rows in portable.export_rows(db, found, filters, batch):
        out.write(writer.session(session_id, rows))
        progress.step()
    out.write(writer.trailer())
    progress.close()
    return writer


def _stated(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters an export was made with, for its header (those given)."""
    return {k: v for k, v in filters.items() if v not in (None, [], ())}


@dataclass
class ImportSummary:
    """What an import did, session by session: outcome counts and each failure's line and reason."""

    outcomes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def line(self, dry_run: bool) -> str:
        counts = ", ".join(f"{self.outcomes[k]} {k}" for k in
                           (portable.CREATED, portable.REPLACED, portable.SKIPPED, portable.FAILED))
        return f"{'dry run, nothing written: ' if dry_run else ''}{counts}"


def check_whole(path: Path) -> int:
    """Read the whole bundle once, checking every line, its chain and its trailer (raises BundleError); the number
    of sessions it holds."""
    return sum(isinstance(item, bundle.SessionEntry) for item in bundle.read(lines(path)))


def entries(path: Path) -> Iterable[bundle.SessionEntry]:
    """The bundle's sessions, read again (after check_whole)."""
    return (item for item in bundle.read(lines(path)) if isinstance(item, bundle.SessionEntry))


def import_bundle(db: Database, path: Path, on_conflict: str, dry_run: bool, err: TextIO) -> ImportSummary:
    """Check the bundle whole, then write each session in its own transaction (refused bundles write nothing)."""
    total = check_whole(path)
    found = portable.layout(db)
    summary = ImportSummary()
    progress = Progress("import", total, err)
    for entry, outcome, reason in portable.import_entries(db, found, entries(path), on_conflict, None, dry_run):
        summary.outcomes[outcome] += 1
        if reason is not None:
            summary.failures.append(f"line {entry.line}: {entry.session_id}: {reason}")
        progress.step()
    progress.close()
    return summary


@dataclass
class CopySummary:
    """What a copy or move did: sessions written to B, already there, removed from A, and failures."""

    copied: int = 0
    present: int = 0
    removed: int = 0
    failures: list[str] = field(default_factory=list)


Checkpoint = Callable[[str, list[str]], None]  # (stage, session ids): tests stop a move at each stage


def copy_sessions(source: Database, target: Database, filters: dict[str, Any], move: bool, err: TextIO,
                  batch: int = BATCH, checkpoint: Checkpoint | None = None) -> CopySummary:
    """Copy each matching session of `source` into `target` (each in its own transaction there); with `move`,
    delete a batch from `source` only once `target` committed every session of it. A session already in `target`
    counts as copied only when its rows are the same (a rerun resumes); otherwise it fails and stays in `source`."""
    have, want = portable.layout(source), portable.layout(target)
    summary = CopySummary()
    progress = Progress("move" if move else "copy", portable.export_count(source, filters), err)
    stage = checkpoint or (lambda _stage, _ids: None)
    pending: dict[str, dict[str, list[dict]]] = {}  # copied, to delete from the source: id → the rows copied
    for session_id, rows in portable.export_rows(source, have, filters, batch):
        try:
            outcome = portable.import_session(target, want, session_id, rows, "skip",
                                              before_commit=lambda s=session_id: stage("before-commit", [s]))
        except (portable.Refused, StorageError) as exc:
            summary.failures.append(f"{session_id}: {getattr(exc, 'message', exc)}")
            outcome = portable.FAILED
        if outcome == portable.SKIPPED:
            if _same(target, want, session_id, rows):
                summary.present += 1
            else:
                summary.failures.append(f"{session_id}: the target holds a different session with this id")
                outcome = portable.FAILED
        elif outcome != portable.FAILED:
            summary.copied += 1
            stage("committed", [session_id])
        if outcome != portable.FAILED and move:
            pending[session_id] = rows
        if len(pending) >= batch:
            _remove(source, have, pending, stage, summary)
            pending = {}
        progress.step()
    if pending:
        _remove(source, have, pending, stage, summary)
    progress.close()
    return summary


def _same(target: Database, found: portable.Layout, session_id: str, rows: dict[str, list[dict]]) -> bool:
    """Whether `target` holds exactly these rows for the session (a previous copy or move committed it)."""
    there = portable.export_batch(target, found, {"session_ids": [session_id]}, "", 1)
    return bool(there) and portable.filled(there[0][1]) == portable.filled(rows)


def _remove(source: Database, found: portable.Layout, moved: dict[str, dict[str, list[dict]]], stage: Checkpoint,
            summary: CopySummary) -> None:
    """Delete moved sessions from the source (after the target committed them), except those written meanwhile or
    held: those stay in both databases, reported."""
    ids = sorted(moved)
    stage("before-delete", ids)
    kept = portable.delete_moved(source, found, moved)
    stage("deleted", ids)
    summary.removed += len(ids) - len(kept)
    summary.failures += [f"{sid}: {why}" for sid, why in kept.items()]
