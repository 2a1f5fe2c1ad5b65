"""The cut-over proxy: mitmproxy addons that shadow, cut over and reverse-shadow AgentOS's /sessions (shadow.py)."""
