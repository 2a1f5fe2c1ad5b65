"""`agno-session retention [plan|apply --yes]`: the plan (the default) says per policy what a run would touch and
changes nothing; apply sweeps in small batches with a progress bar, and ends with a summary and its metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import TextIO

from service.commands.progress import Progress
from service.commands.retention_metrics import RetentionMetrics
from service.core.config import Settings
from service.core.logs import LOGGER
from service.core.retention_policies import Policy
from service.storage import retention
from service.storage.pool import Database
from service.storage.registry import open_database

log = logging.getLogger(LOGGER)
NO_FILE = "AGNO_RETENTION_FILE is not set: retention needs a policy file (docs/operations.md, Retention)"


def _databases(settings: Settings) -> list[Database]:
    return [open_database(c, 1, settings.request_timeout) for c in settings.databases]


def plan_command(settings: Settings, out: TextIO, first: int, as_json: bool, now: int | None = None) -> int:
    """Print each database's plan; nothing changes."""
    now = int(time.time()) if now is None else now
    for db in _databases(settings):
        try:
            planned = retention.plan(db, settings.retention_policies, now, first)
        finally:
            db.close()
        if as_json:
            print(json.dumps({"db_id": db.config.db_id, "now": now, "policies": [
                {"name": p.policy.name, "action": p.policy.action, "sessions": p.sessions, "runs": p.runs,
                 "held": p.held, "first_ids": p.first_ids} for p in planned]}), file=out, flush=True)
            continue
        for p in planned:
            ids = ", ".join(p.first_ids) + (", ..." if p.sessions > len(p.first_ids) else "")
            print(f"{db.config.db_id}: {_title(p.policy)}: would {_verb(p.policy)} {p.sessions} sessions, {p.runs} "
                  f"runs; {p.held} held sessions skipped" + (f"; first: {ids}" if p.first_ids else ""), file=out)
        print(f"{db.config.db_id}: plan only, nothing changed (`agno-session retention apply --yes` applies it)",
              file=out, flush=True)
    return 0


def apply_command(settings: Settings, out: TextIO, progress_out: TextIO, batch: int,
                  lock_timeout_ms: int = retention.LOCK_TIMEOUT_MS) -> int:
    """Sweep every policy of every database in order, batch by batch; a summary per policy and in total; the metrics
    pushed at the end, whatever happened."""
    metrics = RetentionMetrics()
    started = time.monotonic()
    succeeded = False
    try:
        busy = 0
        for db in _databases(settings):
            try:
                busy += _apply_database(db, settings, out, progress_out, batch, lock_timeout_ms, metrics)
            finally:
                db.close()
        succeeded = True
    finally:
        metrics.finished(time.monotonic() - started, succeeded)
        metrics.push(settings.metrics_pushgateway)
    print(f"retention done in {time.monotonic() - started:.1f} s"
          + (f"; {busy} sessions in use were left for the next run" if busy else ""), file=out, flush=True)
    return 0


def _apply_database(db: Database, settings: Settings, out: TextIO, progress_out: TextIO, batch: int,
                    lock_timeout_ms: int, metrics: RetentionMetrics) -> int:
    """Each policy in file order: one `now` for the whole database, so a session's age is judged once."""
    now = int(time.time())
    retention.require_lifecycle(db)
    busy = 0
    for policy in settings.retention_policies:
        expected = retention.plan(db, (policy,), now, 0)[0]
        bar = Progress(f"{db.config.db_id}: {policy.name}", expected.sessions + expected.held, progress_out)
        began = time.monotonic()
        try:
            outcome = retention.sweep(db, policy, now, batch, lambda done, bar=bar: bar.update(done.seen),
                                      lock_timeout_ms)
        finally:
            bar.close()
        metrics.record(db.config.db_id, policy, outcome)
        busy += outcome.busy
        print(f"{db.config.db_id}: {_title(policy)}: {_past(policy)} {outcome.sessions} sessions, {outcome.runs} runs; "
              f"skipped {outcome.held} held, {outcome.busy} in use; {outcome.batches} batches in "
              f"{time.monotonic() - began:.1f} s", file=out, flush=True)
        log.info("retention policy applied", extra={"fields": {
            "db_id": db.config.db_id, "policy": policy.name, "action": policy.action, "sessions": outcome.sessions,
            "runs": outcome.runs, "held": outcome.held, "busy": outcome.busy}})
    return busy


def _title(policy: Policy) -> str:
    keep = f" to the last {policy.keep_last} runs" if policy.keep_last is not None else ""
    return f"policy {policy.name} ({policy.action}{keep}, line {policy.line})"


def _verb(policy: Policy) -> str:
    return {"archive": "archive", "delete": "delete", "trim_runs": "trim"}[policy.action]


def _past(policy: Policy) -> str:
    return {"archive": "archived", "delete": "deleted", "trim_runs": "trimmed"}[policy.action]
