-- Delete sessions (those the user owns when user_id is given) and the runs of exactly those sessions, explicitly
-- too, for runs tables created without the cascade. Returns the ids it deleted (none for a missing id or another
-- user's session) and which of the per-session tables agno keeps beside them exist: the caller cascades into those
-- in this transaction. Names as agno 3.1.10 fixes them (BaseDb.__init__; payloads:
-- PostgresDb._default_payload_table, AgentFS's "fs" schema).
WITH gone AS (
    DELETE FROM {sessions} s
    WHERE s.session_id = ANY(%(session_ids)s::text[])
      AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
    RETURNING s.session_id
), runs_gone AS (
    DELETE FROM {runs} r USING gone WHERE r.session_id = gone.session_id
)
SELECT ARRAY(SELECT session_id FROM gone) AS deleted,
       to_regclass(format('%%I.agno_transcripts', %(schema)s::text)) IS NOT NULL AS transcripts,
       to_regclass(format('%%I.agno_compactions', %(schema)s::text)) IS NOT NULL AS compactions,
       to_regclass(format('%%I.agno_tool_results', %(schema)s::text)) IS NOT NULL AS tool_results,
       to_regclass('fs.agno_fs') IS NOT NULL  -- payloads are found through the tool-result index rows
           AND to_regclass(format('%%I.agno_tool_results', %(schema)s::text)) IS NOT NULL AS tool_result_payloads
