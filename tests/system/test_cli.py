"""`agno-session migrate | check` as a deployment runs them: a subprocess against a real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

CLI = str(Path(sys.executable).parent / "agno-session")
SCHEMA = "cli_test"

SESSION_COLUMNS = [
    ("session_id", "character varying", "NO"),
    ("session_type", "character varying", "NO"),
    ("agent_id", "character varying", "YES"),
    ("team_id", "character varying", "YES"),
    ("workflow_id", "character varying", "YES"),
    ("user_id", "character varying", "YES"),
    ("session_data", "jsonb", "YES"),
    ("agent_data", "jsonb", "YES"),
    ("team_data", "jsonb", "YES"),
    ("workflow_data", "jsonb", "YES"),
    ("metadata", "jsonb", "YES"),
    ("summary", "jsonb", "YES"),
    ("created_at", "bigint", "NO"),
    ("updated_at", "bigint", "YES"),
]
RUN_COLUMNS = [
    ("run_id", "character varying", "NO"),
    ("session_id", "character varying", "NO"),
    ("run_type", "character varying", "NO"),
    ("agent_id", "character varying", "YES"),
    ("team_id", "character varying", "YES"),
    ("workflow_id", "character varying", "YES"),
    ("user_id", "character varying", "YES"),
    ("parent_run_id", "character varying", "YES"),
    ("status", "character varying", "YES"),
    ("run_index", "bigint", "YES"),
    ("run_data", "jsonb", "NO"),
    ("created_at", "bigint", "NO"),
    ("updated_at", "bigint", "YES"),
]


def expected_layout(schema: str, sessions: str, runs: str) -> dict:
    """agno's layout (agentos-ddl.sql, `pg_dump` of a real AgentOS) with the names substituted."""
    s, r = f"{schema}.{sessions}", f"{schema}.{runs}"
    return {
        "columns": {sessions: SESSION_COLUMNS, runs: RUN_COLUMNS},
        "constraints": sorted([
            (sessions, f"{sessions}_pkey", "p", "PRIMARY KEY (session_id)"),
            (runs, f"{runs}_pkey", "p", "PRIMARY KEY (run_id)"),
            (runs, f"{runs}_session_id_fkey", "f",
             f"FOREIGN KEY (session_id) REFERENCES {s}(session_id) ON DELETE CASCADE"),
        ]),
        "indexes": sorted([
            (sessions, f"{sessions}_pkey", f"CREATE UNIQUE INDEX {sessions}_pkey ON {s} USING btree (session_id)"),
            (sessions, f"idx_{sessions}_created_at",
             f"CREATE INDEX idx_{sessions}_created_at ON {s} USING btree (created_at)"),
            (sessions, f"idx_{sessions}_session_type",
             f"CREATE INDEX idx_{sessions}_session_type ON {s} USING btree (session_type)"),
            (runs, f"{runs}_pkey", f"CREATE UNIQUE INDEX {runs}_pkey ON {r} USING btree (run_id)"),
            *[(runs, f"idx_{runs}_{c}", f"CREATE INDEX idx_{runs}_{c} ON {r} USING btree ({c})")
              for c in ("agent_id", "created_at", "run_type", "session_id", "status", "team_id", "user_id",
                        "workflow_id")],
            (runs, f"idx_{runs}_session_id_run_index",
             f"CREATE INDEX idx_{runs}_session_id_run_index ON {r} USING btree (session_id, run_index)"),
        ]),
        "defaults": [],
        "triggers": [],
        "tables": sorted([sessions, runs]),
    }


def other_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The console script with only the given settings (none inherited from the caller's AGNO_* variables)."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AGNO_", "OS_SECURITY_KEY", "DATABASE_URL"))}
    return subprocess.run([CLI, *args], env={**base, **env}, capture_output=True, text=True, timeout=60)


class Inspector:
    """Reads a schema's layout from the catalogs."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True

    def rows(self, statement: str, params: tuple = ()) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(statement, params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def layout(self, schema: str) -> dict:
        tables = [t for (t,) in self.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", (schema,))]
        return {
            "columns": {t: self.rows(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", (schema, t))
                for t in tables},
            "constraints": self.rows(
                "SELECT c.conrelid::regclass::text, c.conname, c.contype::text, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = %s AND c.contype <> 'n'",  # PostgreSQL 18 lists NOT NULLs; is_nullable has them
                (schema,)),
            "indexes": sorted(self.rows(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s", (schema,))),
            "defaults": self.rows(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND (column_default IS NOT NULL OR character_maximum_length IS NOT NULL)",
                (schema,)),
            "triggers": self.rows(
                "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = %s", (schema,)),
            "tables": tables,
        }

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def catalog(pg_dsn: str):
    """Catalog access; the CLI's schemas are dropped before and after each test."""
    inspector = Inspector(pg_dsn)
    schemas = (SCHEMA, f"{SCHEMA}_2")
    for schema in schemas:
        inspector.rows(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    yield inspector
    for schema in schemas:
        inspector.rows(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    inspector.close()


def normalised(layout: dict, schema: str) -> dict:
    """Constraint owners come back schema-qualified (schema not on search_path); compare table names only."""
    layout = dict(layout)
    layout["constraints"] = sorted((t.removeprefix(f"{schema}."), *rest) for t, *rest in layout["constraints"])
    return layout


def test_migrate_creates_agnos_exact_layout(pg_dsn: str, catalog: Inspector) -> None:
    result = run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA)
    assert result.returncode == 0, result.stderr
    assert normalised(catalog.layout(SCHEMA), SCHEMA) == expected_layout(SCHEMA, "agno_sessions", "agno_runs")
    assert '"msg":"tables ready"' in result.stderr


def test_migrate_twice_is_harmless_and_keeps_data(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    catalog.rows(f"INSERT INTO {SCHEMA}.agno_sessions (session_id, session_type, created_at) VALUES ('keep', "
                 "'agent', 1)")
    catalog.rows(f"INSERT INTO {SCHEMA}.agno_runs (run_id, session_id, run_type, run_data, created_at) "
                 "VALUES ('r', 'keep', 'agent', '{}', 1)")
    before = catalog.layout(SCHEMA)
    again = run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA)
    assert again.returncode == 0, again.stderr
    assert catalog.layout(SCHEMA) == before
    assert catalog.rows(f"SELECT session_id FROM {SCHEMA}.agno_sessions") == [("keep",)]
    assert catalog.rows(f"SELECT run_id FROM {SCHEMA}.agno_runs") == [("r",)]


def test_foreign_key_cascades_deletes(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    catalog.rows(f"INSERT INTO {SCHEMA}.agno_sessions (session_id, session_type, created_at) VALUES ('s', 'agent', 1)")
    catalog.rows(f"INSERT INTO {SCHEMA}.agno_runs (run_id, session_id, run_type, run_data, created_at) "
                 "VALUES ('r', 's', 'agent', '{}', 1)")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        catalog.rows(f"INSERT INTO {SCHEMA}.agno_runs (run_id, session_id, run_type, run_data, created_at) "
                     "VALUES ('orphan', 'missing', 'agent', '{}', 1)")
    catalog.rows(f"DELETE FROM {SCHEMA}.agno_sessions WHERE session_id = 's'")
    assert catalog.rows(f"SELECT count(*) FROM {SCHEMA}.agno_runs") == [(0,)]


def test_migrate_indexes_adds_only_indexes_and_counts(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    before = catalog.layout(SCHEMA)
    result = run_cli("migrate", "--indexes", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA)
    assert result.returncode == 0, result.stderr
    after = catalog.layout(SCHEMA)
    # agno's tables are untouched: the only additions are indexes, the session counts' table and its triggers.
    counts_table = "agno_sessions_svc_counts"
    assert after["columns"] == {**before["columns"], counts_table: [("session_type", "text", "YES"),
                                                                    ("delta", "bigint", "NO")]}
    assert after["tables"] == sorted([*before["tables"], counts_table])
    assert sorted(after["triggers"]) == sorted([*before["triggers"], *[  # information_schema omits TRUNCATE's
        (f"agno_sessions_svc_count_{event}",) for event in ("insert", "delete", "retype")]])
    unchanged = ("constraints", "defaults")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert set(before["indexes"]) < set(after["indexes"])
    added = sorted(set(after["indexes"]) - set(before["indexes"]))
    trgm = catalog.rows("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'") == [(1,)]
    assert [(table, name) for table, name, _ in added] == [
        ("agno_sessions", "agno_sessions_svc_agent_id"),
        ("agno_sessions", "agno_sessions_svc_metadata"),
        *([("agno_sessions", "agno_sessions_svc_name_trgm")] if trgm else []),
        ("agno_sessions", "agno_sessions_svc_team_id"),
        ("agno_sessions", "agno_sessions_svc_updated"),
        ("agno_sessions", "agno_sessions_svc_user_id"),
        ("agno_sessions", "agno_sessions_svc_workflow_id"),
    ]
    # Without pg_trgm the other indexes are still created, and the operator is told what is missing and why.
    assert trgm or "pg_trgm cannot be created" in result.stdout + result.stderr
    assert all(definition.startswith("CREATE INDEX ") for _, _, definition in added)  # never UNIQUE
    assert run_cli("migrate", "--indexes", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    assert catalog.layout(SCHEMA) == after


def test_custom_session_table_names_its_runs_table_and_indexes(pg_dsn: str, catalog: Inspector) -> None:
    result = run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA, AGNO_SESSION_TABLE="custom_sessions")
    assert result.returncode == 0, result.stderr
    layout = normalised(catalog.layout(SCHEMA), SCHEMA)
    assert layout == expected_layout(SCHEMA, "custom_sessions", "custom_sessions_runs")
    names = {name for _, name, _ in layout["indexes"]}
    assert {"idx_custom_sessions_created_at", "idx_custom_sessions_session_type",
            "idx_custom_sessions_runs_session_id_run_index", "custom_sessions_runs_pkey"} <= names


def test_explicit_runs_table_name(pg_dsn: str, catalog: Inspector) -> None:
    result = run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA, AGNO_SESSION_TABLE="conv",
                     AGNO_RUNS_TABLE="conv_turns")
    assert result.returncode == 0, result.stderr
    assert normalised(catalog.layout(SCHEMA), SCHEMA) == expected_layout(SCHEMA, "conv", "conv_turns")


def test_migrate_covers_every_mapped_database(pg_dsn: str, catalog: Inspector) -> None:
    mapping = json.dumps({"one": {"dsn": pg_dsn, "schema": SCHEMA},
                          "two": {"dsn": pg_dsn, "schema": f"{SCHEMA}_2", "session_table": "custom_sessions"}})
    result = run_cli("migrate", AGNO_SESSION_DSN_MAP=mapping)
    assert result.returncode == 0, result.stderr
    assert catalog.layout(SCHEMA)["tables"] == ["agno_runs", "agno_sessions"]
    assert catalog.layout(f"{SCHEMA}_2")["tables"] == ["custom_sessions", "custom_sessions_runs"]


def test_check_reports_the_layout(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    result = run_cli("check", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA, AGNO_DB_ID="cli-db")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"cli-db: ok; {SCHEMA}.agno_sessions (14 columns), "
                             f"{SCHEMA}.agno_runs (13 columns); db_id pinned by AGNO_DB_ID\n"
                             "cli-db: session counts not installed: lists count rows "
                             "(`agno-session migrate --indexes`)\n"
                             "cli-db: search index not installed: searches scan (`agno-session migrate --search`)\n"
                             "cli-db: change log not installed: GET /sessions/-/changes answers 503 "
                             "(`agno-session migrate --changes`)\n"
                             "cli-db: idempotency keys not installed: requests with an Idempotency-Key answer 503 "
                             "(`agno-session migrate --idempotency`)\n"
                             "cli-db: lifecycle tables not installed: archive, hold and erasure routes answer 503 "
                             "(`agno-session migrate --lifecycle`)\n")


def test_migrate_lifecycle_creates_its_tables_once_and_check_reports_them(pg_dsn: str, catalog: Inspector) -> None:
    env = {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_SCHEMA": SCHEMA, "AGNO_DB_ID": "cli-db"}
    assert run_cli("migrate", **env).returncode == 0
    before = catalog.layout(SCHEMA)
    assert run_cli("migrate", "--hold-trigger", **env).returncode == 2  # only with --lifecycle
    result = run_cli("migrate", "--lifecycle", **env)
    assert result.returncode == 0, result.stderr
    assert f"cli-db: tables {SCHEMA}.agno_sessions_svc_archived_sessions, " in result.stdout
    after = catalog.layout(SCHEMA)
    added = {f"agno_sessions_svc_{t}" for t in ("archived_sessions", "archived_runs", "holds", "erasures")}
    assert after["tables"] == sorted([*before["tables"], *added])
    assert {k: v for k, v in after["columns"].items() if k not in added} == before["columns"]
    assert "cli-db: lifecycle tables ok (archive, holds, erasures)\n" in run_cli("check", **env).stdout
    again = run_cli("migrate", "--lifecycle", **env)
    assert "cli-db: 0 changed" in again.stdout and catalog.layout(SCHEMA) == after


def test_migrate_idempotency_creates_the_key_table_once_and_check_reports_it(pg_dsn: str, catalog: Inspector) -> None:
    env = {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_SCHEMA": SCHEMA, "AGNO_DB_ID": "cli-db"}
    assert run_cli("migrate", **env).returncode == 0
    before = catalog.layout(SCHEMA)
    result = run_cli("migrate", "--idempotency", **env)
    assert result.returncode == 0, result.stderr
    assert f"cli-db: table {SCHEMA}.agno_sessions_svc_idempotency: created for Idempotency-Key answers" \
        in result.stdout
    after = catalog.layout(SCHEMA)
    assert after["tables"] == sorted([*before["tables"], "agno_sessions_svc_idempotency"])
    assert {k: v for k, v in after["columns"].items() if k != "agno_sessions_svc_idempotency"} == before["columns"]
    assert "cli-db: idempotency keys ok\n" in run_cli("check", **env).stdout
    again = run_cli("migrate", "--idempotency", **env)
    assert f"cli-db: table {SCHEMA}.agno_sessions_svc_idempotency: left as it was" in again.stdout
    assert catalog.layout(SCHEMA) == after


def test_check_fails_when_the_session_counts_drifted_until_migrate_recounts(pg_dsn: str, catalog: Inspector) -> None:
    env = {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_SCHEMA": SCHEMA, "AGNO_DB_ID": "cli-db"}
    assert run_cli("migrate", "--indexes", **env).returncode == 0
    table = f"{SCHEMA}.agno_sessions"
    catalog.rows(f"INSERT INTO {table} (session_id, session_type, created_at) VALUES ('a', 'agent', 1)")
    result = run_cli("check", **env)
    assert result.returncode == 0 and "cli-db: session counts ok\n" in result.stdout
    catalog.rows(f"ALTER TABLE {table} DISABLE TRIGGER agno_sessions_svc_count_insert")
    catalog.rows(f"INSERT INTO {table} (session_id, session_type, created_at) VALUES ('b', 'team', 1)")
    catalog.rows(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER agno_sessions_svc_count_insert")
    result = run_cli("check", **env)
    assert result.returncode == 1 and "cli-db: session counts differ from the table" in result.stdout
    assert run_cli("migrate", "--indexes", **env).returncode == 0
    result = run_cli("check", **env)
    assert result.returncode == 0 and "cli-db: session counts ok\n" in result.stdout


def test_check_uses_agentos_db_id_by_default(pg_dsn: str, catalog: Inspector) -> None:
    from service.core.config import agentos_db_id, masked_url

    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    result = run_cli("check", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA)
    assert result.returncode == 0
    assert result.stdout.startswith(f"{agentos_db_id(pg_dsn, SCHEMA)}: ok;")
    assert f"; db_id derived from {masked_url(pg_dsn)}#{SCHEMA}\n" in result.stdout


def test_check_notices_a_legacy_runs_column(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    catalog.rows(f"ALTER TABLE {SCHEMA}.agno_sessions ADD COLUMN runs jsonb")
    result = run_cli("check", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA, AGNO_DB_ID="cli-db")
    assert result.returncode == 0
    assert "agno_sessions (15 columns, legacy runs column)" in result.stdout


def test_check_fails_on_missing_tables_without_creating_them(pg_dsn: str, catalog: Inspector) -> None:
    result = run_cli("check", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA, AGNO_DB_ID="cli-db")
    assert result.returncode == 1
    assert result.stdout.startswith("cli-db: missing tables (run `agno-session migrate`);")
    assert catalog.layout(SCHEMA)["tables"] == []


def test_check_fails_when_only_the_runs_table_is_missing(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    catalog.rows(f"DROP TABLE {SCHEMA}.agno_runs")
    result = run_cli("check", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA)
    assert result.returncode == 1
    assert "missing tables" in result.stdout and "agno_runs (0 columns)" in result.stdout


def test_migrate_changes_installs_once_check_reports_and_drop_removes_it(pg_dsn: str, catalog: Inspector) -> None:
    env = {"AGNO_PG_DSN": pg_dsn, "AGNO_DB_SCHEMA": SCHEMA, "AGNO_DB_ID": "cli-db"}
    assert run_cli("migrate", **env).returncode == 0
    before = catalog.layout(SCHEMA)
    assert run_cli("migrate", "--changes", "--drop-changes", **env).returncode == 2  # one or the other
    result = run_cli("migrate", "--changes", **env)
    assert result.returncode == 0, result.stderr
    assert f"cli-db: tables {SCHEMA}.agno_sessions_svc_changes and {SCHEMA}.agno_sessions_svc_changes_state: " \
           "created" in result.stdout
    assert "cli-db: change log ok (triggers firing on both tables)\n" in run_cli("check", **env).stdout
    assert "cli-db: 0 changed" in run_cli("migrate", "--changes", **env).stdout
    dropped = run_cli("migrate", "--drop-changes", **env)
    assert f"cli-db: change log {SCHEMA}.agno_sessions_svc_changes: dropped" in dropped.stdout
    assert catalog.layout(SCHEMA) == before


def test_check_reports_each_database_and_fails_on_an_unreachable_one(pg_dsn: str, catalog: Inspector) -> None:
    assert run_cli("migrate", AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA).returncode == 0
    mapping = json.dumps({"good": {"dsn": pg_dsn, "schema": SCHEMA}, "gone": other_database(pg_dsn, "nope")})
    result = run_cli("check", AGNO_SESSION_DSN_MAP=mapping)
    assert result.returncode == 1
    side_tables = ("session counts", "search index", "change log", "idempotency keys", "lifecycle tables")
    lines = [line for line in result.stdout.splitlines() if not any(name in line for name in side_tables)]
    assert lines[0].startswith("good: ok;")
    assert lines[1].startswith("gone: cannot connect:") and "nope" in lines[1]


@pytest.mark.parametrize("argv", [["migrate"], ["retention", "plan"], ["erase", "--user-id", "u", "--dry-run"],
                                  ["export", "--output", os.devnull]])
def test_a_database_that_fails_is_one_line_and_exit_1(pg_dsn: str, tmp_path, argv: list[str]) -> None:
    """Every command says a database failure the same way: `agno-session <command>: <db_id>: <message>`."""
    policies = tmp_path / "retention.yaml"
    policies.write_text("policies:\n  - name: old\n    match: {}\n    after: 30d\n    action: archive\n")
    result = run_cli(*argv, AGNO_PG_DSN=other_database(pg_dsn, "nope"), AGNO_DB_ID="gone",
                     AGNO_RETENTION_FILE=str(policies))
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"agno-session {argv[0]}: gone: ") and "nope" in result.stderr, result.stderr


@pytest.mark.parametrize(("env", "variable"), [
    ({"AGNO_SERVICE_PORT": "eighty"}, "AGNO_SERVICE_PORT"),
    ({"AGNO_SERVICE_PORT": "70000"}, "AGNO_SERVICE_PORT"),
    ({"AGNO_SESSION_DSN_MAP": "{bad"}, "AGNO_SESSION_DSN_MAP"),
    ({"AGNO_SESSION_DSN_MAP": '{"x": 5}'}, "AGNO_SESSION_DSN_MAP"),
    ({"AGNO_REQUIRE_DB_ID": "maybe"}, "AGNO_REQUIRE_DB_ID"),
    ({"AGNO_DB_SCHEMA": "ai; DROP TABLE x"}, "AGNO_DB_SCHEMA"),
    ({"AGNO_SESSION_TABLE": "bad-name"}, "AGNO_SESSION_TABLE"),
    ({"AGNO_PG_DSN": "mysql://u@h/db"}, "AGNO_PG_DSN"),
    ({"AGNO_DEFAULT_DB_ID": "elsewhere"}, "AGNO_DEFAULT_DB_ID"),
    ({"AGNO_WORKERS": "0"}, "AGNO_WORKERS"),
    ({"AGNO_REQUEST_TIMEOUT": "soon"}, "AGNO_REQUEST_TIMEOUT"),
    ({"AGNO_MIGRATE_TIMEOUT": "0"}, "AGNO_MIGRATE_TIMEOUT"),
    ({"AGNO_MIGRATE_LOCK_TIMEOUT": "soon"}, "AGNO_MIGRATE_LOCK_TIMEOUT"),
    ({"AGNO_AUTHORIZATION": "true"}, "AGNO_AUTHORIZATION"),
    ({"JWT_VERIFICATION_KEY": "k" * 40, "AGNO_JWT_ALGORITHM": "XS999"}, "AGNO_JWT_ALGORITHM"),
    ({"JWT_JWKS_FILE": "/nonexistent/jwks.json"}, "JWT_JWKS_FILE"),
])
@pytest.mark.parametrize("command", ["check", "migrate"])
def test_configuration_mistakes_exit_2_naming_the_variable(pg_dsn: str, catalog: Inspector, command: str,
                                                           env: dict, variable: str) -> None:
    result = run_cli(command, **{"AGNO_PG_DSN": pg_dsn, "AGNO_DB_SCHEMA": SCHEMA, **env})
    assert result.returncode == 2
    assert result.stderr.startswith("agno-session: configuration error: ")
    assert variable in result.stderr
    assert result.stdout == ""
    assert catalog.layout(SCHEMA)["tables"] == []  # nothing was touched


@pytest.mark.parametrize("flag", [["--timeout", "0"], ["--lock-timeout", "soon"], ["--timeout", "-5"]])
def test_migrate_refuses_a_bad_time_limit_and_changes_nothing(pg_dsn: str, catalog: Inspector, flag: list) -> None:
    result = run_cli("migrate", *flag, AGNO_PG_DSN=pg_dsn, AGNO_DB_SCHEMA=SCHEMA)
    assert result.returncode == 2
    assert f"argument {flag[0]}: expected seconds between 0 and 86400" in result.stderr
    assert catalog.layout(SCHEMA)["tables"] == []


def test_serve_refuses_bad_configuration_before_starting(pg_dsn: str) -> None:
    result = run_cli("serve", AGNO_PG_DSN=pg_dsn, AGNO_SERVICE_PORT="eighty")
    assert result.returncode == 2
    assert "AGNO_SERVICE_PORT" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
