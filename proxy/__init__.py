"""The cut-over proxy: a mitmproxy addon that shadows, cuts over and reverse-shadows AgentOS's /sessions."""
