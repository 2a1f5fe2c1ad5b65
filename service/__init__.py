"""agno-session: AgentOS's /sessions API as an independent service over agno's PostgreSQL tables.

Importing this package (or any library module under it) does nothing: the app is built by `service.app.create_app`.
"""
