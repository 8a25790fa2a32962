"""The folder listing names the layers: every package is under a contract, no import circles.

import-linter (`lint-imports`, run by CI) checks the contracts themselves;
these tests check what it cannot: that a package added later is not left out
of the Textual-free contract by accident, and that no modules import each
other in a circle (TYPE_CHECKING imports included: a circle there is a seam
that was not cut).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
#: The packages that may import Textual: the screen, and the entry point that starts it.
SCREEN_SIDE = {"tui.ui", "tui.cli", "tui.__main__"}


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_every_package_but_the_screen_is_textual_free_by_contract() -> None:
    textual_free = next(c for c in _contracts() if "textual" in c.get("forbidden_modules", []))
    listed = set(textual_free["source_modules"])
    top = {f"tui.{p.stem}" for p in (ROOT / "tui").iterdir()
           if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    missing = top - listed - SCREEN_SIDE
    assert not missing, f"packages under no Textual-free contract: {sorted(missing)}"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    out.append(sorted(group))
    return out


def test_no_module_imports_itself_round_a_circle() -> None:
    graph = grimp.build_graph("tui")
    assert _cycles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above can fail: two modules that import each other are found."""
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]
