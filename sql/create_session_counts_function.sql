-- One function for the four triggers: statement-level INSERT and DELETE read their transition tables, the
-- row-level UPDATE trigger sees OLD and NEW, TRUNCATE empties the counts with the table. Without the counts table
-- (dropped by hand) it does nothing, so no writer ever fails because of it. Replacing it takes no table lock;
-- migrate replaces it only when its body (pg_proc.prosrc) differs from this one.
CREATE OR REPLACE FUNCTION {fn_change}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass({counts_name}) IS NULL THEN
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO {counts} (session_type, delta) SELECT session_type, count(*) FROM new_rows GROUP BY session_type;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {counts} (session_type, delta) SELECT session_type, -count(*) FROM old_rows GROUP BY session_type;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO {counts} (session_type, delta) VALUES (OLD.session_type, -1), (NEW.session_type, 1);
    ELSE
        DELETE FROM {counts};
    END IF;
    RETURN NULL;
END $$
