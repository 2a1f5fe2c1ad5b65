"""The cut-over preflight: compare this service's settings with what a running AgentOS shows of its own."""
