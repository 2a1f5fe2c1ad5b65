"""The locks in requirements/ must say what their inputs say, so an install never differs from the reviewed files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the test lock starts at 3.11; tomli comes with pytest on 3.10
    import tomli as tomllib

from tests.support.locks import Locked, installed_on, read_lock

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PYPROJECT_VIA = "agno-session (pyproject.toml)"


def read_inputs(lines: list[str]) -> dict[NormalizedName, Requirement]:
    """Requirement strings (comments and blank lines ignored) by normalised name."""
    found: dict[NormalizedName, Requirement] = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if text:
            req = Requirement(text)
            found[canonicalize_name(req.name)] = req
    return found


def pyproject_inputs(*extras: str) -> dict[NormalizedName, Requirement]:
    """The service's dependencies from pyproject.toml, with the named extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return read_inputs(lines)


def tool_inputs(name: str) -> dict[NormalizedName, Requirement]:
    """A tool environment's top-level requirements from requirements/<name>.in."""
    return read_inputs((LOCKS / f"{name}.in").read_text().splitlines())


TOOLS = sorted(p.stem for p in LOCKS.glob("*.in"))
CASES = [
    ("service.txt", lambda: pyproject_inputs(), PYPROJECT_VIA),
    ("service-test.txt", lambda: pyproject_inputs("test"), PYPROJECT_VIA),
    *[(f"{tool}.txt", lambda tool=tool: tool_inputs(tool), f"-r requirements/{tool}.in") for tool in TOOLS],
]


def disagreements(lock: list[Locked], inputs: dict[NormalizedName, Requirement], via: str) -> list[str]:
    """What differs between a lock and its inputs: top-level names, versions outside a range, entries without hashes."""
    problems = []
    top_level = {entry.name for entry in lock if via in entry.via}
    for name in sorted(inputs.keys() - top_level):
        problems.append(f"{name} is required by the input but not locked as a top-level entry (run `make lock`)")
    for name in sorted(top_level - inputs.keys()):
        problems.append(f"{name} is locked as a top-level entry but no longer in the input (run `make lock`)")
    for entry in lock:
        req = inputs.get(entry.name)
        if req is not None and not req.specifier.contains(entry.version, prereleases=True):
            problems.append(f"{entry.name}=={entry.version} is locked but the input asks for {req}")
        if not entry.hashes:
            problems.append(f"{entry.name}=={entry.version} has no hash")
    return problems


@pytest.mark.parametrize(("lock_name", "inputs", "via"), CASES, ids=[case[0] for case in CASES])
def test_lock_agrees_with_its_input(lock_name: str, inputs, via: str) -> None:
    lock = read_lock(LOCKS / lock_name)
    assert lock, f"{lock_name} locks nothing"
    assert disagreements(lock, inputs(), via) == []


def test_every_input_has_a_lock_and_every_lock_an_input() -> None:
    expected = {"service.txt", "service-test.txt", *(f"{tool}.txt" for tool in TOOLS)}
    assert {p.name for p in LOCKS.glob("*.txt")} == expected
    assert {"pip", "build", "agentos", "proxy", "deploy-tools", "checkov"} <= set(TOOLS)


def test_the_build_lock_meets_pyproject_build_requirements() -> None:
    """The project is built with --no-build-isolation from requirements/build.txt: it must hold [build-system]."""
    requires = read_inputs(tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"])
    locked = {entry.name: entry.version for entry in read_lock(LOCKS / "build.txt")}
    for name, req in requires.items():
        assert name in locked, f"pyproject.toml's build requirement {req} is not in requirements/build.txt"
        assert req.specifier.contains(locked[name]), f"build.txt locks {name}=={locked[name]}, pyproject asks {req}"


PYTHONS = ["3.11.2", "3.12.8"]  # Debian bookworm's (this machine's base image) and python:3.12-slim's


@pytest.mark.parametrize("python", PYTHONS)
def test_the_tests_run_the_versions_the_image_ships(python: str) -> None:
    """Every runtime package is installed by the test lock at the same version (it is compiled under the other)."""
    shipped = installed_on(read_lock(LOCKS / "service.txt"), python)
    names = {name for name, _ in shipped}
    tested = {(name, version) for name, version in installed_on(read_lock(LOCKS / "service-test.txt"), python)
              if name in names}
    assert shipped == tested


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("beside", ["service.txt", "service-test.txt"])
def test_the_build_lock_agrees_with_what_it_is_installed_beside(python: str, beside: str) -> None:
    """.venv installs build.txt then the test lock into one environment: a package in both has one version."""
    build = dict(installed_on(read_lock(LOCKS / "build.txt"), python))
    other = dict(installed_on(read_lock(LOCKS / beside), python))
    differing = {name: (version, other[name]) for name, version in build.items() if other.get(name, version) != version}
    assert differing == {}


def test_a_range_the_lock_does_not_meet_is_reported() -> None:
    """The check itself: a range moved past the locked version, a dropped input and a missing hash are all named."""
    lock = read_lock(LOCKS / "service.txt")
    inputs = pyproject_inputs()
    inputs[canonicalize_name("flask")] = Requirement("flask>=99")
    del inputs[canonicalize_name("orjson")]
    unhashed = [Locked(e.name, e.version, e.marker, (), e.via) for e in lock]
    problems = disagreements(unhashed, inputs, PYPROJECT_VIA)
    assert any(p.startswith("flask==") and "flask>=99" in p for p in problems)
    assert any(p.startswith("orjson is locked") for p in problems)
    assert any(p.endswith("has no hash") for p in problems)
