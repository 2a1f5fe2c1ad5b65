"""Configuration: every variable parsed, every mistake a clear error naming the variable."""

from __future__ import annotations

import pytest

from service.core.config import DEFAULT_CURSOR_KEY, ConfigError, agentos_db_id, load_settings, masked_url

DSN = "postgresql://u:p@127.0.0.1:5432/db"


def test_no_dsn_means_embedded_with_agentos_table_names() -> None:
    settings = load_settings({})
    assert settings.embedded
    (db,) = settings.databases
    assert (db.db_id, db.schema, db.session_table, db.runs_table) == ("embedded", "ai", "agno_sessions", "agno_runs")
    assert settings.port == 8080 and settings.default_db_id == "embedded"


def test_single_dsn_gets_agentos_db_id_from_the_url_as_given() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
    settings = load_settings({"AGNO_PG_DSN": url})
    (db,) = settings.databases
    assert db.db_id == "686ad6c9-34e3-5e2a-90f3-eb114bf7122a" == agentos_db_id(url, "ai")
    assert db.dsn == "postgresql://postgres@127.0.0.1:55432/postgres"
    assert not settings.embedded


def test_database_url_is_the_fallback_and_agno_pg_dsn_wins() -> None:
    assert load_settings({"DATABASE_URL": DSN}).databases[0].dsn == DSN
    both = load_settings({"DATABASE_URL": "postgresql://other/x", "AGNO_PG_DSN": DSN})
    assert both.databases[0].dsn == DSN


def test_custom_session_table_implies_its_runs_table() -> None:
    settings = load_settings({"AGNO_PG_DSN": DSN, "AGNO_DB_SCHEMA": "ai2", "AGNO_SESSION_TABLE": "custom_sessions"})
    db = settings.databases[0]
    assert (db.schema, db.session_table, db.runs_table) == ("ai2", "custom_sessions", "custom_sessions_runs")
    explicit = load_settings({"AGNO_PG_DSN": DSN, "AGNO_SESSION_TABLE": "s", "AGNO_RUNS_TABLE": "r"})
    assert explicit.databases[0].runs_table == "r"


def test_dsn_map_keeps_document_order_and_per_database_tables() -> None:
    raw = f'{{"zeta": "{DSN}", "alpha": {{"dsn": "{DSN}", "schema": "ai2", "session_table": "custom_sessions"}}}}'
    settings = load_settings({"AGNO_SESSION_DSN_MAP": raw})
    assert [d.db_id for d in settings.databases] == ["zeta", "alpha"]
    assert settings.default_db_id == "zeta"
    alpha = next(d for d in settings.databases if d.db_id == "alpha")
    assert alpha and (alpha.schema, alpha.session_table, alpha.runs_table) == ("ai2", "custom_sessions",
                                                                               "custom_sessions_runs")
    chosen = load_settings({"AGNO_SESSION_DSN_MAP": raw, "AGNO_DEFAULT_DB_ID": "alpha"})
    assert chosen.default_db_id == "alpha"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AGNO_SESSION_DSN_MAP": "{not json"}, "AGNO_SESSION_DSN_MAP is not valid JSON"),
        ({"AGNO_SESSION_DSN_MAP": "[]"}, "must be a non-empty JSON object"),
        ({"AGNO_SESSION_DSN_MAP": '{"a": 5}'}, "AGNO_SESSION_DSN_MAP['a'] must be a DSN string"),
        ({"AGNO_SESSION_DSN_MAP": f'{{"a": {{"dsn": "{DSN}", "tabel": "x"}}}}'}, "unknown keys: tabel"),
        ({"AGNO_SESSION_DSN_MAP": '{"a": "mysql://x"}'}, "must start with postgresql://"),
        ({"AGNO_PG_DSN": DSN, "AGNO_DEFAULT_DB_ID": "nope"}, "AGNO_DEFAULT_DB_ID 'nope' is not one of"),
        ({"AGNO_PG_DSN": DSN, "AGNO_SERVICE_PORT": "eighty"}, "AGNO_SERVICE_PORT must be an integer"),
        ({"AGNO_PG_DSN": DSN, "AGNO_SERVICE_PORT": "70000"}, "AGNO_SERVICE_PORT must be between 1 and 65535"),
        ({"AGNO_PG_DSN": DSN, "AGNO_REQUIRE_DB_ID": "maybe"}, "AGNO_REQUIRE_DB_ID must be true or false"),
        ({"AGNO_PG_DSN": DSN, "AGNO_DB_SCHEMA": "ai; drop"}, "AGNO_DB_SCHEMA must be a plain SQL identifier"),
        ({"AGNO_PG_DSN": DSN, "AGNO_POOL_SIZE": "0"}, "AGNO_POOL_SIZE must be between 1 and 1000"),
        ({"AGNO_SESSION_DSN_MAP": f'{{"a": {{"dsn": "{DSN}", "replica_dsn": "mysql://r"}}}}'},
         "AGNO_SESSION_DSN_MAP['a'].replica_dsn must start with postgresql://"),
        ({"AGNO_SESSION_DSN_MAP": f'{{"a": {{"dsn": "{DSN}", "replica_dsn": 5}}}}'},
         "AGNO_SESSION_DSN_MAP['a'].replica_dsn must be a non-empty PostgreSQL URL"),
        ({"AGNO_PG_DSN": DSN, "AGNO_PG_REPLICA_DSN": "replica:5432"}, "AGNO_PG_REPLICA_DSN must start with"),
        ({"AGNO_SESSION_DSN_MAP": f'{{"a": "{DSN}"}}', "AGNO_PG_REPLICA_DSN": DSN},
         "AGNO_PG_REPLICA_DSN is the replica of AGNO_PG_DSN"),
        ({"AGNO_PG_REPLICA_DSN": DSN}, "AGNO_PG_REPLICA_DSN is the replica of AGNO_PG_DSN"),
    ],
)
def test_mistakes_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(env)


def test_pool_defaults_to_threads_and_flags_parse() -> None:
    settings = load_settings({"AGNO_PG_DSN": DSN, "AGNO_THREADS": "12", "AGNO_REQUIRE_DB_ID": "TRUE",
                              "OS_SECURITY_KEY": "k", "AGNO_TRUSTED_PROXIES": "1"})
    assert settings.pool_max == 12 and settings.require_db_id and settings.security_key == "k"
    assert settings.trusted_proxies == 1
    assert load_settings({"AGNO_PG_DSN": DSN, "AGNO_POOL_SIZE": "3"}).pool_max == 3


def test_a_read_replica_per_database() -> None:
    replica = "postgresql+psycopg://reader@replica:5432/db"
    raw = f'{{"main": {{"dsn": "{DSN}", "replica_dsn": "{replica}"}}, "other": "{DSN}"}}'
    main, other = load_settings({"AGNO_SESSION_DSN_MAP": raw}).databases
    assert (main.dsn, main.replica_dsn, other.replica_dsn) == (DSN, "postgresql://reader@replica:5432/db", None)
    (single,) = load_settings({"AGNO_PG_DSN": DSN, "AGNO_PG_REPLICA_DSN": replica}).databases
    assert single.replica_dsn == "postgresql://reader@replica:5432/db"
    assert single.db_id == agentos_db_id(DSN, "ai")  # the primary's URL alone names the database
    assert load_settings({"DATABASE_URL": DSN, "AGNO_PG_REPLICA_DSN": replica}).databases[0].replica_dsn
    assert load_settings({"AGNO_PG_DSN": DSN, "AGNO_PG_REPLICA_DSN": ""}).databases[0].replica_dsn is None


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://u:p@ss@h:5432/db?sslmode=require", "postgresql+psycopg://u:***@h:5432/db?sslmode=require"),
    ("postgresql://h/db?user=x&password=y&a=b", "postgresql://h/db?user=x&password=***&a=b"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
])
def test_masked_url_hides_only_the_password(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_each_database_says_where_its_db_id_comes_from() -> None:
    url = "postgresql+psycopg://u:pw@h/db"
    assert load_settings({"AGNO_PG_DSN": url}).databases[0].db_id_origin == "derived from postgresql+psycopg://u:***@h/db#ai"
    assert load_settings({"AGNO_PG_DSN": url, "AGNO_DB_ID": "x"}).databases[0].db_id_origin == "pinned by AGNO_DB_ID"
    mapped = load_settings({"AGNO_SESSION_DSN_MAP": f'{{"x": "{url}"}}'}).databases[0]
    assert mapped.db_id_origin == "pinned by its AGNO_SESSION_DSN_MAP key"


def test_the_cursor_key_is_the_setting_or_derived_from_the_deployments_secrets() -> None:
    assert load_settings({"AGNO_CURSOR_KEY": "s3cret-é"}).cursor_key == "s3cret-é".encode()
    dsn = {"AGNO_PG_DSN": "postgresql://agno:pw@db/agno"}
    derived = load_settings(dsn).cursor_key
    assert derived == load_settings({**dsn, "AGNO_CURSOR_KEY": ""}).cursor_key  # empty means unset
    assert derived != DEFAULT_CURSOR_KEY and len(derived) == 32
    # Another password, another key, or another database: another cursor key, so a client cannot compute it.
    assert load_settings({"AGNO_PG_DSN": "postgresql://agno:other@db/agno"}).cursor_key != derived
    assert load_settings({**dsn, "OS_SECURITY_KEY": "k"}).cursor_key != derived
    assert load_settings(dsn).cursor_key == derived  # every worker and replica with this configuration agrees


@pytest.mark.parametrize(("raw", "seconds"), [(None, 7 * 86400), ("", 7 * 86400), ("12h", 43200), ("90m", 5400),
                                              ("3600s", 3600), ("366d", 366 * 86400)])
def test_changes_retention_is_a_duration(raw, seconds):
    env = {"AGNO_PG_DSN": "postgresql://u@h/db"} | ({"AGNO_CHANGES_RETENTION": raw} if raw is not None else {})
    assert load_settings(env).changes_retention == seconds


@pytest.mark.parametrize("raw", ["7", "7 days", "59s", "367d", "-1d", "1.5h"])
def test_a_changes_retention_that_is_not_one_names_the_variable(raw):
    with pytest.raises(ConfigError, match="AGNO_CHANGES_RETENTION"):
        load_settings({"AGNO_PG_DSN": "postgresql://u@h/db", "AGNO_CHANGES_RETENTION": raw})
