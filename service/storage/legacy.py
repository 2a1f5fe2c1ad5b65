"""agno 2.x kept runs in a `runs` column of the sessions table: reads merge it with the runs table."""

from __future__ import annotations

import json
from typing import Any


def merge_legacy_runs(table_runs: list[dict], legacy_blob: Any) -> list[dict]:
    """Runs of a half-migrated session: legacy order first, runs-table copy wins, table-only runs appended."""
    if isinstance(legacy_blob, str):
        try:
            legacy_blob = json.loads(legacy_blob)
        except ValueError:
            legacy_blob = None
    if not legacy_blob:
        return list(table_runs)
    if not isinstance(legacy_blob, (list, dict)):  # AgentOS fails iterating a scalar; treat it as empty
        legacy_blob = []
    by_id = {
        run["run_id"]: run for run in table_runs if isinstance(run, dict) and run.get("run_id") is not None
    }
    merged, legacy_ids = [], set()
    for legacy in legacy_blob:
        if not isinstance(legacy, dict) or legacy.get("run_id") is None:
            continue
        legacy_ids.add(legacy["run_id"])
        merged.append(by_id.get(legacy["run_id"], legacy))
    for run in table_runs:
        if isinstance(run, dict) and run.get("run_id") is not None and run["run_id"] not in legacy_ids:
            merged.append(run)
    return merged
