-- Offloaded tool-result payloads of deleted sessions, by the exact (namespace, path) of each index row and in every
-- user partition, as agno's _cascade_tool_results does; runs before the index rows are deleted.
DELETE FROM fs.agno_fs f
USING {schema}.agno_tool_results t
WHERE t.session_id = ANY(%(session_ids)s::text[])
  AND f.namespace = t.namespace
  AND f.path = t.path
