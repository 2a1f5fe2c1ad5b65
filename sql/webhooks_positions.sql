SELECT subscription, position FROM {cursors} WHERE subscription = ANY(%(subscriptions)s)
