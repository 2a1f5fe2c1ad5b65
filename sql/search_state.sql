-- The search index's state row: its text search configuration, the backfill's position, whether it is complete.
SELECT config::text AS config, position, complete, started_at, completed_at FROM {state}
