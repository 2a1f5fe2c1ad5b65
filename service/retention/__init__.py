"""`agno-session retention`: the policy file's plan, and its sweep with progress, summary and metrics."""
