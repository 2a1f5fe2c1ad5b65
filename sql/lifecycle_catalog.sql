-- Whether the hold trigger is on agno's sessions table and enabled (`migrate --lifecycle --hold-trigger`, `check`).
SELECT t.tgenabled::text AS enabled
FROM pg_trigger t
WHERE t.tgrelid = to_regclass(%(sessions)s) AND t.tgname = %(trigger)s
