"""The preflight against this service's own settings (`agno-session check --agentos-url`): db_ids, tables, auth."""

from __future__ import annotations

import jwt

from service.auth.settings import JwtSettings
from service.auth.tokens import TokenRejected, verified_claims
from service.core.config import DatabaseConfig, Settings, agentos_db_id, masked_url
from service.preflight.agentos import JWT, KEY, OPEN, AgentOsDatabase, AgentOsView
from service.preflight.findings import Preflight

JWT_KEY_VARIABLES = "JWT_VERIFICATION_KEY (or JWT_VERIFICATION_KEY_FILE / JWT_JWKS_FILE)"
ISOLATION_NOTE = ("AgentOS's user_isolation is not visible from outside; this service isolates users by default "
                  "(AGNO_USER_ISOLATION=true): set AGNO_USER_ISOLATION=false if AgentOS runs without it")


def compare_settings(settings: Settings, view: AgentOsView, key: str | None, token: str | None) -> Preflight:
    """Every difference between AgentOS (as `view` shows it) and `settings`; `key`/`token` are what was sent."""
    result = Preflight()
    _compare_auth(settings, view, key, token, result)
    if view.databases is None:
        result.incomplete.append("db_ids: AgentOS's /config needs a credential: pass --agentos-key KEY or "
                                 "--agentos-token TOKEN")
    else:
        _compare_databases(settings, view.databases, result)
    return result


def _compare_auth(settings: Settings, view: AgentOsView, key: str | None, token: str | None,
                  result: Preflight) -> None:
    """Key required or not, JWT or not, and whether this service takes the credential AgentOS took."""
    mode = JWT if settings.jwt is not None else KEY if settings.security_key else OPEN
    if view.auth != mode:
        result.differ(f"AgentOS authenticates with {_MODES[view.auth]}, this service with {_MODES[mode]}",
                      _MODE_FIX[view.auth])
        return
    if mode == KEY:
        if view.credential_refused:
            result.differ(f"AgentOS refuses this service's OS_SECURITY_KEY ({view.credential_refused})",
                          "OS_SECURITY_KEY=<AgentOS's OS_SECURITY_KEY>")
        elif key and key != settings.security_key:
            result.differ("OS_SECURITY_KEY differs from the key AgentOS accepted (--agentos-key)",
                          "OS_SECURITY_KEY=<the key given as --agentos-key>")
        else:
            result.matches.append("auth: OS_SECURITY_KEY required on both, and the same key")
    elif mode == JWT:
        assert settings.jwt is not None
        if token:
            _compare_token(token, settings.jwt, result)
        else:
            result.incomplete.append("JWT settings: pass --agentos-token with a token AgentOS accepts")
        if settings.jwt.user_isolation:
            result.notes.append(ISOLATION_NOTE)
    else:
        result.matches.append("auth: neither asks for credentials")


_MODES = {OPEN: "nothing (no OS_SECURITY_KEY, no JWT)", KEY: "OS_SECURITY_KEY", JWT: "JWTs"}
_MODE_FIX = {
    OPEN: f"neither OS_SECURITY_KEY nor {JWT_KEY_VARIABLES} (unset them)",
    KEY: f"OS_SECURITY_KEY=<AgentOS's OS_SECURITY_KEY> and unset {JWT_KEY_VARIABLES}",
    JWT: f"{JWT_KEY_VARIABLES} to AgentOS's JWT key, AGNO_JWT_ALGORITHM to its algorithm (docs/authentication.md)",
}


def _compare_token(token: str, cfg: JwtSettings, result: Preflight) -> None:
    """A token AgentOS accepted must pass here too; when it does not, name the setting that refuses it."""
    try:
        header, claims = jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        result.incomplete.append(f"--agentos-token is not a JWT ({exc})")
        return
    alg = header.get("alg")
    if alg != cfg.algorithm:
        result.differ(f"the token is signed with {alg}, this service accepts only {cfg.algorithm}",
                      f"AGNO_JWT_ALGORITHM={alg}")
        return
    try:
        verified_claims(token, cfg)
    except TokenRejected as exc:
        result.differ(f"this service refuses the token AgentOS accepted: {exc.detail}", _token_fix(exc.detail, claims))
        return
    result.matches.append(f"auth: JWT ({alg}); the token AgentOS accepted is accepted here")


def _token_fix(detail: str, claims: dict) -> str:
    """The setting behind a refusal, from the refusal's wording and the token's own claims."""
    lowered = detail.lower()
    if '"exp"' in lowered:
        return "AGNO_JWT_REQUIRE_EXP=false (AgentOS accepts tokens without exp)"
    if "audience" in lowered or '"aud"' in lowered:
        return (f"AGNO_JWT_AUDIENCE={claims.get('aud')!r} (the token's aud) or AGNO_JWT_VERIFY_AUDIENCE=false, "
                "as in AgentOS")
    if "issuer" in lowered or '"iss"' in lowered:
        return f"AGNO_JWT_ISSUER={claims.get('iss')!r} (the token's iss), or unset it as in AgentOS"
    return f"{JWT_KEY_VARIABLES} to the key AgentOS verifies with"


def _compare_databases(settings: Settings, theirs: tuple[AgentOsDatabase, ...], result: Preflight) -> None:
    """Each AgentOS session database must be served here under the same db_id, with the same sessions table."""
    ours = {d.db_id: d for d in settings.databases}
    mapped = any(d.db_id_origin.startswith("pinned by its AGNO_SESSION_DSN_MAP") for d in settings.databases)
    missing = [t for t in theirs if t.db_id not in ours]
    if len(theirs) == 1 and len(ours) == 1 and missing:
        mine = settings.databases[0]
        fix = (f"the AGNO_SESSION_DSN_MAP key {mine.db_id!r} to {missing[0].db_id!r}" if mapped
               else f"AGNO_DB_ID={missing[0].db_id}")
        result.differ(f"db_id: AgentOS's is {missing[0].db_id}, this service's {mine.db_id} ({mine.db_id_origin})"
                      f"{_url_hint(mine, missing[0].db_id)}", fix)
        return
    for db in missing:
        result.differ(f"db_id {db.db_id} (AgentOS's, tables {', '.join(db.tables) or '?'}) is not served here",
                      f'an AGNO_SESSION_DSN_MAP key "{db.db_id}" for that database')
    for db in theirs:
        mine = ours.get(db.db_id)
        if mine is None:
            continue
        if db.tables and mine.session_table not in db.tables:
            variable = "its AGNO_SESSION_DSN_MAP entry's \"session_table\"" if mapped else "AGNO_SESSION_TABLE"
            result.differ(f"db_id {db.db_id}: AgentOS's sessions table is {', '.join(db.tables)}, this service "
                          f"reads {mine.schema}.{mine.session_table}", f"{variable}={db.tables[0]}")
        else:
            result.matches.append(f"db_id {db.db_id} ({mine.db_id_origin})")
    known = {t.db_id for t in theirs}
    for db in settings.databases:
        if db.db_id not in known:
            result.notes.append(f"db_id {db.db_id} ({db.db_id_origin}) is served here but unknown to AgentOS")


def _url_hint(mine: DatabaseConfig, theirs: str) -> str:
    """When AgentOS's id is the one its usual `postgresql+psycopg://` spelling of our URL derives, say so."""
    if not mine.dsn:
        return ""
    spelled = mine.dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    if agentos_db_id(spelled, mine.schema) == theirs:
        return f"; AgentOS's URL is {masked_url(spelled)}: give exactly that string, or pin the id"
    return ""
