-- One batch of an erasure step: at most %(limit)s of the rows its condition selects, locked and deleted (a batch
-- holds its row locks only until its transaction commits, with the job row's counts). The condition is one of the
-- erasure_<step>.sql files, over the alias t.
DELETE FROM {target}
WHERE ctid = ANY (ARRAY(SELECT t.ctid FROM {target} t WHERE {condition} LIMIT %(limit)s FOR UPDATE OF t))
