-- `migrate --search --rebuild`: every row goes, and the backfill starts again with the configured text search
-- configuration (the triggers use it from this commit on). Searches scan until the backfill completes.
TRUNCATE {search}, {pending};
UPDATE {state} SET config = %(config)s::regconfig, position = NULL, complete = false, started_at = now(),
                   completed_at = NULL;
