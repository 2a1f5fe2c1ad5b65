-- Which of the ids are under an active legal hold: without an end, or ending after now (epoch seconds).
SELECT h.session_id FROM {holds} h
WHERE h.session_id = ANY(%(session_ids)s::text[])
  AND (h.until IS NULL OR h.until > %(now)s)
