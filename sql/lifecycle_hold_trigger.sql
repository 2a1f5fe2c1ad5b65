-- The opt-in trigger (`agno-session migrate --lifecycle --hold-trigger`) that refuses every delete of a session under
-- an active legal hold, AgentOS's and agno's runtime's included (AgentOS then answers 500). A transaction that may
-- override holds (an admin's erasure) says so with SET LOCAL agno_session.override_holds = 'on'. Its SQLSTATE
-- (storage/errors.py HOLD_SQLSTATE) makes this service answer 409 where the trigger stops one of its own deletes.
CREATE OR REPLACE FUNCTION {hold_function}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF coalesce(current_setting('agno_session.override_holds', true), '') <> 'on' AND EXISTS (
        SELECT 1 FROM {holds} h
        WHERE h.session_id = OLD.session_id
          AND (h.until IS NULL OR h.until > extract(epoch FROM statement_timestamp())::bigint)
    ) THEN
        RAISE EXCEPTION 'Session % is under legal hold', OLD.session_id
            USING ERRCODE = 'AS409', HINT = 'agno-session: DELETE /sessions/{{id}}/hold releases it';
    END IF;
    RETURN OLD;
END
$fn$;
DROP TRIGGER IF EXISTS {hold_trigger} ON {sessions};
CREATE TRIGGER {hold_trigger} BEFORE DELETE ON {sessions} FOR EACH ROW EXECUTE FUNCTION {hold_function}();
