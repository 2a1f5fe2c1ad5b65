-- PATCH /sessions/<id>/state, step 2 (same transaction, row still locked): write the merged session_data and
-- stamp updated_at; no other column changes.
UPDATE {sessions} s
SET session_data = %(session_data)s,
    updated_at = %(now)s
WHERE s.session_id = %(session_id)s
RETURNING s.*, s.xmin AS row_version
