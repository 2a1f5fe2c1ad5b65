-- External-agent transcripts of deleted sessions, found by the agno session they belong to (agno's delete_session).
DELETE FROM {schema}.agno_transcripts WHERE agno_session_id = ANY(%(session_ids)s::text[])
