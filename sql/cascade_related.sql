-- The ids a delete's `gone` step removed and which of the per-session tables agno keeps beside sessions exist
-- (a fragment of delete_sessions.sql and lifecycle_purge.sql). Names as agno 3.1.10 fixes them (BaseDb.__init__;
-- payloads: PostgresDb._default_payload_table, AgentFS's "fs" schema).
SELECT ARRAY(SELECT session_id FROM gone) AS deleted,
       to_regclass(format('%%I.agno_transcripts', %(schema)s::text)) IS NOT NULL AS transcripts,
       to_regclass(format('%%I.agno_compactions', %(schema)s::text)) IS NOT NULL AS compactions,
       to_regclass(format('%%I.agno_tool_results', %(schema)s::text)) IS NOT NULL AS tool_results,
       to_regclass('fs.agno_fs') IS NOT NULL  -- payloads are found through the tool-result index rows
           AND to_regclass(format('%%I.agno_tool_results', %(schema)s::text)) IS NOT NULL AS tool_result_payloads
