"""Storage: connection pools per db_id, the SQL files, and the queries the service and the libraries run.

Nothing here knows HTTP or AgentOS's answers; driver errors leave this package as `storage.errors` exceptions.
"""
