"""`agno-session erase`: the erasure of one user from the command line, run in this process (not queued for the
service's workers): the dry run's counts, or the job's progress on a terminal, a summary, and the receipt as JSON.
A job this process leaves unfinished (killed) is resumed by a serving worker once its lease runs out."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from service.commands.storage_failure import exit_on_storage_error
from service.core.config import Settings
from service.rules import erasure as rules
from service.storage import erasure, erasure_worker, lifecycle
from service.storage.pool import Database
from service.storage.registry import open_database

PROGRESS_EVERY = 0.5  # seconds between progress lines on a terminal


def erase_command(settings: Settings, user_id: str, dry_run: bool, override_holds: bool, db_id: str | None,
                  out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit code 0 with the counts (dry run) or the receipt on `out` (stdout); 1 when refused or failed, 2 for bad
    usage; messages and progress on `err` (stderr)."""
    out, err = out or sys.stdout, err or sys.stderr
    if not user_id:
        print("agno-session erase: --user-id must not be empty", file=err)
        return 2
    config = next((c for c in settings.databases if c.db_id == (db_id or settings.default_db_id)), None)
    if config is None:
        print(f"agno-session erase: no database with db_id {db_id!r}: "
              f"{', '.join(c.db_id for c in settings.databases)}", file=err)
        return 2
    if not dry_run and settings.erasure_key is None:
        print(f"agno-session erase: {rules.NO_KEY}", file=err)
        return 2
    db = open_database(config, 2, settings.request_timeout)
    try:
        return exit_on_storage_error("erase", lambda: _erase(db, user_id, dry_run, override_holds,
                                                             settings.erasure_key, out, err), err)
    finally:
        db.close()


def _erase(db: Database, user_id: str, dry_run: bool, override_holds: bool, key: bytes | None, out: TextIO,
           err: TextIO) -> int:
    """The counts or the erasure; a held subject or missing lifecycle tables are one line on `err` and 1."""
    try:
        if dry_run:
            counts = erasure.count(db, user_id, override_holds)
            print(json.dumps({"dry_run": True, "counts": counts}), file=out)
            return 0
        return _run(db, user_id, key, override_holds, out, err)
    except erasure.SubjectHeld:
        print(f"agno-session erase: {rules.HELD} (give --override-holds to erase it anyway)", file=err)
        return 1
    except lifecycle.LifecycleMissing:
        print("agno-session erase: the lifecycle's tables are missing: run `agno-session migrate --lifecycle`",
              file=err)
        return 1


def _run(db: Database, user_id: str, key: bytes, override_holds: bool, out: TextIO, err: TextIO) -> int:
    """Create the job claimed by this process, run it with progress lines, and print the summary and receipt."""
    worker = erasure_worker.worker_name()
    job = erasure.create(db, user_id, rules.user_hash(key, user_id), override_holds, "cli", worker=worker)
    terminal = err.isatty()
    last = [0.0]

    def progress(step: str, _rows: int, counts: dict[str, int]) -> None:
        if terminal and time.monotonic() - last[0] >= PROGRESS_EVERY:
            last[0] = time.monotonic()
            print(f"\rerasing {job['receipt_id']}: {sum(counts.values())} rows ({step})", end="", file=err,
                  flush=True)
    done = erasure.run(db, job, worker, progress)
    total = sum((done["counts"] or {}).values())
    if terminal:
        print(file=err)
    print(f"erasure {done['receipt_id']} {done['state']}: {total} rows deleted "
          f"({', '.join(f'{k} {v}' for k, v in (done['counts'] or {}).items() if v) or 'nothing found'})", file=err)
    print(json.dumps(rules.receipt(done)), file=out)
    return 0 if done["state"] == "done" else 1
