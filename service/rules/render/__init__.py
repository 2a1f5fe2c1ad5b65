"""AgentOS's /sessions projection rules as pure functions: rows and run dicts in, JSON-ready dicts out."""

from service.rules.render.history import HistoryWindow, Position
from service.rules.render.runs import (
    filter_runs,
    invalid_statuses,
    run_preview,
    session_runs,
    single_run,
)
from service.rules.render.sessions import (
    drop_none,
    name_decided,
    runs_kept_as,
    session_detail,
    session_list_item,
    session_name,
)
from service.rules.render.timestamps import iso_utc

__all__ = [
    "HistoryWindow",
    "Position",
    "drop_none",
    "filter_runs",
    "invalid_statuses",
    "iso_utc",
    "name_decided",
    "run_preview",
    "runs_kept_as",
    "session_detail",
    "session_list_item",
    "session_name",
    "session_runs",
    "single_run",
]
