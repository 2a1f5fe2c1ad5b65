"""The proxy's modules import one another without a circle (addons find each other at run time, never by import)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "proxy"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    """Each proxy module and the proxy modules it names in any import, TYPE_CHECKING ones included."""
    modules = {_module(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            graph[name] |= {target for target in named if target in modules and target not in (name, "proxy")}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports as the path that closes it (graphlib's own finding), or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        return exc.args[1]
    return []


def test_the_cycle_finder_sees_a_circle() -> None:
    found = cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()})
    assert found[0] == found[-1] and sorted(found[1:]) == ["a", "b", "c"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_proxy_module_imports_another_in_a_circle() -> None:
    graph = import_graph()
    assert "proxy.addon" in graph and graph["proxy.shadow"], "the import graph came out empty"
    assert cycle(graph) == []
