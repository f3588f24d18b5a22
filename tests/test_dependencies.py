"""What the shipped modules (core/, federation/, plugins/) import is what pyproject.toml
declares, and no more: a SQLite node needs no PostgreSQL driver, no module needs numpy or a
test extra to import, and the test fixtures join a pytest run only when it asks for them.

The imports are read from every module's syntax tree (at the top and inside functions);
``importlib.metadata.packages_distributions()`` says which installed distribution gives each
top-level name. The import checks run in a subprocess whose import system refuses the
blocked names, as an environment without them would.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import entry_points, packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "federation", "plugins")
FIRST_PARTY = {*PACKAGES, "tests", "bench", "tools"}
# The modules a declared extra is for; every other shipped module imports only what the
# base dependencies give.
EXTRA_FOR = {
    "core/testing.py": "test",  # pytest plugins: a test run asks for them
    "federation/testing.py": "test",
    "core/gunicorn_conf.py": "server",  # read by gunicorn, which the server extra installs
    "core/gunicorn_worker.py": "server",
}
TEST_EXTRAS = ("hypothesis", "pytest", "_pytest", "playwright", "xdist")
NEVER_SHIPPED = ("numpy",)
POSTGRESQL_DRIVER = ("psycopg", "psycopg_binary", "psycopg2")


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalised(re.match(r"[A-Za-z0-9._-]+", requirement).group())


def declared(pyproject: Path = ROOT / "pyproject.toml") -> dict[str | None, set[str]]:
    """The distributions pyproject.toml declares: the base ones under None, then by extra."""
    project = tomllib.loads(pyproject.read_text())["project"]
    found = {None: {requirement_name(r) for r in project["dependencies"]}}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        found[extra] = {requirement_name(r) for r in requirements}
    return found


def third_party_imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Each shipped file (relative path) → the top-level names it imports from outside the
    project and the standard library."""
    found: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            names = set()
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
            names -= FIRST_PARTY | set(sys.stdlib_module_names) | {"__future__"}
            if names:
                found[path.relative_to(root).as_posix()] = names
    return found


def undeclared(imports: dict[str, set[str]], declarations: dict[str | None, set[str]],
               distributions: dict[str, list[str]]) -> list[str]:
    """``file: name`` for each import no allowed declaration gives."""
    problems = []
    for path, names in sorted(imports.items()):
        allowed = declarations[None] | declarations.get(EXTRA_FOR.get(path), set())
        for name in sorted(names):
            given_by = {normalised(d) for d in distributions.get(name, [])}
            if not given_by & allowed:
                problems.append(f"{path}: {name} (from {sorted(given_by) or 'nothing installed'})")
    return problems


def unused(imports: dict[str, set[str]], declarations: dict[str | None, set[str]],
           distributions: dict[str, list[str]]) -> set[str]:
    """Base dependencies that no shipped module imports."""
    imported = {normalised(d) for names in imports.values() for name in names
                for d in distributions.get(name, [])}
    return declarations[None] - imported


def test_every_third_party_import_is_declared():
    problems = undeclared(third_party_imports(), declared(), packages_distributions())
    assert not problems, "imported but not declared in pyproject.toml:\n" + "\n".join(problems)


def test_every_base_dependency_is_imported():
    """A dependency no module needs any more (numpy, once folding stopped using it) goes."""
    assert not unused(third_party_imports(), declared(), packages_distributions())


def test_postgresql_is_an_extra_and_the_tests_install_it():
    declarations = declared()
    assert "psycopg" not in declarations[None] and "numpy" not in declarations[None]
    assert "psycopg" in declarations["postgresql"]
    assert "rabita" in declarations["test"]  # rabita[postgresql]
    assert "rabita[postgresql]" in tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]


def test_the_checks_catch_a_planted_module(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "core" / "folding.py").write_text("import numpy as np\nimport flask\n")
    (tmp_path / "core" / "testing.py").write_text("import pytest\n")
    (tmp_path / "federation" / "leak.py").write_text(
        "def check():\n    from hypothesis import given\n")
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        dependencies = ["flask>=3", "requests"]
        [project.optional-dependencies]
        test = ["pytest"]
    """))
    imports = third_party_imports(tmp_path)
    distributions = {"numpy": ["numpy"], "flask": ["Flask"], "pytest": ["pytest"],
                     "hypothesis": ["hypothesis"], "requests": ["requests"]}
    declarations = declared(tmp_path / "pyproject.toml")
    assert undeclared(imports, declarations, distributions) == [
        "core/folding.py: numpy (from ['numpy'])",
        "federation/leak.py: hypothesis (from ['hypothesis'])",
    ]
    assert unused(imports, declarations, distributions) == {"requests"}


# -- importing, with what a node may lack refused -------------------------------------------

BLOCKING = """
import importlib, importlib.abc, json, pkgutil, sys

BLOCKED = set(sys.argv[1].split(","))


class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (refused)", name=name)
        return None


sys.meta_path.insert(0, Refuse())
"""

IMPORT_EVERY_MODULE = BLOCKING + """
skipped = set(sys.argv[2].split(",")) if sys.argv[2] else set()
failures, imported = {}, []
for package in ("core", "federation", "plugins"):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        name = module.name
        if ".migrations" in name or name in skipped:
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except ImportError as error:
            failures[name] = str(error)
print(json.dumps({"failures": failures, "imported": imported,
                  "loaded": sorted({n.split(".")[0] for n in sys.modules})}))
"""


def run_blocked(script: str, blocked, *args: str, cwd: Path = ROOT, env=None):
    result = subprocess.run(
        [sys.executable, "-c", script, ",".join(blocked), *args], cwd=cwd, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture
def node_environment(tmp_path):
    """What `core.wsgi` reads when it is imported: an instance folder and a secret."""
    env = dict(os.environ, RABITA_INSTANCE_PATH=str(tmp_path / "instance"),
               RABITA_SECRET_KEY="s" * 48)
    env.pop("RABITA_SQLALCHEMY_DATABASE_URI", None)
    (tmp_path / "instance").mkdir()
    return env


@pytest.mark.slow
def test_shipped_modules_import_without_test_extras_numpy_or_postgresql(node_environment):
    blocked = TEST_EXTRAS + NEVER_SHIPPED + POSTGRESQL_DRIVER
    outcome = run_blocked(IMPORT_EVERY_MODULE, blocked, "core.testing,federation.testing",
                          env=node_environment)
    assert outcome["failures"] == {}
    assert {"core.text", "core.app", "core.wsgi", "federation.transport",
            "plugins.cases"} <= set(outcome["imported"])
    assert len(outcome["imported"]) > 60
    assert not set(blocked) & set(outcome["loaded"])


@pytest.mark.slow
def test_the_pytest_plugins_need_only_pytest(node_environment):
    """core.testing and federation.testing import pytest (what they are for), and import
    Playwright only when a browser test starts."""
    outcome = run_blocked(IMPORT_EVERY_MODULE, ("hypothesis", "playwright", "numpy"), "",
                          env=node_environment)
    assert outcome["failures"] == {}
    assert {"core.testing", "federation.testing"} <= set(outcome["imported"])


STARTING = BLOCKING + """
from core.app import create_app
from core.config import StartupError

folder = sys.argv[2]
app = create_app({"TESTING": True, "INSTANCE_PATH": folder,
                  "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/rabita.db"})
with app.app_context():
    from core.extensions import db
    db.create_all()
try:
    create_app({"TESTING": True, "INSTANCE_PATH": folder,
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://rabita@127.0.0.1:5432/rabita"})
    refusal = None
except StartupError as error:
    refusal = str(error)
print(json.dumps({"refusal": refusal, "loaded": sorted({n.split(".")[0] for n in sys.modules})}))
"""


@pytest.mark.slow
def test_a_sqlite_node_runs_without_the_postgresql_driver(tmp_path):
    outcome = run_blocked(STARTING, POSTGRESQL_DRIVER, str(tmp_path))
    assert not set(POSTGRESQL_DRIVER) & set(outcome["loaded"])
    assert "PostgreSQL" in outcome["refusal"]
    assert "pip install 'rabita[postgresql]'" in outcome["refusal"]


# -- the fixtures join a pytest run that asks for them ---------------------------------------

A_TEST = """
def test_the_clock(fake_clock):
    fake_clock.advance(minutes=1)
"""


def test_no_pytest11_entry_point_adds_fixtures_to_other_runs():
    assert not [point for point in entry_points(group="pytest11")
                if point.value.split(".")[0] in PACKAGES]
    assert "pytest11" not in tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"].get("entry-points", {})


@pytest.mark.slow
@pytest.mark.parametrize("asks", [False, True])
def test_a_test_suite_elsewhere_gets_the_fixtures_only_when_it_asks(tmp_path, asks):
    (tmp_path / "test_elsewhere.py").write_text(A_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    if asks:
        (tmp_path / "conftest.py").write_text('pytest_plugins = ["core.testing"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    if asks:
        assert result.returncode == 0, result.stdout[-2000:]
    else:
        assert result.returncode != 0
        assert "fixture 'fake_clock' not found" in result.stdout
