-- How many index rows PostgreSQL's statistics expect the query to match (the plan's row estimate; nothing is read):
-- a first page whose search is estimated far past the ranked cap goes newest first without counting the matches.
EXPLAIN (FORMAT JSON) SELECT 1 FROM {search} h WHERE h.document @@ {tsquery} AND h.position >= 0
