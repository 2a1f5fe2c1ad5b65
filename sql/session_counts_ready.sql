-- Whether the session counts can be trusted: their table exists and all four triggers are there and enabled.
SELECT to_regclass(%(counts)s) IS NOT NULL
       AND (SELECT count(*) FROM pg_trigger
            WHERE tgrelid = to_regclass(%(sessions)s) AND tgname = ANY(%(triggers)s) AND tgenabled <> 'D') = 4
       AS ready
