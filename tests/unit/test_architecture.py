"""The layers as the README draws them: imports point one way, and importing a module has no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOUNDATION = {"service", "service.config", "service.env_values", "service.json_codec", "service.logs",
              "service.auth_settings", "service.identity"}
# What each layer may import from the project, besides itself and the foundation.
ALLOWED = {
    "rules": set(),
    "storage": set(),
    "lib": {"storage"},
    "api": {"rules", "storage"},
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and module not in FOUNDATION) else "foundation"


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


def test_imports_point_one_way() -> None:
    wrong = []
    for importer, imported in _imports():
        source, target = _layer(importer), _layer(imported)
        if source == "foundation" and target != "foundation" and importer in FOUNDATION:
            wrong.append((importer, imported))
        elif source in ALLOWED and target not in ALLOWED[source] | {source, "foundation"}:
            wrong.append((importer, imported))
    assert wrong == []


@pytest.mark.parametrize(("module", "absent"), [
    ("service.lib.state", ("flask", "werkzeug", "psycopg2")),
    ("service.lib.workflow", ("flask", "werkzeug")),
    ("service.lib.memory", ("flask", "werkzeug")),
    ("service.rules.render", ("flask", "psycopg2")),
    ("service.rules.validation.requests", ("flask", "psycopg2")),
    ("service.storage.sessions", ("flask", "werkzeug")),
    ("service.rules.tokens", ("flask", "werkzeug", "psycopg2")),
    ("service.rules.scopes", ("flask", "werkzeug", "psycopg2", "jwt")),
    ("service.identity", ("flask", "werkzeug", "psycopg2", "jwt")),
    ("service.config", ("flask", "werkzeug", "psycopg2", "jwt")),  # PyJWT is loaded only when JWT mode is configured
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


def _imported_roots(folder: str) -> list[tuple[str, str]]:
    """(file, imported top-level name) for every absolute import in the Python files under `folder`."""
    found = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((str(path.relative_to(ROOT)), node.module))
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
