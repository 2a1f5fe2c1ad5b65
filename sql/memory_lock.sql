-- Serialise every memory write of one user (across workers) until the transaction ends.
SELECT pg_advisory_xact_lock(hashtext('agno_memory'), hashtext(%(user_id)s))
