-- The change log's trigger functions, one per agno table, run once per statement with its transition tables
-- (new_rows, old_rows): a statement writing many rows appends one change per row in one INSERT. A session update
-- names the keys that differ ({runs_changed} compares agno 2.x's legacy `runs` column where the table still has
-- it); a run's change carries its session's type, owner and component when the session is there (a cascaded delete
-- has already removed it: the run's own then).
CREATE OR REPLACE FUNCTION {fn_sessions}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {changes} (op, session_id, user_id, session_type, component_id)
        SELECT 'session.created', n.session_id, n.user_id, n.session_type,
               coalesce(n.agent_id, n.team_id, n.workflow_id)
        FROM new_rows n ORDER BY n.session_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {changes} (op, session_id, user_id, session_type, component_id)
        SELECT 'session.deleted', o.session_id, o.user_id, o.session_type,
               coalesce(o.agent_id, o.team_id, o.workflow_id)
        FROM old_rows o ORDER BY o.session_id;
    ELSE
        INSERT INTO {changes} (op, session_id, user_id, session_type, component_id, changed)
        SELECT CASE WHEN o.session_id IS NULL THEN 'session.created' WHEN n.session_id IS NULL THEN 'session.deleted'
                    ELSE 'session.updated' END,
               coalesce(n.session_id, o.session_id), coalesce(n.user_id, o.user_id),
               coalesce(n.session_type, o.session_type),
               coalesce(n.agent_id, n.team_id, n.workflow_id, o.agent_id, o.team_id, o.workflow_id),
               CASE WHEN o.session_id IS NOT NULL AND n.session_id IS NOT NULL THEN array_remove(ARRAY[
                   CASE WHEN n.session_data::jsonb -> 'session_name' IS DISTINCT FROM o.session_data::jsonb -> 'session_name'
                        THEN 'name' END,
                   CASE WHEN n.session_data::jsonb -> 'session_state' IS DISTINCT FROM o.session_data::jsonb -> 'session_state'
                        THEN 'state' END,
                   CASE WHEN n.metadata::jsonb IS DISTINCT FROM o.metadata::jsonb THEN 'metadata' END,
                   CASE WHEN n.summary::jsonb IS DISTINCT FROM o.summary::jsonb THEN 'summary' END,
                   CASE WHEN {runs_changed} THEN 'runs' END,
                   CASE WHEN n.session_data::jsonb -> 'session_metrics' IS DISTINCT FROM o.session_data::jsonb -> 'session_metrics'
                        THEN 'metrics' END,
                   CASE WHEN CASE WHEN jsonb_typeof(n.session_data::jsonb) = 'object'
                                  THEN n.session_data::jsonb - '{{session_name,session_state,session_metrics}}'::text[]
                                  ELSE n.session_data::jsonb END
                             IS DISTINCT FROM
                             CASE WHEN jsonb_typeof(o.session_data::jsonb) = 'object'
                                  THEN o.session_data::jsonb - '{{session_name,session_state,session_metrics}}'::text[]
                                  ELSE o.session_data::jsonb END
                        THEN 'data' END,
                   CASE WHEN (n.agent_id, n.team_id, n.workflow_id) IS DISTINCT FROM (o.agent_id, o.team_id, o.workflow_id)
                          OR coalesce(n.agent_data, n.team_data, n.workflow_data)::jsonb
                             IS DISTINCT FROM coalesce(o.agent_data, o.team_data, o.workflow_data)::jsonb
                        THEN 'component' END,
                   CASE WHEN n.user_id IS DISTINCT FROM o.user_id THEN 'user_id' END
               ], NULL) END
        FROM old_rows o FULL JOIN new_rows n ON n.session_id = o.session_id
        ORDER BY coalesce(n.session_id, o.session_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION {fn_runs}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {changes} (op, session_id, run_id, user_id, session_type, component_id)
        SELECT 'run.created', r.session_id, r.run_id, coalesce(s.user_id, r.user_id),
               coalesce(s.session_type, r.run_type),
               coalesce(s.agent_id, s.team_id, s.workflow_id, r.agent_id, r.team_id, r.workflow_id)
        FROM new_rows r LEFT JOIN {sessions} s ON s.session_id = r.session_id ORDER BY r.session_id, r.run_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {changes} (op, session_id, run_id, user_id, session_type, component_id)
        SELECT 'run.deleted', r.session_id, r.run_id, coalesce(s.user_id, r.user_id),
               coalesce(s.session_type, r.run_type),
               coalesce(s.agent_id, s.team_id, s.workflow_id, r.agent_id, r.team_id, r.workflow_id)
        FROM old_rows r LEFT JOIN {sessions} s ON s.session_id = r.session_id ORDER BY r.session_id, r.run_id;
    ELSE
        INSERT INTO {changes} (op, session_id, run_id, user_id, session_type, component_id, changed)
        SELECT CASE WHEN o.run_id IS NULL THEN 'run.created' WHEN r.run_id IS NULL THEN 'run.deleted'
                    ELSE 'run.updated' END,
               coalesce(r.session_id, o.session_id), coalesce(r.run_id, o.run_id),
               coalesce(s.user_id, r.user_id, o.user_id), coalesce(s.session_type, r.run_type, o.run_type),
               coalesce(s.agent_id, s.team_id, s.workflow_id, r.agent_id, r.team_id, r.workflow_id,
                        o.agent_id, o.team_id, o.workflow_id),
               CASE WHEN o.run_id IS NOT NULL AND r.run_id IS NOT NULL THEN array_remove(ARRAY[
                   CASE WHEN r.status IS DISTINCT FROM o.status THEN 'status' END,
                   CASE WHEN r.run_data::jsonb IS DISTINCT FROM o.run_data::jsonb THEN 'data' END,
                   CASE WHEN r.session_id IS DISTINCT FROM o.session_id THEN 'session_id' END,
                   CASE WHEN r.user_id IS DISTINCT FROM o.user_id THEN 'user_id' END
               ], NULL) END
        FROM old_rows o FULL JOIN new_rows r ON r.run_id = o.run_id
        LEFT JOIN {sessions} s ON s.session_id = coalesce(r.session_id, o.session_id)
        ORDER BY coalesce(r.session_id, o.session_id), coalesce(r.run_id, o.run_id);
    END IF;
    RETURN NULL;
END
$$;
