-- A failed attempt: when the next one is due, and what went wrong.
UPDATE {queue} SET attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, to_timestamp(%(now)s)),
                   next_attempt_at = to_timestamp(%(next)s), last_error = %(error)s
WHERE id = %(id)s
