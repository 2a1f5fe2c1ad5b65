-- Delete locked archived sessions for good (their archived runs cascade) and say which of agno's per-session tables
-- exist: the caller deletes what agno keeps beside them, as AgentOS's delete does (sessions.cascade).
WITH gone AS (
    DELETE FROM {archived_sessions} s WHERE s.session_id = ANY(%(session_ids)s::text[]) RETURNING s.session_id
)
{related}
