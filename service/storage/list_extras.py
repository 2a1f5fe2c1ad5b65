"""The keys `include=` adds to list rows, computed for the page's rows in the list's own statement: one lateral
join per group of keys over agno's (session_id, run_index) index, so a row costs a few index probes whatever its
session's length (the run count reads the session's index entries, not its runs)."""

from __future__ import annotations

from psycopg2 import sql

# agno's run order newest first (run_index NULLs last in its order, so first here).
_NEWEST = "ORDER BY r.run_index DESC NULLS FIRST, r.created_at DESC, r.run_id DESC LIMIT 1"

# pydantic's false words (service.rules.validation.scalars.FALSE_WORDS; a unit test keeps the two equal).
SQL_FALSE_WORDS = ("0", "f", "false", "n", "no", "off")

_RUN_COUNT = (
    "run_count",
    "LEFT JOIN LATERAL (SELECT count(*) AS run_count FROM {runs} r WHERE r.session_id = p.session_id) rc ON true",
)
_LAST_RUN = (
    "last_run_created_at, lr.last_run_status",
    "LEFT JOIN LATERAL (SELECT r.created_at AS last_run_created_at, r.status AS last_run_status FROM {runs} r "
    "WHERE r.session_id = p.session_id " + _NEWEST + ") lr ON true",
)
_SHOWN = (  # a message chat_history shows (history_messages in rules/render/messages.py), as SQL over `e.m`
    "jsonb_typeof(e.m) = 'object' AND COALESCE(e.m ->> 'role', '') NOT IN ('system', 'tool') "
    "AND (e.m -> 'from_history' IS NULL OR e.m -> 'from_history' IN ('false', 'null', '0', '[]', '{{}}') "
    "OR (jsonb_typeof(e.m -> 'from_history') = 'string' "
    "AND lower(btrim(e.m ->> 'from_history', E' \\t\\n\\r\\f\\v')) IN ("
    + ", ".join(f"'{word}'" for word in SQL_FALSE_WORDS) + ")))"
)
# The last message chat_history shows: the newest top-level agent or team run holding one, its last such message.
# The runs are walked newest first behind an OFFSET 0 fence, so the filters (which read run_data) run on one run
# after another until the first match, instead of on every run of the session before a sort.
_LAST_MESSAGE = (
    "last_message_raw, lm.last_message_run_at",
    "LEFT JOIN LATERAL (SELECT m.msg AS last_message_raw, c.created_at AS last_message_run_at "
    "FROM (SELECT r.run_data AS d, r.created_at FROM {runs} r WHERE r.session_id = p.session_id "
    "ORDER BY r.run_index DESC NULLS FIRST, r.created_at DESC, r.run_id DESC OFFSET 0) c "
    "CROSS JOIN LATERAL (SELECT e.m AS msg FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.d -> 'messages') "
    "= 'array' THEN c.d -> 'messages' ELSE '[]'::jsonb END) WITH ORDINALITY e(m, i) "
    "WHERE " + _SHOWN + " ORDER BY e.i DESC LIMIT 1) m "
    "WHERE (c.d ? 'agent_id' OR c.d ? 'team_id') AND COALESCE(c.d -> 'parent_run_id', 'null') = 'null' "
    "LIMIT 1) lm ON true",
)
_GROUPS = {  # include name → the lateral join that computes it (total_tokens needs none: session_data has it)
    "run_count": ("rc", _RUN_COUNT),
    "last_run_at": ("lr", _LAST_RUN),
    "last_run_status": ("lr", _LAST_RUN),
    "last_message": ("lm", _LAST_MESSAGE),
}


def extras(include: tuple[str, ...], runs: sql.Identifier) -> dict[str, sql.Composable]:
    """`list_sessions.sql`'s {extra_columns} and {extra_joins} for the included keys (empty for none), reading
    the runs table `runs`."""
    groups: dict[str, tuple[str, str]] = {}
    for name in include:
        if name in _GROUPS:
            alias, group = _GROUPS[name]
            groups.setdefault(alias, group)
    columns = "".join(f", {alias}.{group[0]}" for alias, group in groups.items())
    joins = "\n    ".join(group[1] for group in groups.values())
    return {"extra_columns": sql.SQL(columns), "extra_joins": sql.SQL(joins).format(runs=runs)}
