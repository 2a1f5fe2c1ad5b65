-- Whether the search index exists (its table and state table), and whether both of its triggers are in place and
-- enabled: an index a writer could bypass is not complete, whatever its state table says.
SELECT to_regclass(%(state)s) IS NOT NULL AND to_regclass(%(index)s) IS NOT NULL AS present,
       (SELECT count(*) FROM pg_trigger
        WHERE tgenabled <> 'D'
          AND ((tgrelid = to_regclass(%(runs)s) AND tgname = %(runs_trigger)s)
               OR (tgrelid = to_regclass(%(sessions)s) AND tgname = %(sessions_trigger)s))) = 2 AS triggers
