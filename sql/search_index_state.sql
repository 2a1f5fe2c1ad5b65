-- The search index's one-row state (migrate --search keeps it): complete or not, and its text search configuration.
SELECT complete, config FROM {state} LIMIT 1
