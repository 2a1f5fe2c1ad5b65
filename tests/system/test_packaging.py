"""An installed copy (not the checkout) must find its own SQL files and OpenAPI document and serve with them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.support.servers import AgnoSession

ROOT = Path(__file__).resolve().parents[2]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
RUNTIME_LOCK = ROOT / "requirements" / "service.txt"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A copy of the tree without build leftovers: a stale build/ directory would hide a missing data file.
    source = tmp_path_factory.mktemp("source") / "tree"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "reports"))
    # Built with the locked build backend already in .venv (no isolation: nothing unlocked is fetched).
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(source)],
                   check=True, capture_output=True)
    (built,) = out.glob("agno_session-*.whl")
    return built


def test_wheel_ships_all_packages_sql_files_and_spec_inside_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "service").rglob("*.py")}
    assert modules <= names
    sql_files = {p.name for p in (ROOT / "sql").glob("*.sql")}
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("service/storage/sql/")}
    assert sql_files and shipped == sql_files
    assert "service/api/openapi.yaml" in names
    assert not any(".data/" in n for n in names)  # nothing installed outside the package


def _install(python: str, wheel: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """As docs/dependencies.md installs a release: the runtime lock with hashes, then the wheel alone."""
    _pip(python, *args, "--require-hashes", "-r", str(RUNTIME_LOCK), env=env)
    _pip(python, *args, "--no-deps", str(wheel), env=env)


def _pip(python: str, *args: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]


def _serves_a_list(cli: str, pg_dsn: str, cwd: Path, env: dict[str, str]) -> None:
    """Start the installed console script away from the checkout; the first query needs the shipped SQL."""
    server = AgnoSession({"AGNO_PG_DSN": pg_dsn, **env}, workers=1, threads=2, cli=cli, cwd=cwd)
    try:
        status, _, body = server.request("GET", "/sessions")
        assert status == 200, body
        assert json.loads(body)["meta"]["page"] == 1
        status, _, spec = server.request("GET", "/openapi.yaml")
        assert status == 200 and spec.startswith(b"openapi: 3.1")
    finally:
        server.stop()


def test_wheel_in_a_fresh_venv_serves(wheel: Path, pg_dsn: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _install(str(venv / "bin" / "python"), wheel)
    _serves_a_list(str(venv / "bin" / "agno-session"), pg_dsn, tmp_path, {})


def test_wheel_installed_with_user_serves(wheel: Path, pg_dsn: str, tmp_path: Path) -> None:
    user_base = tmp_path / "userbase"
    env = {**os.environ, "PYTHONUSERBASE": str(user_base), "PIP_BREAK_SYSTEM_PACKAGES": "1"}
    env.pop("VIRTUAL_ENV", None)
    _install(str(BASE_PYTHON), wheel, "--user", env=env)
    scripts = Path(sysconfig.get_path("scripts", f"{os.name}_user", vars={"userbase": str(user_base)}))
    _serves_a_list(str(scripts / "agno-session"), pg_dsn, tmp_path, {"PYTHONUSERBASE": str(user_base)})
