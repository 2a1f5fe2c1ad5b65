-- agno's run_index for a new run: max + 1 for the session, serialised by its advisory lock until commit.
SELECT pg_advisory_xact_lock(hashtext('agno_run_index'), hashtext(%(session_id)s));
SELECT COALESCE(max(run_index) + 1, 0) AS run_index FROM {runs} WHERE session_id = %(session_id)s
