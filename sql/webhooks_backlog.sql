-- Per subscription: events waiting, and how long the oldest has waited (the lag metric).
SELECT subscription, count(*) AS queued,
       coalesce(max(%(now)s - extract(epoch FROM enqueued_at)::float8), 0) AS lag
FROM {queue}
WHERE subscription = ANY(%(subscriptions)s)
GROUP BY subscription
