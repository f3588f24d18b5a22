"""One module per dangerous capability, kept so by grep: only ``signing`` touches private
keys, only ``client`` imports requests; federation imports no plugin; __init__ is hooks."""

import ast
import re
from pathlib import Path

import federation

FEDERATION = Path(federation.__file__).parent
SOURCES = {p.relative_to(FEDERATION).as_posix(): p.read_text()
           for p in FEDERATION.rglob("*.py") if "migrations" not in p.parts}
PRIVATE_KEY_USE = re.compile(
    r"SigningKey|PrivateKey|to_curve25519_private_key|private_bytes|\}\.key\"|KEYS_FOLDER")


def imported_modules(source):
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_only_the_signing_module_touches_private_keys():
    touching = {name for name, source in SOURCES.items() if PRIVATE_KEY_USE.search(source)}
    assert touching == {"signing.py"}


def test_only_the_client_imports_requests():
    importing = {name for name, source in SOURCES.items()
                 if any(m == "requests" or m.startswith("requests.")
                        for m in imported_modules(source))}
    assert importing == {"client.py"}


def test_no_other_module_of_the_project_imports_requests():
    root = FEDERATION.parent
    for folder in ("core", "plugins"):
        for path in (root / folder).rglob("*.py"):
            assert "requests" not in imported_modules(path.read_text()), path


def test_federation_never_imports_a_plugin():
    for name, source in SOURCES.items():
        assert not any(m == "plugins" or m.startswith("plugins.")
                       for m in imported_modules(source)), name


def test_core_never_imports_federation():
    for path in (FEDERATION.parent / "core").rglob("*.py"):
        if path.name == "testing.py":
            continue
        assert not any(m == "federation" or m.startswith("federation.")
                       for m in imported_modules(path.read_text())), path


def test_the_package_file_holds_hook_implementations_only():
    tree = ast.parse(SOURCES["__init__.py"])
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions and all(
        any(getattr(d, "id", None) == "hookimpl" for d in f.decorator_list) for f in functions)
    assert len(SOURCES["__init__.py"].splitlines()) <= 100  # a screen long


def test_every_table_is_prefixed():
    from federation import models

    tables = [getattr(models, name).__tablename__ for name in dir(models)
              if hasattr(getattr(models, name), "__tablename__")]
    assert tables and all(t.startswith("federation_") for t in tables)
