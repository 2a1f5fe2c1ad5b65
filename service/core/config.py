"""Settings from the environment, validated once at start-up so mistakes stop the process early."""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service.auth.settings import JwtSettings, load_jwt_settings
from service.core.env import ConfigError, env_flag, env_int
from service.core.retention_policies import Policy, duration_seconds, load_policies
from service.core.webhook_subscriptions import Subscription, load_subscriptions

DEFAULT_SCHEMA = "ai"
DEFAULT_SESSION_TABLE = "agno_sessions"
DEFAULT_RUNS_TABLE = "agno_runs"
AGENTOS_CORS_ORIGINS = (
    "http://localhost:3000",
    "https://agno.com",
    "https://www.agno.com",
    "https://app.agno.com",
    "https://os-stg.agno.com",
    "https://os.agno.com",
)
# Other tables agno's PostgresDb is configured with by default; `table=` may name any of them.
AGNO_SIDE_TABLES = ("agno_memories", "agno_learnings", "agno_metrics", "agno_eval_runs", "agno_knowledge")

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_SEARCH_CONFIG = re.compile(r"^([A-Za-z_][A-Za-z0-9_$]{0,62}\.)?[A-Za-z_][A-Za-z0-9_$]{0,62}$")


DEFAULT_CURSOR_KEY = b"agno-session cursors v1"  # mixed with the deployment's secrets when AGNO_CURSOR_KEY is unset
# What every worker and replica of one deployment shares and a client does not know: the cursor key's default.
CURSOR_KEY_SOURCES = ("OS_SECURITY_KEY", "JWT_VERIFICATION_KEY", "AGNO_PG_DSN", "DATABASE_URL", "AGNO_SESSION_DSN_MAP",
                      "AGNO_PG_REPLICA_DSN")

@dataclass(frozen=True)
class DatabaseConfig:
    """One database the service serves, as AgentOS would know it by its db_id."""

    db_id: str
    dsn: str
    schema: str = DEFAULT_SCHEMA
    session_table: str = DEFAULT_SESSION_TABLE
    runs_table: str = DEFAULT_RUNS_TABLE
    embedded: bool = False
    tenant: str | None = None  # JWT mode with AGNO_JWT_TENANT_CLAIM: only this tenant's callers reach it
    replica_dsn: str | None = None  # a hot standby of `dsn`: the reads of GET requests go there
    db_id_origin: str = ""  # where db_id came from, for `serve` and `check` (a derived one names its masked URL)

    @property
    def table_names(self) -> tuple[str, ...]:
        """Names a client may pass as `table=` for this database (AgentOS's configured names)."""
        return (self.session_table, *AGNO_SIDE_TABLES)


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    databases: tuple[DatabaseConfig, ...]
    default_db_id: str
    require_db_id: bool = False
    require_if_match: bool = False  # extension `preconditions`: 428 for a write to one session without If-Match
    host: str = "127.0.0.1"  # the image and the chart listen on every interface (AGNO_SERVICE_HOST=0.0.0.0)
    port: int = 8080
    workers: int = 2
    threads: int = 8
    pool_size: int | None = None
    request_timeout: float = 60.0
    security_key: str | None = None
    trusted_proxies: int = 0
    cors_origins: tuple[str, ...] = AGENTOS_CORS_ORIGINS
    data_dir: Path | None = None
    log_level: str = "INFO"
    max_body_bytes: int = 10 * 1024 * 1024
    max_head_bytes: int = 128 * 1024  # request line + header fields, what AgentOS's uvicorn/h11 takes at once
    keepalive_timeout: float = 5.0  # idle connection before its next (or first) request's first byte
    header_timeout: float = 10.0  # first byte to the end of the request head
    body_timeout: float = 30.0  # end of the head to the end of the body (and any single send of the answer)
    max_connections: int = 1000  # open connections per worker; idle ones cost a file descriptor, not a thread
    front: str = "none"  # "nginx": serve puts a buffering nginx in front of gunicorn (the image's default)
    front_conn_per_ip: int = 256  # requests in progress per client address through the front (nginx limit_conn)
    front_events_url: str | None = None  # the front passes GET /sessions/-/events to this `serve-events` (unbuffered)
    jwt: JwtSettings | None = None  # JWT mode; OS_SECURITY_KEY is ignored once it is on, as in AgentOS
    metrics_token: str | None = None  # Prometheus's own bearer credential for GET /metrics
    readyz_details: bool = False  # /readyz names each database's state to any caller
    migrate_timeout: float = 900.0  # the whole `migrate` run: index builds on large tables take minutes
    migrate_lock_timeout: float = 2.0  # longest a writer may wait behind one of migrate's lock requests
    # Seals paging cursors (rules/cursors.py). Every worker and replica of a deployment must share it; the default
    # makes cursors tamper-evident but forgeable, which reveals nothing: every request is authorised on its own.
    cursor_key: bytes = DEFAULT_CURSOR_KEY
    search_config: str = "simple"  # the text search configuration `migrate --search` builds the index with
    idempotency_ttl: int = 86400  # seconds an Idempotency-Key's first answer is kept (extension `idempotency-keys`)
    idempotency_wait: int = 5  # seconds a request waits for an identical one with its key to finish before a 409
    retention_file: Path | None = None  # AGNO_RETENTION_FILE: the retention policies (`agno-session retention`)
    retention_policies: tuple[Policy, ...] = ()  # read from it, checked at start
    metrics_pushgateway: str | None = None  # where batch commands (retention) push their counts when they end
    webhooks_file: Path | None = None  # AGNO_WEBHOOKS_FILE: the webhook subscriptions (`agno-session deliver`)
    webhooks: tuple[Subscription, ...] = ()  # read from it, checked at start
    deliver_metrics_port: int = 9464  # `agno-session deliver` serves its Prometheus metrics here (0: not at all)
    # Keys the erasure receipts' user_hash (HMAC-SHA256): kept by the operator, it proves which user a receipt is about
    # by recomputing it; without it, erasures are refused (a receipt nobody could verify proves nothing).
    erasure_key: bytes | None = None
    changes_retention: int = 7 * 86400  # AGNO_CHANGES_RETENTION: seconds a change stays in the change log

    @property
    def authenticated(self) -> bool:
        """True when routes need credentials (OS_SECURITY_KEY or JWT mode); without, the whole API is open."""
        return self.jwt is not None or bool(self.security_key)

    @property
    def tenants(self) -> bool:
        """True when callers are pinned to tenants: db_ids are then not for every caller's eyes."""
        return self.jwt is not None and self.jwt.tenant_claim is not None

    @property
    def embedded(self) -> bool:
        """True when no DSN was configured and the service runs its own PostgreSQL."""
        return any(d.embedded for d in self.databases)

    @property
    def pool_max(self) -> int:
        """Connections per database per worker: one per thread unless set explicitly."""
        return self.pool_size or self.threads


def agentos_db_id(db_url: str, schema: str) -> str:
    """The id AgentOS derives for a PostgresDb, so a co-deployed service answers to the same db_id."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{db_url}#{schema}"))


def masked_url(url: str) -> str:
    """The URL with its password hidden (in the user info and a `password=` parameter), fit for logs."""
    url = re.sub(r"^([a-z0-9+.-]+://[^:/@?#]*):[^/?#]*@", r"\1:***@", url.strip(), flags=re.IGNORECASE)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)


def derived_origin(url: str, schema: str) -> str:
    """How AgentOS derives the id this URL gets: the exact string, masked, with its schema."""
    return f"derived from {masked_url(url)}#{schema}"


def libpq_dsn(url: str) -> str:
    """Accept SQLAlchemy URLs (postgresql+psycopg://) as AgentOS is configured, and hand libpq its form."""
    return re.sub(r"^postgres(ql)?\+[a-z0-9_]+://", "postgresql://", url.strip())


def default_data_dir() -> Path:
    """Where the embedded database lives when AGNO_DATA_DIR is not set (XDG data dir)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "agno-session"


def _ident(name: str, value: str) -> str:
    if not _IDENT.match(value):
        raise ConfigError(f"{name} must be a plain SQL identifier (letters, digits, _; max 63), got {value!r}")
    return value


def _dsn(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name} must be a non-empty PostgreSQL URL")
    if not re.match(r"^postgres(ql)?(\+[a-z0-9_]+)?://", value.strip()):
        raise ConfigError(f"{name} must start with postgresql:// (or postgresql+<driver>://), got {value!r}")
    return value.strip()


def _single_database(env: Mapping[str, str], url: str, tables: dict[str, str]) -> DatabaseConfig:
    pinned = env.get("AGNO_DB_ID")
    db_id = pinned or agentos_db_id(url, tables["schema"])
    origin = "pinned by AGNO_DB_ID" if pinned else derived_origin(url, tables["schema"])
    return DatabaseConfig(db_id=db_id, dsn=libpq_dsn(url), replica_dsn=_replica_dsn(env), db_id_origin=origin,
                          **tables)


def _replica_dsn(env: Mapping[str, str]) -> str | None:
    """AGNO_PG_REPLICA_DSN, the single database's read replica (a DSN map names one per entry instead)."""
    raw = env.get("AGNO_PG_REPLICA_DSN")
    return libpq_dsn(_dsn("AGNO_PG_REPLICA_DSN", raw)) if raw else None


def _mapped_databases(raw: str, tables: dict[str, str]) -> list[DatabaseConfig]:
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"AGNO_SESSION_DSN_MAP is not valid JSON: {exc}") from None
    if not isinstance(mapping, dict) or not mapping:
        raise ConfigError("AGNO_SESSION_DSN_MAP must be a non-empty JSON object of db_id → DSN")
    databases = []
    for db_id, entry in mapping.items():
        where = f"AGNO_SESSION_DSN_MAP[{db_id!r}]"
        if not db_id:
            raise ConfigError("AGNO_SESSION_DSN_MAP keys (db ids) must be non-empty")
        if isinstance(entry, str):
            entry = {"dsn": entry}
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a DSN string or an object with dsn/replica_dsn/schema/session_table"
                              "/runs_table/tenant")
        unknown = set(entry) - {"dsn", "replica_dsn", "schema", "session_table", "runs_table", "tenant"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        own = dict(tables)
        for key in ("schema", "session_table", "runs_table"):
            if key in entry:
                own[key] = _ident(f"{where}.{key}", str(entry[key]))
        if "session_table" in entry and "runs_table" not in entry:
            own["runs_table"] = f"{own['session_table']}_runs"
        tenant = entry.get("tenant")
        if tenant is not None and (not isinstance(tenant, str) or not tenant):
            raise ConfigError(f"{where}.tenant must be a non-empty string")
        replica = entry.get("replica_dsn")
        if replica is not None:
            replica = libpq_dsn(_dsn(f"{where}.replica_dsn", replica))
        databases.append(DatabaseConfig(db_id=db_id, dsn=libpq_dsn(_dsn(f"{where}.dsn", entry.get("dsn"))),
                                        tenant=tenant, replica_dsn=replica,
                                        db_id_origin="pinned by its AGNO_SESSION_DSN_MAP key", **own))
    return databases


def _table_names(env: Mapping[str, str]) -> dict[str, str]:
    schema = _ident("AGNO_DB_SCHEMA", env.get("AGNO_DB_SCHEMA") or DEFAULT_SCHEMA)
    session_table = _ident("AGNO_SESSION_TABLE", env.get("AGNO_SESSION_TABLE") or DEFAULT_SESSION_TABLE)
    # agno names the runs table after a custom sessions table (`<table>_runs`) unless told otherwise.
    implied_runs = f"{session_table}_runs" if env.get("AGNO_SESSION_TABLE") else DEFAULT_RUNS_TABLE
    runs_table = _ident("AGNO_RUNS_TABLE", env.get("AGNO_RUNS_TABLE") or implied_runs)
    return {"schema": schema, "session_table": session_table, "runs_table": runs_table}


FRONTS = ("none", "nginx")


def _front(env: Mapping[str, str], max_connections: int) -> tuple[str, int]:
    """AGNO_FRONT and its per-client limit; one client at its limit must leave the front room for the others."""
    front = (env.get("AGNO_FRONT") or "none").strip().lower()
    if front not in FRONTS:
        raise ConfigError(f"AGNO_FRONT must be one of {', '.join(FRONTS)}, got {env['AGNO_FRONT']!r}")
    per_ip = env_int(env, "AGNO_FRONT_CONN_PER_IP", 256, 1, 100000)
    # Each request in progress holds two of nginx's connections (the client's and gunicorn's).
    if front == "nginx" and 2 * per_ip >= max_connections:
        raise ConfigError(f"AGNO_FRONT_CONN_PER_IP ({per_ip}) must be below half of AGNO_MAX_CONNECTIONS "
                          f"({max_connections}): one client at its limit would fill the front")
    return front, per_ip


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise ConfigError naming the first mistake."""
    env = os.environ if env is None else env
    tables = _table_names(env)
    if env.get("AGNO_PG_REPLICA_DSN") and (env.get("AGNO_SESSION_DSN_MAP") or not (
            env.get("AGNO_PG_DSN") or env.get("DATABASE_URL"))):
        raise ConfigError("AGNO_PG_REPLICA_DSN is the replica of AGNO_PG_DSN (or DATABASE_URL): set one of those, or "
                          "with AGNO_SESSION_DSN_MAP give each entry its own \"replica_dsn\"")
    if env.get("AGNO_SESSION_DSN_MAP"):
        databases = _mapped_databases(env["AGNO_SESSION_DSN_MAP"], tables)
    elif env.get("AGNO_PG_DSN"):
        databases = [_single_database(env, _dsn("AGNO_PG_DSN", env["AGNO_PG_DSN"]), tables)]
    elif env.get("DATABASE_URL"):
        databases = [_single_database(env, _dsn("DATABASE_URL", env["DATABASE_URL"]), tables)]
    else:
        # No DSN at all: the embedded server; its DSN is known once it has started.
        origin = "pinned by AGNO_DB_ID" if env.get("AGNO_DB_ID") else "the embedded database's default"
        databases = [DatabaseConfig(db_id=env.get("AGNO_DB_ID") or "embedded", dsn="", embedded=True,
                                    db_id_origin=origin, **tables)]
    ids = [d.db_id for d in databases]
    default_db_id = env.get("AGNO_DEFAULT_DB_ID") or ids[0]
    if default_db_id not in ids:
        raise ConfigError(f"AGNO_DEFAULT_DB_ID {default_db_id!r} is not one of the configured db ids: {ids}")
    jwt = load_jwt_settings(env)
    if jwt is not None and jwt.tenant_claim:
        untenanted = [d.db_id for d in databases if d.tenant is None]
        if untenanted:
            raise ConfigError(f"AGNO_JWT_TENANT_CLAIM is set: every AGNO_SESSION_DSN_MAP entry needs a \"tenant\" "
                              f"(missing for {untenanted})")
    readyz_details = env_flag(env, "AGNO_READYZ_DETAILS", False)
    if readyz_details and jwt is not None and jwt.tenant_claim:
        raise ConfigError("AGNO_READYZ_DETAILS=true would show every tenant's db_id to any caller: unset it with "
                          "AGNO_JWT_TENANT_CLAIM (an admin token still gets the details of its tenant)")
    origins = env.get("AGNO_CORS_ORIGINS")
    data_dir = env.get("AGNO_DATA_DIR")
    timeout = env_int(env, "AGNO_REQUEST_TIMEOUT", 60, 1, 3600)
    max_connections = env_int(env, "AGNO_MAX_CONNECTIONS", 1000, 16, 100000)
    front, front_conn_per_ip = _front(env, max_connections)
    retention_file = (env.get("AGNO_RETENTION_FILE") or "").strip()
    webhooks_file = (env.get("AGNO_WEBHOOKS_FILE") or "").strip()
    return Settings(
        databases=tuple(databases),
        default_db_id=default_db_id,
        require_db_id=env_flag(env, "AGNO_REQUIRE_DB_ID", False),
        require_if_match=env_flag(env, "AGNO_REQUIRE_IF_MATCH", False),
        host=env.get("AGNO_SERVICE_HOST") or "127.0.0.1",
        port=env_int(env, "AGNO_SERVICE_PORT", 8080, 1, 65535),
        workers=env_int(env, "AGNO_WORKERS", 2, 1, 64),
        threads=env_int(env, "AGNO_THREADS", 8, 1, 256),
        pool_size=env_int(env, "AGNO_POOL_SIZE", None, 1, 1000),
        request_timeout=float(timeout),
        security_key=env.get("OS_SECURITY_KEY") or None,
        trusted_proxies=env_int(env, "AGNO_TRUSTED_PROXIES", 0, 0, 16),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()) if origins else AGENTOS_CORS_ORIGINS,
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        log_level=(env.get("AGNO_LOG_LEVEL") or "INFO").upper(),
        max_body_bytes=env_int(env, "AGNO_MAX_BODY_BYTES", 10 * 1024 * 1024, 1, 1024**3),
        max_head_bytes=env_int(env, "AGNO_MAX_HEAD_BYTES", 128 * 1024, 8 * 1024, 1024**2),
        keepalive_timeout=float(env_int(env, "AGNO_KEEPALIVE_TIMEOUT", 5, 1, 3600)),
        header_timeout=float(env_int(env, "AGNO_HEADER_TIMEOUT", 10, 1, 3600)),
        body_timeout=float(env_int(env, "AGNO_BODY_TIMEOUT", 30, 1, 3600)),
        max_connections=max_connections,
        front=front,
        front_conn_per_ip=front_conn_per_ip,
        front_events_url=_events_url(env),
        jwt=jwt,
        metrics_token=env.get("AGNO_METRICS_TOKEN") or None,
        readyz_details=readyz_details,
        migrate_timeout=float(env_int(env, "AGNO_MIGRATE_TIMEOUT", 900, 1, 86400)),
        migrate_lock_timeout=float(env_int(env, "AGNO_MIGRATE_LOCK_TIMEOUT", 2, 1, 600)),
        cursor_key=cursor_key(env),
        search_config=_search_config(env),
        idempotency_ttl=env_int(env, "AGNO_IDEMPOTENCY_TTL", 86400, 1, 30 * 86400, "seconds"),
        idempotency_wait=env_int(env, "AGNO_IDEMPOTENCY_WAIT", 5, 1, 600, "seconds"),
        retention_file=Path(retention_file).expanduser() if retention_file else None,
        retention_policies=load_policies(Path(retention_file).expanduser()) if retention_file else (),
        metrics_pushgateway=_pushgateway(env),
        webhooks_file=Path(webhooks_file).expanduser() if webhooks_file else None,
        webhooks=_webhooks(Path(webhooks_file).expanduser(), databases) if webhooks_file else (),
        deliver_metrics_port=env_int(env, "AGNO_DELIVER_METRICS_PORT", 9464, 0, 65535),
        erasure_key=_erasure_key(env),
        changes_retention=_changes_retention(env),
    )


def _events_url(env: Mapping[str, str]) -> str | None:
    """AGNO_FRONT_EVENTS_URL: `http://host:port` of the event process the nginx front routes the stream to."""
    url = (env.get("AGNO_FRONT_EVENTS_URL") or "").strip().rstrip("/")
    if url and not re.fullmatch(r"http://[A-Za-z0-9.-]+:[0-9]{1,5}", url):
        raise ConfigError(f"AGNO_FRONT_EVENTS_URL must be http://host:port (the serve-events process), got {url!r}")
    return url or None


def _changes_retention(env: Mapping[str, str]) -> int:
    """AGNO_CHANGES_RETENTION: how long the change log keeps a change (`7d`, `12h`, `90m`; 1 minute to 1 year)."""
    raw = (env.get("AGNO_CHANGES_RETENTION") or "").strip()
    if not raw:
        return 7 * 86400
    seconds = duration_seconds(raw)
    if seconds is None or not 60 <= seconds <= 366 * 86400:
        raise ConfigError(f"AGNO_CHANGES_RETENTION must be a whole number with a unit s, m, h or d from 1 minute to "
                          f"366 days (7d, 12h), got {raw!r}")
    return seconds


def _pushgateway(env: Mapping[str, str]) -> str | None:
    """AGNO_METRICS_PUSHGATEWAY: a Prometheus Pushgateway's URL (http:// or https://), or None."""
    url = (env.get("AGNO_METRICS_PUSHGATEWAY") or "").strip()
    if url and not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"AGNO_METRICS_PUSHGATEWAY must be an http:// or https:// URL, got {url!r}")
    return url or None


def _webhooks(path: Path, databases: list[DatabaseConfig]) -> tuple[Subscription, ...]:
    """The subscriptions of AGNO_WEBHOOKS_FILE, each naming a configured database if it names one."""
    subscriptions = load_subscriptions(path)
    ids = [d.db_id for d in databases]
    for s in subscriptions:
        if s.db_id is not None and s.db_id not in ids:
            raise ConfigError(f"AGNO_WEBHOOKS_FILE {path}, line {s.line}: subscription {s.name!r}: db_id {s.db_id!r} "
                              f"is not one of the configured db ids: {ids}")
    return subscriptions


MIN_ERASURE_KEY = 16  # bytes: shorter keys make a user id guessable from its hash by trying candidate keys


def _erasure_key(env: Mapping[str, str]) -> bytes | None:
    """AGNO_ERASURE_KEY: the secret the erasure receipts' user hashes are keyed with (unset: erasure is refused)."""
    raw = env.get("AGNO_ERASURE_KEY") or ""
    if not raw:
        return None
    key = raw.encode("utf-8")
    if len(key) < MIN_ERASURE_KEY:
        raise ConfigError(f"AGNO_ERASURE_KEY must be at least {MIN_ERASURE_KEY} bytes (a random secret), got "
                          f"{len(key)}")
    return key


def _search_config(env: Mapping[str, str]) -> str:
    """AGNO_SEARCH_CONFIG: a text search configuration's name (optionally schema-qualified); whether the database
    has it is checked by `migrate --search`, which names it in its error."""
    name = env.get("AGNO_SEARCH_CONFIG") or "simple"
    if not _SEARCH_CONFIG.match(name):
        raise ConfigError(f"AGNO_SEARCH_CONFIG must name a text search configuration (simple, english, "
                          f"my_schema.my_config), got {name!r}")
    return name


def cursor_key(env: Mapping[str, str]) -> bytes:
    """AGNO_CURSOR_KEY, else a key derived from the deployment's own secrets (its key and database URLs, passwords
    included): the same in every worker and replica that shares the configuration, unknown to clients."""
    explicit = env.get("AGNO_CURSOR_KEY") or ""
    if explicit:
        return explicit.encode("utf-8")
    material = [DEFAULT_CURSOR_KEY.decode("ascii"), *(env.get(name) or "" for name in CURSOR_KEY_SOURCES)]
    return hashlib.sha256(json.dumps(material).encode("utf-8")).digest()
