"""The preflight against a running agno-session (`check --agentos-url … --sessions-url …`, what `make shadow`
runs): asked over HTTP as a client would, so it needs none of the service's settings."""

from __future__ import annotations

from urllib.parse import urlencode

from service.preflight.agentos import JWT, KEY, OPEN, AgentOsView, auth_mode, detail, get_json
from service.preflight.findings import Preflight

UNKNOWN_DB = "No database found with id"
UNKNOWN_TABLE = "has table"
_MODES = {OPEN: "no credentials", KEY: "OS_SECURITY_KEY", JWT: "JWTs"}
_MODE_FIX = {OPEN: "neither OS_SECURITY_KEY nor a JWT key on agno-session",
             KEY: "OS_SECURITY_KEY on agno-session to AgentOS's key, and no JWT key",
             JWT: "agno-session's JWT settings as AgentOS's (JWT_VERIFICATION_KEY, AGNO_JWT_ALGORITHM, …)"}


def compare_service(sessions_url: str, view: AgentOsView, credential: str | None,
                    timeout: float = 10.0) -> Preflight:
    """Ask agno-session what AgentOS answered: same auth mode, the credential taken, every db_id and table known."""
    base, result = sessions_url.rstrip("/"), Preflight()
    status, body = get_json(f"{base}/sessions?limit=1", None, timeout, "agno-session")
    mode = auth_mode(status, body)
    if mode != view.auth:
        result.differ(f"AgentOS asks for {_MODES[view.auth]}, agno-session at {base} for {_MODES[mode]}",
                      _MODE_FIX[view.auth])
        return result
    result.matches.append(f"auth: both ask for {_MODES[mode]}")
    if view.databases is None:
        result.incomplete.append("db_ids: AgentOS's /config needs a credential: pass --agentos-key KEY or "
                                 "--agentos-token TOKEN")
        return result
    for db in view.databases:
        query = {"db_id": db.db_id, "limit": 1} | ({"table": db.tables[0]} if db.tables else {})
        status, body = get_json(f"{base}/sessions?{urlencode(query)}", credential, timeout, "agno-session")
        said = detail(body)
        if status == 401:
            result.differ(f"agno-session refuses the credential AgentOS accepted ({said})", _MODE_FIX[mode])
            return result
        if status == 404 and said.startswith(UNKNOWN_DB):
            result.differ(f"agno-session does not know AgentOS's db_id {db.db_id} (its log's \"database\" line "
                          "says which it derived, and from what)",
                          f"AGNO_DB_ID={db.db_id} on agno-session (or that AGNO_SESSION_DSN_MAP key)")
        elif status == 404 and UNKNOWN_TABLE in said:
            result.differ(f"db_id {db.db_id}: agno-session has no table {db.tables[0]}",
                          f"AGNO_SESSION_TABLE={db.tables[0]} on agno-session (or the map entry's \"session_table\")")
        elif status == 200:
            result.matches.append(f"db_id {db.db_id} (tables {', '.join(db.tables) or '?'})")
        else:
            result.incomplete.append(f"db_id {db.db_id}: agno-session answered {status} ({said})")
    return result
