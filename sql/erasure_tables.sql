-- Which of the tables an erasure reaches beyond agno's two and the lifecycle's exist (names as agno 3.1.10 fixes
-- them: BaseDb.__init__, PostgresDb._default_payload_table), and the Idempotency-Key table.
SELECT to_regclass(format('%%I.agno_tool_results', %(schema)s::text)) IS NOT NULL AS tool_results,
       to_regclass('fs.agno_fs') IS NOT NULL
           AND to_regclass(format('%%I.agno_tool_results', %(schema)s::text)) IS NOT NULL AS tool_result_payloads,
       to_regclass(format('%%I.agno_transcripts', %(schema)s::text)) IS NOT NULL AS transcripts,
       to_regclass(format('%%I.agno_compactions', %(schema)s::text)) IS NOT NULL AS compactions,
       to_regclass(format('%%I.agno_memories', %(schema)s::text)) IS NOT NULL AS memories,
       to_regclass(%(keys)s) IS NOT NULL AS idempotency_keys
