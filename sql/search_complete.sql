-- The backfill reached the last session and the GIN index is valid: searches may use the index.
UPDATE {state} SET complete = true, completed_at = now() WHERE NOT complete
