"""The foundation every layer may use: settings, environment parsing, AgentOS's JSON encoding, JSON logs.

It imports nothing else from the service, except each layer's own settings module that `config` composes
(`service.auth.settings`, which in turn imports only from here).
"""
