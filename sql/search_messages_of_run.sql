-- The searchable messages of one run ({run_data}, {run_created_at}: the run row's columns in a scan's lateral
-- subquery, the function's arguments in the search index's extraction function, so the two cannot disagree): exactly the messages the detail's chat_history
-- shows (rules/render/messages.py history_messages: user and assistant messages, not carried over from history, of
-- a top-level agent or team run), each with its position in run_data.messages, its stored id (a non-empty string,
-- else NULL), its role, its created_at (its own when an integral number within bigint, else the run's) and its text
-- by agno's Message.get_content_string rule. Total over any JSON: every cast is guarded by the type it needs.
SELECT e.i - 1 AS position,
       CASE WHEN jsonb_typeof(e.m -> 'id') = 'string' AND e.m ->> 'id' <> '' THEN e.m ->> 'id' END AS message_id,
       e.m ->> 'role' AS role,
       CASE WHEN jsonb_typeof(e.m -> 'created_at') = 'number'
                 AND (e.m ->> 'created_at')::numeric = trunc((e.m ->> 'created_at')::numeric)
                 AND (e.m ->> 'created_at')::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
            THEN (e.m ->> 'created_at')::numeric::bigint
            ELSE {run_created_at} END AS created_at,
       CASE jsonb_typeof(e.m -> 'content')
            WHEN 'string' THEN e.m ->> 'content'
            WHEN 'array' THEN
                CASE WHEN jsonb_array_length(e.m -> 'content') = 0 THEN ''
                     WHEN jsonb_typeof(e.m -> 'content' -> 0) = 'object' AND (e.m -> 'content' -> 0) ? 'text'
                     THEN COALESCE(e.m -> 'content' -> 0 ->> 'text', '')
                     ELSE (e.m -> 'content')::text END
            ELSE '' END AS body
FROM jsonb_array_elements(
         CASE WHEN jsonb_typeof({run_data}) = 'object'
                   AND ({run_data} ? 'agent_id' OR {run_data} ? 'team_id')
                   AND COALESCE({run_data} -> 'parent_run_id', 'null') = 'null'
                   AND jsonb_typeof({run_data} -> 'messages') = 'array'
              THEN {run_data} -> 'messages' ELSE '[]'::jsonb END) WITH ORDINALITY AS e(m, i)
WHERE jsonb_typeof(e.m) = 'object'
  AND COALESCE(e.m ->> 'role', '') NOT IN ('system', 'tool')
  AND (e.m -> 'from_history' IS NULL OR e.m -> 'from_history' IN ('false', 'null', '0', '[]', '{{}}')
       OR (jsonb_typeof(e.m -> 'from_history') = 'string'
           AND lower(btrim(e.m ->> 'from_history', E' \t\n\r\f\v')) IN ({false_words})))
