"""One module per dangerous capability, kept so by reading every module's syntax tree.

Unwrapping keys (authenticated ciphers, key derivation) only in ``core/keystore.py``; hashing
passwords only in ``core/passwords.py``; deciding what leaves (a field's sharing class, the
coarsening rules, building a payload or an export) only in ``core/redaction.py``; HTTP and
sockets out of the node only in ``federation/client.py``. Every module of core, plugins,
federation and tools is read (tests and benchmarks are not the node). Imports are followed
through aliases (``import argon2.low_level as ll; ll.hash_secret_raw``), ``from`` imports and
``__import__``/``importlib.import_module`` of a constant name. Each rule is shown to catch a
module planted in a temporary tree, so none of them passes for want of looking.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

import core

ROOT = Path(core.__file__).parent.parent
FOLDERS = ("core", "plugins", "federation", "tools")


@dataclass(frozen=True)
class Capability:
    """A dangerous capability: the names that give it, and the one module that may use them."""

    name: str
    home: str
    names: tuple[str, ...]
    # Modules outside the node's running code that need it, each with the reason why.
    exempt: dict[str, str] = field(default_factory=dict)


KEYS = Capability("unwrapping keys", "core/keystore.py", (
    "cryptography.hazmat.primitives.ciphers", "cryptography.hazmat.primitives.kdf",
    "cryptography.hazmat.primitives.keywrap", "cryptography.fernet", "argon2.low_level",
    "nacl.secret", "nacl.pwhash", "hashlib.scrypt", "hashlib.pbkdf2_hmac",
))
PASSWORDS = Capability("hashing passwords", "core/passwords.py", (
    "argon2.PasswordHasher", "argon2.hash_password", "argon2.hash_password_raw",
    "argon2.verify_password", "argon2.profiles", "argon2.Parameters", "bcrypt", "passlib",
    "crypt", "werkzeug.security.generate_password_hash", "werkzeug.security.check_password_hash",
), exempt={"core/testing.py": "insecure_fast_kdf swaps in a cheap hasher, in tests only"})
HTTP_OUT = Capability("HTTP out of the node", "federation/client.py", (
    "requests", "urllib3", "http.client", "httpx", "aiohttp", "urllib.request", "socket",
    "socks", "smtplib", "ftplib", "telnetlib", "xmlrpc.client", "websocket", "pycurl",
    "asyncio.open_connection",
), exempt={
    "tools/demo.py": "waits for the demo's own servers on 127.0.0.1 and finds free ports",
    "federation/testing.py": "test nodes: finds free ports, waits for their servers",
})
# Deciding what leaves: coarsening is a part of redaction; payloads and export files are built
# by redaction's functions, called only by the record layer (federation's payloads) and by
# the export module (files). A new exit is a new line here: a reviewed change.
COARSENING = Capability("coarsening values", "core/redaction.py", ("core.generalise",))
PAYLOAD_BUILDERS = ("core.redaction.redact", "core.redaction.for_export")
EXITS = {"core/records.py", "core/exports.py"}


# -- reading the modules -------------------------------------------------------------------


def sources(root: Path = ROOT, folders=FOLDERS) -> dict[str, str]:
    """Every Python module under ``folders`` of ``root``, by its path from ``root``."""
    found = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return found


class Names(ast.NodeVisitor):
    """The dotted names a module reaches: what it imports, and every attribute chain it
    uses, with import aliases resolved to the module or object they stand for."""

    def __init__(self, module: str):
        self.module = module  # "core.records", to resolve relative imports
        self.aliases: dict[str, str] = {}
        self.reached: set[str] = set()
        self.reads_sharing_class = False

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.reached.add(alias.name)
            local = alias.asname or alias.name.split(".")[0]
            self.aliases[local] = alias.name if alias.asname else local

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self._absolute(node.module or "", node.level)
        self.reached.add(base)
        for alias in node.names:
            self.reached.add(f"{base}.{alias.name}")
            self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self._dotted(node)
        if dotted:
            self.reached.add(dotted)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases:
            self.reached.add(self.aliases[node.id])

    def visit_Call(self, node: ast.Call) -> None:
        called = self._dotted(node.func)
        if called in ("__import__", "importlib.import_module") and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            self.reached.add(node.args[0].value)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args and \
                _is_sharing(node.args[0]):
            self.reads_sharing_class = True
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if _is_sharing(node.slice):
            self.reads_sharing_class = True
        self.generic_visit(node)

    def _dotted(self, node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, node.id)
        return ".".join([head, *reversed(parts)])

    def _absolute(self, module: str, level: int) -> str:
        if level == 0:
            return module
        package = self.module.split(".")[: -level]
        return ".".join([*package, module] if module else package)


def _is_sharing(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "sharing"


@cache  # each module is read once, whichever rule asks
def read(path: str, source: str) -> Names:
    names = Names(path.removesuffix(".py").replace("/", "."))
    names.visit(ast.parse(source, filename=path))
    return names


def reaches(names: Names, wanted: tuple[str, ...]) -> bool:
    return any(name == w or name.startswith(f"{w}.") for name in names.reached for w in wanted)


def users_of(capability: Capability, modules: dict[str, str]) -> set[str]:
    """The modules that reach any of the capability's names (its exemptions left out)."""
    return {path for path, source in modules.items()
            if path not in capability.exempt and reaches(read(path, source), capability.names)}


def sharing_class_readers(modules: dict[str, str]) -> set[str]:
    return {path for path, source in modules.items() if read(path, source).reads_sharing_class}


def payload_builders(modules: dict[str, str]) -> set[str]:
    return {path for path, source in modules.items()
            if path != "core/redaction.py" and reaches(read(path, source), PAYLOAD_BUILDERS)}


# -- the rules -----------------------------------------------------------------------------

MODULES = sources()


@pytest.mark.parametrize("capability", [KEYS, PASSWORDS, HTTP_OUT, COARSENING],
                         ids=lambda c: c.name)
def test_each_capability_is_used_in_its_home_and_nowhere_else(capability):
    assert users_of(capability, MODULES) == {capability.home}


@pytest.mark.parametrize("capability", [PASSWORDS, HTTP_OUT], ids=lambda c: c.name)
def test_each_exemption_is_a_module_that_still_needs_it(capability):
    for path in capability.exempt:
        assert path in MODULES and reaches(read(path, MODULES[path]), capability.names), path


def test_only_redaction_reads_a_fields_sharing_class():
    """Everyone else asks ``core.redaction.sharing_of``, so one function says what a field
    may reveal (a schema declaring ``{"sharing": ...}`` is a dictionary, not a read)."""
    assert sharing_class_readers(MODULES) == {"core/redaction.py"}


def test_payloads_and_export_files_are_built_only_through_the_known_exits():
    assert payload_builders(MODULES) == EXITS


def test_every_folder_is_read():
    assert {path.split("/")[0] for path in MODULES} == set(FOLDERS)
    assert len(MODULES) > 50


# -- the rules can fail: modules planted in a temporary tree -------------------------------

PLANTED = [
    (KEYS, [
        "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n",
        "import argon2.low_level as ll\nll.hash_secret_raw(b'p', b's' * 16, 1, 8, 1, 32,"
        " ll.Type.ID)\n",
        "from argon2 import low_level\n",
        "import hashlib\nhashlib.scrypt(b'p', salt=b's', n=2, r=1, p=1)\n",
        "import importlib\nimportlib.import_module('cryptography.fernet')\n",
    ]),
    (PASSWORDS, [
        "from argon2 import PasswordHasher as Hasher\nHasher().hash('x')\n",
        "import argon2\nargon2.PasswordHasher().hash('x')\n",
        "from werkzeug.security import generate_password_hash\n",
    ]),
    (HTTP_OUT, [
        "import requests\n",
        "from urllib.request import urlopen\n",
        "import http.client as h\nh.HTTPConnection('example.org')\n",
        "import socket\nsocket.create_connection(('example.org', 80))\n",
        "__import__('urllib3')\n",
    ]),
    (COARSENING, ["from core.generalise import RULES\n", "from core import generalise as g\n"]),
]


def planted_tree(tmp_path: Path, source: str) -> dict[str, str]:
    """The real modules, plus ``source`` as a module of core/ and one of plugins/."""
    for folder in ("core", "plugins/spy"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "planted.py").write_text(source)
    return {**MODULES, **sources(tmp_path, ("core", "plugins"))}


@pytest.mark.parametrize("capability, source",
                         [(c, s) for c, planted in PLANTED for s in planted],
                         ids=lambda value: getattr(value, "name", None) or value[:30])
def test_a_planted_use_is_caught(tmp_path, capability, source):
    found = users_of(capability, planted_tree(tmp_path, source))
    assert found == {capability.home, "core/planted.py", "plugins/spy/planted.py"}


def test_a_relative_import_is_followed(tmp_path):
    modules = planted_tree(tmp_path, "from .generalise import as_date\n")
    assert "core/planted.py" in users_of(COARSENING, modules)


@pytest.mark.parametrize("source", [
    "def policy(field):\n    return field.metadata['sharing']\n",
    "def policy(field):\n    return field.metadata.get('sharing', 'never')\n",
])
def test_a_planted_read_of_the_sharing_class_is_caught(tmp_path, source):
    assert "plugins/spy/planted.py" in sharing_class_readers(planted_tree(tmp_path, source))


@pytest.mark.parametrize("source", [
    "from core.redaction import redact\n",
    "from core import redaction\nredaction.for_export({}, None, 'internal')\n",
    "import core.redaction as r\nr.redact({}, None, 'peers', None)\n",
])
def test_a_planted_exit_is_caught(tmp_path, source):
    assert "plugins/spy/planted.py" in payload_builders(planted_tree(tmp_path, source))


def test_a_schema_declaring_its_fields_is_not_a_read(tmp_path):
    source = "FIELD = {'sharing': 'open', 'label': 'Title'}\n"
    assert "plugins/spy/planted.py" not in sharing_class_readers(planted_tree(tmp_path, source))
