"""The node's modules import one another without a cycle, and import inside a function only
where a comment says why; importing one of core's modules does not build the app.

The import graph is read from every module's syntax tree under core/, federation/ and
plugins/: imports at the top of a module and inside functions alike, since an import moved
into a function to dodge a cycle still leaves the cycle. ``from package import name`` points
at the submodule ``package.name`` when there is one, else at the package. Each rule is shown
to catch a module planted in a temporary tree.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "federation", "plugins")


@dataclass(frozen=True)
class Import:
    """One import statement: where it is, what it reaches, and whether it runs in a function."""

    path: str
    line: int
    targets: frozenset[str]
    in_function: bool


def modules(root: Path = ROOT, packages=PACKAGES) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path], root: Path = ROOT):
    """Every import statement of module ``name``, its targets among ``known`` modules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def targets(node: ast.Import | ast.ImportFrom) -> set[str]:
        if isinstance(node, ast.Import):
            return {owner(alias.name) for alias in node.names}
        base = node.module or ""
        if node.level:
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        return {f"{base}.{a.name}" if f"{base}.{a.name}" in known else owner(base)
                for a in node.names}

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                reached = frozenset(t for t in targets(child) if t and t != name)
                relative = path.relative_to(root).as_posix()
                found.append(Import(relative, child.lineno, reached, in_function))
            inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, in_function or inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return found


def all_imports(root: Path = ROOT, packages=PACKAGES) -> dict[str, list[Import]]:
    known = modules(root, packages)
    return {name: imports_of(name, path, known, root) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach one another (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def import_cycles(found: dict[str, list[Import]]) -> list[list[str]]:
    graph = {name: set().union(*(i.targets for i in imports)) if imports else set()
             for name, imports in found.items()}
    return cycles(graph)


def unexplained_function_imports(found: dict[str, list[Import]], root: Path = ROOT):
    """``path:line`` of each import inside a function with no comment on its line or the one
    above it saying why it is there."""
    unexplained = []
    for imports in found.values():
        for each in imports:
            if each.in_function and not _explained(root / each.path, each.line):
                unexplained.append(f"{each.path}:{each.line}")
    return unexplained


def _explained(path: Path, line: int) -> bool:
    return line in _commented_lines(path) or line - 1 in _commented_lines(path)


@cache
def _commented_lines(path: Path) -> frozenset[int]:
    with path.open(encoding="utf-8") as source:
        return frozenset(token.start[0] for token in tokenize.generate_tokens(source.readline)
                         if token.type == tokenize.COMMENT)


# -- the rules -----------------------------------------------------------------------------

FOUND = all_imports()


def test_no_module_imports_itself_through_others():
    assert import_cycles(FOUND) == []


def test_every_import_inside_a_function_says_why():
    assert unexplained_function_imports(FOUND) == []


def test_every_package_is_read():
    assert {name.split(".")[0] for name in FOUND} == set(PACKAGES)
    assert sum(len(imports) for imports in FOUND.values()) > 500


# -- the rules can fail: modules planted in a temporary tree -------------------------------


def planted(tmp_path: Path, files: dict[str, str]) -> dict[str, list[Import]]:
    for relative, source in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return all_imports(tmp_path, ("core",))


@pytest.mark.parametrize("files", [
    {"core/__init__.py": "", "core/a.py": "from core import b\n", "core/b.py": "import core.a\n"},
    {"core/__init__.py": "", "core/a.py": "from core.b import thing\n",
     "core/b.py": "def late():\n    from . import a  # planted\n"},
    {"core/__init__.py": "from core.a import thing\n", "core/a.py": "from core import other\n",
     "core/other.py": "from core import thing\n"},
], ids=["top level", "inside a function", "through a package"])
def test_a_planted_cycle_is_caught(tmp_path, files):
    assert import_cycles(planted(tmp_path, files)) != []


def test_a_package_importing_its_own_modules_is_not_a_cycle(tmp_path):
    found = planted(tmp_path, {"core/__init__.py": "from core.a import thing\n",
                               "core/a.py": "from core import b\n", "core/b.py": "x = 1\n"})
    assert import_cycles(found) == []


def test_a_planted_import_inside_a_function_is_caught_unless_it_says_why(tmp_path):
    found = planted(tmp_path, {"core/__init__.py": "", "core/a.py": (
        "def bare():\n    import json\n"
        "def said():\n    import csv  # csv only for the rare export\n"
        "def above():\n    # sqlite3 only when asked\n    import sqlite3\n"
        "def quoted():\n    x = '# not a comment'\n    import zipfile\n"
    )})
    assert unexplained_function_imports(found, tmp_path) == ["core/a.py:2", "core/a.py:10"]


# -- importing core does not build the app ------------------------------------------------


def fresh_interpreter(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=120)
    return done.stdout.strip()


def test_importing_core_text_imports_neither_the_app_nor_flask():
    loaded = fresh_interpreter(
        "import sys, core.text; print(sorted(m for m in sys.modules"
        " if m.partition('.')[0] in ('flask', 'federation', 'plugins') or m == 'core.app'))")
    assert loaded == "[]"


def test_importing_every_module_of_core_builds_no_app():
    names = sorted(name for name in modules(ROOT, ("core",))
                   if name not in ("core.wsgi",) and ".migrations" not in name)
    built = fresh_interpreter(
        "import gc, importlib, flask\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sum(isinstance(o, flask.Flask) for o in gc.get_objects()))")
    assert built == "0"
