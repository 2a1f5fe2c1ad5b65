-- A subscription's feed position, saved in the transaction that queued what was read up to it.
INSERT INTO {cursors} (subscription, position, updated_at) VALUES (%(subscription)s, %(position)s, now())
ON CONFLICT (subscription) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
