"""The contract test's world: one PostgreSQL, the real AgentOS and agno-session side by side in three setups.

Everything is started here, from nothing: an embedded PostgreSQL, the reference AgentOS (uvicorn, from the
reference virtualenv) which creates its own tables, the dataset written through agno's own API, a pristine
snapshot of it, then agno-session (gunicorn) on the very same databases and configuration.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from service.core.config import agentos_db_id
from tests.contract import deviations, replay
from tests.contract.jwt_setups import jwt_setups
from tests.contract.tables import Tables, compare_rows
from tests.support.servers import Server, free_port, launch

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "tests" / "contract" / "seed.py"
SECURITY_KEY = "contract-secret"
ERASURE_KEY = "contract-erasure-key-0123456789"  # agno-session's AGNO_ERASURE_KEY (AgentOS has no erasure)


@dataclass
class Database:
    """One logical database as both servers know it: its agno URL, db_id and tables."""

    url: str  # SQLAlchemy form, exactly as AgentOS is configured (the db_id derives from it)
    tables: Tables
    db_id: str = ""

    def __post_init__(self) -> None:
        self.db_id = agentos_db_id(self.url, self.tables.schema)

    @property
    def dsn(self) -> str:
        """libpq form for direct access."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def reference_spec(self) -> dict:
        """This database in reference_app's REF_DB_URLS format."""
        spec = {"url": self.url, "schema": self.tables.schema}
        if self.tables.sessions != "agno_sessions":
            spec |= {"session_table": self.tables.sessions, "runs_table": self.tables.runs}
        return spec

    def service_entry(self) -> dict | str:
        """This database in agno-session's AGNO_SESSION_DSN_MAP format."""
        if self.tables.sessions == "agno_sessions" and self.tables.schema == "ai":
            return self.url
        return {"dsn": self.url, "schema": self.tables.schema, "session_table": self.tables.sessions,
                "runs_table": self.tables.runs}


@dataclass
class Pair:
    """The same configuration served twice: A is the real AgentOS, B is agno-session."""

    name: str
    a: Server
    b: Server
    databases: list[Database]
    variables: dict[str, str] = field(default_factory=dict)


class Cluster:
    """Start PostgreSQL, seed it through agno, and serve three configurations with both implementations."""

    def __init__(self, reference_python: str) -> None:
        self.reference_python = reference_python
        self.workdir = Path(tempfile.mkdtemp(prefix="agno-contract-"))
        self.servers: list[Server] = []
        self.pairs: dict[str, Pair] = {}
        self._pg = None

    def start(self) -> Cluster:
        """Bring everything up; on any failure, tear down what was started and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        socket_dir = self._start_postgres()
        main = Database(f"postgresql+psycopg://postgres@/contract?host={socket_dir}", Tables())
        other = Database(f"postgresql+psycopg://postgres@/contract_multi?host={socket_dir}",
                         Tables(schema="ai2", sessions="custom_sessions", runs="custom_sessions_runs"))
        setups = {
            "single": ([main], {"AGNO_ERASURE_KEY": ERASURE_KEY}),
            "multi": ([main, other], {}),
            "auth": ([main], {"OS_SECURITY_KEY": SECURITY_KEY}),
        }
        jwt = {js.name: js for js in jwt_setups(self.workdir)}
        # The reference comes first and creates its own tables at start-up, as in production.
        references = {name: self._reference(name, dbs, env) for name, (dbs, env) in setups.items()}
        references |= {name: self._reference(name, [main], js.reference_env()) for name, js in jwt.items()}
        for server in references.values():
            server.wait_healthy()
        self._migrate_indexes([main, other])
        for db in (main, other):
            self._seed(db)
            db.tables.snapshot(db.dsn)
        services = {name: self._service(name, dbs, env) for name, (dbs, env) in setups.items()}
        services |= {name: self._service(name, [main], js.agno_session_env()) for name, js in jwt.items()}
        for server in services.values():
            server.wait_healthy()
        base = {"DB_ID": main.db_id, "DB_ID_2": other.db_id, "KEY": SECURITY_KEY}
        for name, (dbs, _) in setups.items():
            self.pairs[name] = Pair(name, references[name], services[name], dbs, dict(base))
        for name, js in jwt.items():
            self.pairs[name] = Pair(name, references[name], services[name], [main], {**base, **js.tokens()})

    def _start_postgres(self) -> str:
        """An embedded server in the work dir, with the two databases the setups use."""
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import psycopg2

        from service.embedded import embedded_server

        self._pg = embedded_server(self.workdir / "pgdata", cleanup_mode="delete")  # waits out a slow first start
        admin = psycopg2.connect(self._pg.get_uri())
        admin.autocommit = True
        with admin.cursor() as cur:
            for name in ("contract", "contract_multi"):
                cur.execute(f"CREATE DATABASE {name}")
        admin.close()
        return str(self._pg.get_postmaster_info().socket_dir)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Server:
        port = free_port()
        log = self.workdir / f"{name}.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "REF_"))}
        full_env |= {k: v.replace("{port}", str(port)) for k, v in env.items()}
        argv = [a.replace("{port}", str(port)) for a in argv]
        server = launch(name, argv, full_env, port, REPO, log)
        self.servers.append(server)
        return server

    def _reference(self, setup: str, dbs: list[Database], env: dict[str, str]) -> Server:
        """The real AgentOS under uvicorn."""
        argv = [self.reference_python, "-m", "uvicorn", "tests.contract.reference_app:app",
                "--host", "127.0.0.1", "--port", "{port}", "--log-level", "warning"]
        ref_env = {"REF_DB_URLS": json.dumps([db.reference_spec() for db in dbs]), **env}
        return self._spawn(f"agentos-{setup}", argv, ref_env)

    def _service(self, setup: str, dbs: list[Database], env: dict[str, str]) -> Server:
        """agno-session under gunicorn, configured as an operator would: same URLs, same key."""
        service_env = {
            "AGNO_SESSION_DSN_MAP": json.dumps({db.db_id: db.service_entry() for db in dbs}),
            "AGNO_REQUIRE_DB_ID": "true" if len(dbs) > 1 else "false",
            "AGNO_SERVICE_HOST": "127.0.0.1",
            "AGNO_SERVICE_PORT": "{port}",
            "AGNO_WORKERS": "1",
            "AGNO_THREADS": "4",
            "AGNO_LOG_LEVEL": "WARNING",
            **env,
        }
        return self._spawn(f"agno-session-{setup}", [sys.executable, "-m", "service.cli", "serve"], service_env)

    def _migrate_indexes(self, dbs: list[Database]) -> None:
        """This service's indexes and session counts, as an operator adds them: AgentOS's own writes (the seed, the
        write corpus) then go through the counts' triggers, and the list totals compared come from the counts."""
        migrate(dbs, "--indexes")

    def _seed(self, db: Database) -> None:
        """The dataset, written only through agno's own PostgresDb API (plus its documented raw-SQL rows)."""
        argv = [self.reference_python, str(SEED), "--dsn", db.url, "--schema", db.tables.schema]
        if db.tables.sessions != "agno_sessions":
            argv += ["--session-table", db.tables.sessions, "--runs-table", db.tables.runs, "--no-raw-sql-extras",
                     "--no-side-rows"]
        done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
        if done.returncode:
            raise RuntimeError(f"seeding {db.url} failed:\n{done.stdout}\n{done.stderr}")

    def restore(self) -> None:
        """Every database back to the seeded state."""
        for db in {db.url: db for pair in self.pairs.values() for db in pair.databases}.values():
            db.tables.restore(db.dsn)

    def stop(self) -> None:
        """Stop every server, then PostgreSQL, and remove the work dir."""
        for server in self.servers:
            server.stop()
        if self._pg is not None:
            self._pg.cleanup()
        shutil.rmtree(self.workdir, ignore_errors=True)


def migrate(dbs: list[Database], *options: str) -> None:
    """`agno-session migrate <options>` on the databases, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGNO_", "OS_SECURITY", "REF_"))}
    env["AGNO_SESSION_DSN_MAP"] = json.dumps({db.db_id: db.service_entry() for db in dbs})
    done = subprocess.run([sys.executable, "-m", "service.cli", "migrate", *options], cwd=REPO, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"agno-session migrate {' '.join(options)} failed:\n{done.stdout}\n{done.stderr}")


def corpus(name: str, variables: dict[str, str] | None = None) -> list[replay.Request]:
    """The requests of tests/contract/<name>.txt, placeholders filled in when variables are given."""
    path = REPO / "tests" / "contract" / f"{name}.txt"
    fill = variables or PLACEHOLDERS
    return replay.parse_corpus(path.read_text(encoding="utf-8"), f"{name}.txt", fill)


PLACEHOLDERS = {"DB_ID": "<db-id>", "DB_ID_2": "<db-id-2>", "KEY": "<key>", "ISOLATION": "<isolation>",
                **{f"T_{name}": f"<token-{name.lower()}>" for name in (
                    "U1", "U2", "U3", "ADMIN", "DEFAULT_ADMIN", "READ", "WRITE", "DELETE", "NOSCOPE", "STRSCOPE",
                    "SPACED", "WILD", "PERID", "STAR", "NONSTR", "SCOPEOBJ", "EMPTYSUB", "NOSUB", "ADMIN_NOSUB",
                    "EXPIRED", "LEEWAY", "EXPSTR", "NBF", "IAT", "NOEXP", "SUBINT", "JTIINT", "RESERVED", "NULSUB",
                    "SCHEDULER", "BADSIG", "TAMPERED", "ALGNONE", "CONFUSED", "KIDLESS", "BADKID", "WRONGISS",
                    "NOISS", "WRONGAUD", "AUDLIST", "NOAUD")}}
DECLARED_HITS: Counter[str] = Counter()  # how often each declared deviation explained a difference this run


def report(req: replay.Request, a: replay.Response, b: replay.Response, problems: list[str]) -> str:
    """A readable account of an undeclared difference: the request, then each difference."""
    body = "" if req.body is None else "\t" + req.body.decode("utf-8", "replace")[:300]
    lines = [f"undeclared difference {a.status}/{b.status} {req.method} {req.target}{body}  [{req.where}]"]
    lines += [f"  {p}" for p in problems]
    lines.append("  (declare it in tests/contract/deviations.json and docs/compatibility.md if it is deliberate)")
    return "\n".join(lines)


_DETAIL_SHAPED = re.compile(r"(?:GET|HEAD) /sessions/(?!-/)[^/]+/?|POST /sessions/?|PATCH /sessions/[^/]+(?:/state)?/?"
                            r"|POST /sessions/[^/]+/rename/?")


def entity_tags(req: replay.Request) -> Callable[[replay.Response], None]:
    """Deviation `preconditions`, the one header the comparison leaves out that B adds: a strong ETag on every 2xx
    detail-shaped answer, none on any other answer."""
    shaped = _DETAIL_SHAPED.fullmatch(f"{req.method} {req.target.partition('?')[0]}") is not None

    def inspect(b: replay.Response) -> None:
        tag = b.headers.get("etag")
        if shaped and 200 <= b.status < 300:
            assert tag is not None and re.fullmatch(r'"[0-9a-f]{32}"', tag), (req.method, req.target, tag)
        else:
            assert tag is None, (req.method, req.target, b.status, tag)

    return inspect


def check_read(pair: Pair, req: replay.Request, devs: list[deviations.Deviation],
               inspect_b: Callable[[replay.Response], None] | None = None) -> str | None:
    """Send to both; equal answers pass, a declared deviation passes (its name is returned), else fail.
    `inspect_b` checks what only B must do (headers the comparison leaves out)."""
    a, b = replay.send(pair.a.url, req), replay.send(pair.b.url, req)
    if inspect_b is not None:
        inspect_b(b)
    problems = replay.compare(a, b)
    if not problems:
        return None
    name = deviations.explain(devs, req, a, b)
    assert name, report(req, a, b, problems)
    DECLARED_HITS[name] += 1
    return name


def check_write(pair: Pair, req: replay.Request, devs: list[deviations.Deviation],
                inspect_b: Callable[[replay.Response], None] | None = None) -> str | None:
    """The write from the same restored state on A then on B; answers and both tables must agree."""
    db = pair.databases[0]
    db.tables.restore(db.dsn)
    a = replay.send(pair.a.url, req)
    rows_a = db.tables.dump(db.dsn)
    db.tables.restore(db.dsn)
    b = replay.send(pair.b.url, req)
    rows_b = db.tables.dump(db.dsn)
    if inspect_b is not None:
        inspect_b(b)
    low = min(a.sent_at, b.sent_at) - replay.NOW_WINDOW_S
    high = max(a.received_at, b.received_at) + replay.NOW_WINDOW_S
    row_problems = compare_rows(rows_a, rows_b, low, high)
    problems = replay.compare(a, b) + row_problems
    if not problems:
        return None
    name = deviations.explain(devs, req, a, b, row_problems=row_problems)
    assert name, report(req, a, b, problems)
    DECLARED_HITS[name] += 1
    return name
