-- The offloaded tool-result index rows of deleted sessions (agno's _cascade_tool_results).
DELETE FROM {schema}.agno_tool_results WHERE session_id = ANY(%(session_ids)s::text[])
