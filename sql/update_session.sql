-- Write back the columns agno's upsert writes for one session class (its id and data columns, user_id,
-- session_data, summary, metadata) and stamp updated_at; session_type is never changed.
UPDATE {sessions} s
SET {id_column} = %(component_id)s,
    {data_column} = %(component_data)s,
    user_id = %(user_id)s,
    session_data = %(session_data)s,
    summary = %(summary)s,
    metadata = %(metadata)s,
    updated_at = %(now)s
WHERE s.session_id = %(session_id)s
RETURNING s.*, s.xmin AS row_version
