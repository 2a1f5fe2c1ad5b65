"""AgentOS's rules, pure (no I/O, `now` passed in): request validation, projection of rows into answers, writes."""
