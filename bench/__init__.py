"""Benchmark tooling: agno-session beside the real AgentOS (python -m bench), its CI ratio check, soak, scale
summary and the proxy's overhead. Imports point one way: bench may use tests.support, never the reverse."""
