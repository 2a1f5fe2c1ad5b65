-- Compaction records of deleted sessions: they hold the folded transcript verbatim (agno's delete_session).
DELETE FROM {schema}.agno_compactions WHERE session_id = ANY(%(session_ids)s::text[])
