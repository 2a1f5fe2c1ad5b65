-- A write with If-Match, step 1: lock the session row (of this type and user when given) and read the versions its
-- entity tag derives from; the caller compares the tag and writes in the same transaction, or rolls back.
SELECT s.xmin AS row_version,
       {run_xmins} AS run_xmins
FROM {sessions} s
WHERE s.session_id = %(session_id)s
  AND (%(session_type)s::text IS NULL OR s.session_type = %(session_type)s)
  AND (%(user_id)s::text IS NULL OR s.user_id = %(user_id)s)
FOR UPDATE OF s
