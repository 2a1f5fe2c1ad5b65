"""A non-editable install (what a container image gets) must carry every module and every SQL file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_all_packages_and_sql_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("agno_session-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "service").rglob("*.py")}
    assert modules <= names
    sql_files = {f"sql/{p.name}" for p in (ROOT / "sql").glob("*.sql")}
    shipped = {n.split("/share/agno-session/", 1)[1] for n in names if "/share/agno-session/sql/" in n}
    assert sql_files and shipped == sql_files
    assert any(n.endswith(".data/data/share/agno-session/openapi.yaml") for n in names)  # served by /openapi.*
