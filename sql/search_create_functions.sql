-- The search index's functions. {fn_extract} gives the searchable messages of one run (search_scan_messages.sql,
-- composed in: the scan reads the same text) (those the detail's chat_history shows: service/rules/render/messages.py
-- history_messages), used by the triggers, the backfill and a scan alike, so they cannot disagree. Both are total
-- over any JSON: every cast sits behind a CASE that checked the type first, so a trigger never fails a write.
-- Text past MAX_TEXT characters is not indexed (a tsvector holds at most 1 MB). Replacing them takes no table lock.
CREATE OR REPLACE FUNCTION {fn_extract}(run_data jsonb, run_created_at bigint, config regconfig)
RETURNS TABLE (message_position integer, message_id text, role text, created_at bigint, body text, document tsvector)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT x.position::integer, x.message_id, x.role, x.created_at, x.body, to_tsvector(config, left(x.body, {max_text}))
FROM ({messages_of_run}) AS x
WHERE x.body <> ''
$$;

-- A run written or rewritten: queued in {pending} in the writer's own transaction (to_tsvector, the costly part, is
-- the drain's: search_drain_*.sql), so a write pays one small row; a search reads a queued run itself, so the run
-- is found from the writer's commit on. The upsert locks the queued row until the writer commits: a drain skips it
-- meanwhile (it may not index a version that is not committed yet), and a drain that took it first makes the upsert
-- wait and queue the run again after it. A run deleted (or moved): its rows go at once, and its queued row.
-- Without the index's tables (dropped by hand) or its configuration it does nothing, so no writer ever fails
-- because of it.
CREATE OR REPLACE FUNCTION {fn_runs}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass({search_name}) IS NULL OR to_regclass({pending_name}) IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.session_id <> NEW.session_id OR OLD.run_id <> NEW.run_id)) THEN
        DELETE FROM {pending} WHERE session_id = OLD.session_id AND run_id = OLD.run_id;
        DELETE FROM {search} WHERE session_id = OLD.session_id AND run_id = OLD.run_id AND position >= 0;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {pending} AS p (session_id, run_id) VALUES (NEW.session_id, NEW.run_id)
        ON CONFLICT (session_id, run_id) DO UPDATE SET queued_at = p.queued_at;
    END IF;
    RETURN NULL;
END $$;

-- A session written or deleted: its name row follows its stored name, its rows follow its user, type and
-- component; a delete takes all its rows (its runs' cascade finds them gone). agno rewrites the session row on
-- every run: when none of those changed, this returns after a few comparisons.
CREATE OR REPLACE FUNCTION {fn_sessions}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cfg regconfig;
BEGIN
    IF to_regclass({search_name}) IS NULL OR to_regclass({state_name}) IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM {search} WHERE session_id = OLD.session_id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.session_id <> NEW.session_id THEN
            DELETE FROM {search} WHERE session_id = OLD.session_id AND position = -1;
        ELSIF OLD.session_data -> 'session_name' IS NOT DISTINCT FROM NEW.session_data -> 'session_name'
              AND OLD.created_at IS NOT DISTINCT FROM NEW.created_at
              AND OLD.user_id IS NOT DISTINCT FROM NEW.user_id
              AND OLD.session_type IS NOT DISTINCT FROM NEW.session_type
              AND OLD.agent_id IS NOT DISTINCT FROM NEW.agent_id
              AND OLD.team_id IS NOT DISTINCT FROM NEW.team_id
              AND OLD.workflow_id IS NOT DISTINCT FROM NEW.workflow_id THEN
            RETURN NULL;
        END IF;
        UPDATE {search}
        SET user_id = NEW.user_id, session_type = NEW.session_type,
            component_id = CASE NEW.session_type WHEN 'agent' THEN NEW.agent_id WHEN 'team' THEN NEW.team_id
                                                 WHEN 'workflow' THEN NEW.workflow_id END
        WHERE session_id = NEW.session_id AND position >= 0
          AND (user_id, session_type, component_id) IS DISTINCT FROM
              (NEW.user_id, NEW.session_type, CASE NEW.session_type WHEN 'agent' THEN NEW.agent_id
                                                  WHEN 'team' THEN NEW.team_id WHEN 'workflow' THEN NEW.workflow_id END);
    END IF;
    DELETE FROM {search} WHERE session_id = NEW.session_id AND run_id = '' AND position = -1;
    SELECT config INTO cfg FROM {state};
    IF cfg IS NOT NULL AND jsonb_typeof(NEW.session_data -> 'session_name') = 'string'
       AND NEW.session_data ->> 'session_name' <> '' THEN
        INSERT INTO {search} (session_id, run_id, position, message_id, role, created_at, user_id, session_type,
                              component_id, run_index, document)
        VALUES (NEW.session_id, '', -1, NULL, NULL, NEW.created_at, NEW.user_id, NEW.session_type,
                CASE NEW.session_type WHEN 'agent' THEN NEW.agent_id WHEN 'team' THEN NEW.team_id
                                      WHEN 'workflow' THEN NEW.workflow_id END,
                NULL, to_tsvector(cfg, left(NEW.session_data ->> 'session_name', {max_text})));
    END IF;
    RETURN NULL;
END $$;
