"""The layers as the README draws them: imports point one way, and importing a module has no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOUNDATION = "service.core"  # every layer may use it; it imports nothing above it
# A layer's own settings, which core's Settings composes: they live with their layer but import only the foundation.
LAYER_SETTINGS = {"service.auth.settings"}
# What each layer may import from the project, besides itself and the foundation. Bottom up: rules and storage know
# nothing of each other or of auth; auth applies a rule (a token subject must be storable); lib and api use both.
# Anything else (app, cli, embedded, server/, preflight/, commands/) is wiring: it may import every layer, none
# imports it.
ALLOWED = {
    "rules": set(),
    "storage": set(),
    "auth": {"rules"},
    "lib": {"storage", "auth"},
    "api": {"rules", "storage", "auth"},
}
# The service's root holds only what a newcomer starts from: the app factory, the CLI, and the embedded database they
# both start; everything else lives in a package.
ROOT_MODULES = {"__init__.py", "app.py", "cli.py", "embedded.py"}


def _layer(module: str) -> str:
    if module == FOUNDATION or module.startswith(FOUNDATION + "."):
        return "foundation"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and f"{parts[1]}.py" not in ROOT_MODULES else "wiring"


def _imports() -> list[tuple[str, str]]:
    edges = []
    for path in (ROOT / "service").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "service":
                edges += [(module, node.module)]
            elif isinstance(node, ast.Import):
                edges += [(module, a.name) for a in node.names if a.name.split(".")[0] == "service"]
    return edges


def _wrong(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The imports that run against the layers."""
    wrong = []
    for importer, imported in edges:
        source, target = _layer(importer), _layer(imported)
        if importer in LAYER_SETTINGS or source == "foundation":
            if target != "foundation" and not (source == "foundation" and imported in LAYER_SETTINGS):
                wrong.append((importer, imported))
        elif source in ALLOWED and target not in ALLOWED[source] | {source, "foundation"}:
            wrong.append((importer, imported))
    return wrong


def test_imports_point_one_way() -> None:
    assert _wrong(_imports()) == []


@pytest.mark.parametrize("edge", [
    ("service.core.logs", "service.storage.pool"),  # the foundation reaching up
    ("service.core.config", "service.auth.tokens"),  # core composes auth's settings, nothing else of auth
    ("service.auth.settings", "service.rules.validation.storable"),  # a layer's settings import only the foundation
    ("service.auth.caller", "service.storage.pool"),
    ("service.rules.writes", "service.auth.caller"),
    ("service.storage.sessions", "service.auth.caller"),
    ("service.lib.memory", "service.api.auth"),
    ("service.api.sessions", "service.server.worker"),
    ("service.api.sessions", "service.cli"),
])
def test_a_wrong_import_is_caught(edge: tuple[str, str]) -> None:
    """The check above can fail: each of these would break the layering."""
    assert _wrong([edge]) == [edge]


# Inside rules/: what a request may be and what a write stores never depend on how an answer is projected. The shapes
# agno stores (rules/agno.py) sit beneath validation, the writes and render alike, so none of them reaches sideways.
BENEATH_RENDER = ("service.rules.agno", "service.rules.validation", "service.rules.writes", "service.rules.state_merge")
RENDER = "service.rules.render"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _reaching_render(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The imports from validation, the writes or agno's shapes into the projection."""
    return [(importer, imported) for importer, imported in edges
            if any(_within(importer, p) for p in BENEATH_RENDER) and _within(imported, RENDER)]


def test_validation_and_writes_never_import_render() -> None:
    assert _reaching_render(_imports()) == []


@pytest.mark.parametrize("edge", [
    ("service.rules.validation.parsers", "service.rules.render.summary"),
    ("service.rules.writes", "service.rules.render"),
    ("service.rules.agno", "service.rules.render.timestamps"),
])
def test_a_reach_into_render_is_caught(edge: tuple[str, str]) -> None:
    assert _reaching_render([edge]) == [edge]


def test_the_service_root_is_a_map() -> None:
    """Only the entry points sit at the top of `service/`; a new module belongs in a layer's package."""
    assert {p.name for p in (ROOT / "service").glob("*.py")} == ROOT_MODULES


@pytest.mark.parametrize(("module", "absent"), [
    ("service.lib.state", ("flask", "werkzeug", "psycopg2")),
    ("service.lib.workflow", ("flask", "werkzeug")),
    ("service.lib.memory", ("flask", "werkzeug")),
    ("service.rules.render", ("flask", "psycopg2")),
    ("service.rules.validation.parsers", ("flask", "psycopg2")),
    ("service.storage.sessions", ("flask", "werkzeug")),
    ("service.auth", ("flask", "werkzeug", "psycopg2", "jwt")),
    ("service.auth.tokens", ("flask", "werkzeug", "psycopg2")),
    ("service.auth.scopes", ("flask", "werkzeug", "psycopg2", "jwt")),
    ("service.auth.caller", ("flask", "werkzeug", "psycopg2", "jwt")),
    ("service.core", ("flask", "werkzeug", "psycopg2", "jwt", "prometheus_client")),
    # PyJWT is loaded only when JWT mode is configured; prometheus_client must wait for its directory (serve).
    ("service.core.config", ("flask", "werkzeug", "psycopg2", "jwt", "prometheus_client")),
    ("service.server.metrics_dir", ("flask", "psycopg2", "prometheus_client")),
    # `serve` starts from the CLI: had it loaded prometheus_client, every worker would count in its own memory.
    ("service.cli", ("flask", "prometheus_client")),
])
def test_importing_loads_only_its_layer_and_changes_nothing(module: str, absent: tuple[str, ...]) -> None:
    probe = (f"import sys; limit = sys.getrecursionlimit(); import {module}; "
             f"print([m for m in {absent!r} if m in sys.modules], sys.getrecursionlimit() == limit)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[] True"


def test_no_merge_conflict_markers_are_committed() -> None:
    """A merge resolved in a hurry must not ship its markers (a README once carried them)."""
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    marked = []
    for name in tracked.splitlines():
        path = ROOT / name
        if path.is_file() and not path.is_symlink():
            text = path.read_text(encoding="utf-8", errors="replace")
            marked += [name for line in text.splitlines() if line.startswith(("<<<<<<< ", ">>>>>>> "))][:1]
    assert marked == []


# Module names that occur more than once under service/ because they hold the same concern at different layers.
SHARED_NAMES = {
    "changes.py": "the change feed: its routes (api), its cursors, event types and event shape (rules), its log "
                  "(storage)",
    "errors.py": "each package's own exceptions, in its own words: rules (ApiError), rules/validation (FastAPI's "
                 "422/400), storage (driver errors translated); the API layer maps them in error_handlers.py",
    "sessions.py": "the /sessions resource at each layer: its routes (api), its projection (rules/render), its "
                   "queries (storage)",
    "memory.py": "per-user memory: the library's API (lib) over its queries (storage)",
    "workflow.py": "workflow runs: the library's API (lib) over its queries (storage)",
    "lifecycle.py": "the session lifecycle: its routes (api), its answers' wording (rules), its side tables and "
                    "moves (storage)",
    "state_merge.py": "the state-merge extension: its route (api) and its RFC 7396 rule (rules)",
    "history.py": "the history-window extension: its route (api), its window over run messages (rules/render), its "
                  "paged run reads (storage)",
    "search.py": "the message-search extension: its route (api) and its hits as answered (rules/render)",
    "erasure.py": "the erasure extension: its routes (api), its receipt and keyed user hash (rules), its steps and "
                  "batches (storage), its command (commands)",
    "retention.py": "the retention policies: their command (commands) over their matching and batches (storage)",
    "portability.py": "the portability extension: its routes (api) and its export, import and copy commands (commands)",
    "idempotency.py": "the idempotency-keys extension: its route decorator (api), its header rules (rules), its key "
                      "table (storage)",
}


def test_module_names_under_service_are_unique_unless_one_concern_spans_layers() -> None:
    """No two modules of one name meaning different things; an allowed name must still be shared (no stale entry)."""
    places: dict[str, list[str]] = {}
    for path in sorted((ROOT / "service").rglob("*.py")):
        if path.name != "__init__.py":
            places.setdefault(path.name, []).append(str(path.parent.relative_to(ROOT)))
    shared = {name: where for name, where in places.items() if len(where) > 1}
    assert sorted(set(shared) - set(SHARED_NAMES)) == [], shared
    assert sorted(set(SHARED_NAMES) - set(shared)) == []
def _imported_roots(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every absolute import in the Python files under `folder`; `from a import b`
    counts as both `a` and `a.b` (b may be a module)."""
    found = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((str(path.relative_to(ROOT)), node.module))
                found += [(str(path.relative_to(ROOT)), f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), a.name) for a in node.names]
    return found


def test_tooling_imports_point_one_way() -> None:
    """bench/ may use the tests' support code, never the reverse; the service imports neither; tests.support is
    the bottom of tests/ (it imports no test module)."""
    wrong = [(f, m) for f, m in _imported_roots("tests") if m.split(".")[0] == "bench"]
    wrong += [(f, m) for f, m in _imported_roots("service") if m.split(".")[0] in ("tests", "bench", "scripts")]
    wrong += [(f, m) for f, m in _imported_roots("tests/support")
              if m.split(".")[0] == "tests" and not m.startswith("tests.support")]
    assert wrong == []


def test_no_module_patches_the_import_path() -> None:
    """Every entry point runs as a module from the repository root (`python -m bench`, `-m scripts.fuzz`), so no
    file edits sys.path: a second copy of a module under another name is how import cycles hide."""
    edits = ("sys.path.insert", "sys.path.append")
    patched = [str(path.relative_to(ROOT)) for folder in ("service", "bench", "scripts", "tests", "proxy")
               for path in (ROOT / folder).rglob("*.py")
               if path != Path(__file__).resolve() and any(e in path.read_text(encoding="utf-8") for e in edits)]
    assert patched == []


def _test_module_imports(files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(file, module) where a test module or conftest imports a test module: shared code belongs in tests/support."""
    return [(f, m) for f, m in files
            if m.split(".")[0] == "tests" and any(part.startswith("test_") for part in m.split("."))]


def test_no_test_module_imports_another() -> None:
    """A test module imports tests.support (and gets fixtures from conftest), never another test module: moving or
    deleting one test file must not break a second one."""
    assert _test_module_imports(_imported_roots("tests")) == []


def test_a_test_module_importing_another_is_caught() -> None:
    """The check above can fail."""
    edges = [("tests/system/test_replica.py", "tests.integration.test_metrics"),
             ("tests/system/test_front_server.py", "tests.system.test_server.patch_during_sigterm")]
    assert _test_module_imports([*edges, ("tests/system/test_replica.py", "tests.support.metrics")]) == edges
