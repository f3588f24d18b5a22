"""Test fixtures as factories, shipped with core so plugin authors test the same way.

A pytest plugin that a test suite asks for (``pytest_plugins = ["core.testing"]`` in its
top-level conftest.py, as tests/conftest.py does). Tests read like stories::

    def test_reviewer_sees_the_audit_log(make_user, login_as):
        salma = make_user("salma", role="admin")
        client = login_as(salma)
        assert client.get("/admin/audit").status_code == 200

Anything that weakens a protection for speed is named ``insecure_*`` and lives only here.
"""

from __future__ import annotations

import inspect
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import types
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text
from werkzeug.routing import Rule
from werkzeug.serving import make_server

import plugins
from core import clock, keystore, passwords, users
from core.app import create_app
from core.config import Defaults
from core.extensions import db
from core.hookspecs import hookimpl
from core.models import ServerSession
from core.sessions import token_hash

POSTGRES_URL_ENV = "RABITA_TEST_POSTGRES_URL"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(".artifacts")
TEST_PASSWORD = "correct horse battery staple"
TEST_PASSPHRASE = "olive grove, blue door, seven lanterns"

all_databases = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "postgresql: runs on the PostgreSQL test server")


def pytest_collection_modifyitems(items) -> None:
    """A test's run on PostgreSQL (``all_databases``' second run, any test given
    ``db_backend`` "postgresql", or one that takes ``postgres_server_url`` itself) is marked
    ``postgresql``: a quick run (``-m "not postgresql"``) leaves the server out, and each
    test of both databases still runs on SQLite."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgresql = callspec is not None and callspec.params.get("db_backend") == "postgresql"
        # Its own arguments, not every fixture it uses: db_backend takes the URL for both runs.
        function = getattr(item, "function", None)  # a test function (not a doctest, say)
        asks_the_server = function is not None and \
            "postgres_server_url" in inspect.signature(function).parameters
        if on_postgresql or asks_the_server:
            item.add_marker(pytest.mark.postgresql)


def builtin_plugins() -> list[str]:
    """Every plugin shipped with Rabita: each folder of ``plugins/``, and federation. Tests
    that enumerate the URL map load them all, so a new plugin's pages join by themselves."""
    folder = Path(plugins.__file__).parent
    found = sorted(f"plugins.{p.name}" for p in folder.iterdir() if (p / "__init__.py").exists())
    return [*found, "federation"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> None:
    """A needed part is absent: a failure in CI, a clear skip on a developer's machine."""
    if in_ci():
        pytest.fail(f"{reason} (CI must have it)", pytrace=False)
    pytest.skip(reason)


# -- weakening, for speed, in tests only ---------------------------------------------------


@pytest.fixture
def insecure_fast_kdf(monkeypatch):
    """Make argon2id cheap (1 pass, 8 KiB) so tests that hash passwords run fast."""
    monkeypatch.setattr(
        passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    monkeypatch.setattr(keystore, "KDF", {"memory_kib": 8, "time_cost": 1, "parallelism": 1})
    # Cheap checks need no budget: tests sign in many times a second (a test of the budget
    # sets SIGNIN_HASH_BURST itself).
    monkeypatch.setattr(Defaults, "SIGNIN_HASH_BURST", 1_000_000)
    passwords._reference_hash.cache_clear()
    yield
    passwords._reference_hash.cache_clear()


class FakeClock:
    def __init__(self, start):
        self.current = start

    def __call__(self):
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    """Freeze core's clock; ``fake_clock.advance(minutes=31)`` moves it on."""
    fake = FakeClock(clock.now())
    monkeypatch.setattr(clock, "now", fake)
    return fake


# -- databases -----------------------------------------------------------------------------


@pytest.fixture
def db_backend(request) -> str:
    """'sqlite' unless a test is parametrised with ``all_databases``."""
    return getattr(request, "param", "sqlite")


# The server the Makefile names too: a plain `pytest` finds it without the environment.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_server_url() -> str | None:
    url = os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return None
    finally:
        engine.dispose()
    return url


@pytest.fixture
def database_url(db_backend, tmp_path, postgres_server_url) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a PostgreSQL schema of its own."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'rabita.db'}"
        return
    if postgres_server_url is None:
        missing(f"PostgreSQL is not reachable; set {POSTGRES_URL_ENV} to a server's URL")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in postgres_server_url else "?"
    yield f"{postgres_server_url}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def database_copies(database_url: str) -> dict[str, bytes]:
    """What a copy of the database shows, by name: an SQLite file, its WAL (read before any
    checkpoint) and an SQL dump; or a pg_dump of the test's PostgreSQL schema."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = Path(parts.path)
        wal = path.with_name(path.name + "-wal")
        assert wal.exists(), "the database is not in WAL mode, or was checkpointed"
        connection = sqlite3.connect(path)
        dump = "\n".join(connection.iterdump()).encode()
        connection.close()
        return {"the file": path.read_bytes(), "the WAL": wal.read_bytes(), "the dump": dump}
    if shutil.which("pg_dump") is None:
        missing("pg_dump is not installed (apt-get install postgresql-client)")
    schema = parse_qs(parts.query)["options"][0].split("=", 1)[1]
    server = parts._replace(scheme="postgresql", query="").geturl()
    dump = subprocess.run(["pg_dump", "--schema", schema, server],  # noqa: S603, S607 - the test's own server
                          capture_output=True, check=True)
    return {"pg_dump": dump.stdout}


# -- apps and clients ----------------------------------------------------------------------


class TemplatesCompiledOnce(BytecodeCache):
    """Jinja's bytecode cache, kept in memory for the whole test process.

    A node's worker compiles each template once; a test run builds an app per test, and each
    app's Jinja environment would compile every template it renders again (a fifth of the
    time of a page test). Jinja keys a template's code by its file and checks it against the
    source, so apps with other plugins or an edited template never get another's code.
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = TemplatesCompiledOnce()


class RuleBuiltOnce(Rule):
    """A URL rule whose URL builders werkzeug compiles once per test process.

    Werkzeug compiles two Python functions for each rule of an app (its URL builders, through
    ``ast`` and ``compile``); a test run builds an app per test, and compiling them again was
    a fifth of the fast tests' time here. A builder is made of the rule's parsed parts and
    defaults alone (it reaches the rule's converters through the rule it is bound to), so a
    rule with the same parts, defaults and converters in another app gets the same function.
    tests/core/test_testing.py checks each against the one werkzeug compiles.
    """

    builders: dict[tuple, Callable[..., tuple[str, str]]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = self.defaults or {}
        # A default for a part of the rule is written into the builder as its converter
        # puts it in a URL.
        written = tuple((name, converter.to_url(defaults[name]))
                        for name, converter in sorted(self._converters.items())
                        if name in defaults)
        key = (append_unknown, self.rule, tuple(self._trace),
               repr(sorted(defaults.items())), written)
        if key not in self.builders:
            self.builders[key] = super()._compile_builder(append_unknown)
        return self.builders[key]


@pytest.fixture(autouse=True, scope="session")
def rule_builders_compiled_once() -> Iterator[None]:
    """Every app the tests build makes its URL rules as ``RuleBuiltOnce``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "url_rule_class", RuleBuiltOnce)
        yield


class TablesMadeOnce:
    """A new SQLite database's tables made once per set of tables, then copied.

    The first app of a test process on a new SQLite file makes its tables (``create_all``,
    through the app's own engine and its tuning) and the closed file is kept; the next app
    on a new file with the same tables gets a copy of it, not the same forty DDL statements
    again. A file that already holds something, and PostgreSQL, get ``create_all``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[tuple[str, ...], Path] = {}

    def create_all(self) -> None:
        path = _new_sqlite_file(db.engine.url)
        if path is None:
            db.create_all()
            return
        tables = tuple(sorted(db.metadata.tables))
        db.session.remove()
        db.engine.dispose()
        if tables in self.made:
            shutil.copyfile(self.made[tables], path)
            return
        db.create_all()
        db.engine.dispose()  # the last connection closed: the WAL is back in the file
        kept = self.folder / f"tables-{len(self.made)}.db"
        shutil.copyfile(path, kept)
        self.made[tables] = kept


def _new_sqlite_file(url) -> Path | None:
    """The file of an SQLite database nothing has been written to yet, else None."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    if path.exists() and path.stat().st_size:
        return None
    return path


@pytest.fixture(scope="session")
def tables_made_once(tmp_path_factory) -> TablesMadeOnce:
    return TablesMadeOnce(tmp_path_factory.mktemp("tables"))


class RabitaClient(FlaskClient):
    """A test client that fills forms the way a browser does: CSRF token included."""

    def csrf_token(self, page: str, **kw) -> str:
        body = self.get(page, **kw).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
        if not match:
            raise AssertionError(f"No form with a CSRF token on {page}")
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, *, page: str | None = None, **kw):
        """GET ``page`` (default ``url``) for its CSRF token, then POST ``data`` to ``url``."""
        fields = dict(data or {})
        fields["csrf_token"] = self.csrf_token(page or url, base_url=kw.get("base_url"))
        return self.post(url, data=fields, **kw)


@pytest.fixture
def make_app(tmp_path, database_url, insecure_fast_kdf,
             tables_made_once) -> Iterator[Callable[..., Flask]]:
    """Build apps on a fresh database: ``make_app(PLUGINS=["plugins.cases"], unlocked=True)``.

    ``unlocked=True`` gives the node a keyring (passphrase ``TEST_PASSPHRASE``) and unlocks
    it, as an admin would; the unlocked keyring is shared through a folder of the test's own.
    """
    made: list[Flask] = []
    # One per test, like one node's workers: apps on one database open each other's sealed
    # second-factor secrets.
    secret_key = secrets.token_urlsafe(48)

    def factory(create_tables: bool = True, unlocked: bool = False, **config: Any) -> Flask:
        settings = {
            "TESTING": True,
            "SECRET_KEY": secret_key,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "KEY_SHARE_DIR": str(tmp_path / "shm"),
        }
        settings.update(config)
        Path(settings["KEY_SHARE_DIR"]).mkdir(exist_ok=True)
        app = create_app(settings)
        app.test_client_class = RabitaClient
        app.jinja_env.bytecode_cache = TEMPLATES
        if create_tables:
            with app.app_context():
                tables_made_once.create_all()
        if unlocked:
            with app.app_context():
                path = keystore.keyring_path(app)
                if not path.exists():
                    keystore.create_keyring(path, TEST_PASSPHRASE)
                keystore.keystore(app).unlock(TEST_PASSPHRASE)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def app_context(app) -> Iterator[Flask]:
    with app.app_context():
        yield app


@pytest.fixture
def client(app) -> RabitaClient:
    return app.test_client()


# -- people --------------------------------------------------------------------------------


@pytest.fixture
def make_user(app, insecure_fast_kdf) -> Callable[..., Any]:
    """Create a user: ``make_user("salma", role="documenter")``.

    Users whose role needs a second factor get one; ``user.totp`` makes her codes and
    ``user.password`` is her password.
    """
    def factory(username: str, role: str = "member", **options):
        with app.app_context():
            return add_person(username, role, **options)

    return factory


def add_person(username: str, role: str = "member", *, password: str = TEST_PASSWORD,
               second_factor: bool | None = None, locale: str | None = None) -> TestUser:
    """Create a user in the current app and commit; a second factor when her role needs one
    (or as ``second_factor`` says). ``make_user`` and ``Node.make_person`` call this."""
    user = users.create(username, password, role)
    user.locale = locale
    if second_factor is None:
        second_factor = user.needs_second_factor()
    if second_factor:
        user.totp_secret = pyotp.random_base32()
    db.session.commit()
    return TestUser(user.id, username, role, password, user.totp_secret)


def sign_in(page, base_url: str, person: TestUser) -> None:
    """In a browser on the login page: password, then her authenticator's code."""
    page.fill("#username", person.username)
    page.fill("#password", person.password)
    page.click("#submit")
    page.wait_for_url(f"{base_url}/login/code")
    page.fill("#code", person.code())
    page.click("#submit")
    page.wait_for_url(f"{base_url}/")


class TestUser:
    """What a test knows about a user it created (the database row lives in the app)."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, id, username, role, password, totp_secret):
        self.id, self.username, self.role = id, username, role
        self.password, self.totp_secret = password, totp_secret

    @property
    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.totp_secret)

    def code(self, steps_ahead: int = 0) -> str:
        """Her authenticator's code, ``steps_ahead`` 30-second steps from now (by core's clock)."""
        return self.totp.at(clock.now().timestamp() + 30 * steps_ahead)


def signed_in_client(app: Flask, user_id: int, client=None):
    """A test client of ``app`` signed in as user ``user_id`` (a real server-side session)."""
    client = client or app.test_client()
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with app.app_context():
        db.session.add(ServerSession(
            token_hash=token_hash(token), user_id=user_id,
            data=f'{{"_user_id": "{user_id}", "_fresh": true}}',
            created_at=now, last_seen_at=now,
        ))
        db.session.commit()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], token, domain="localhost")
    return client


@pytest.fixture
def login_as(app) -> Callable[..., RabitaClient]:
    """Return a client already signed in as ``user`` (a real server-side session)."""

    def factory(user: TestUser, client: RabitaClient | None = None) -> RabitaClient:
        return signed_in_client(app, user.id, client)

    return factory


# -- real servers and a real browser -------------------------------------------------------


class LiveServer:
    def __init__(self, app: Flask):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # Its loop looks for a shutdown every 50 ms, not every 0.5 s: a test ends sooner.
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.05})

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(make_app) -> Callable[..., LiveServer]:
    """Serve an app over real HTTP on 127.0.0.1: ``with live_server(app) as server: ...``."""
    return LiveServer


@pytest.fixture(scope="session")
def chromium_browser(tmp_path_factory):
    """Debian's Chromium, driven by Playwright (which must never download a browser)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing("Chromium is not installed (apt-get install chromium chromium-driver)")
    try:  # Playwright is needed by the browser tests alone: imported when one starts
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install playwright)")
    home = tmp_path_factory.mktemp("chromium-home")
    os.environ.setdefault("XDG_CONFIG_HOME", str(home / "config"))
    os.environ.setdefault("XDG_CACHE_HOME", str(home / "cache"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser):
    """A fresh page with its own cookies; closed after the test."""
    context = chromium_browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Keep a screenshot under .artifacts/screenshots/ for people to look at."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def make_plugin(monkeypatch, tmp_path) -> Callable[..., str]:
    """Build a throw-away plugin module from functions named after hooks; return its path.

    ``make_plugin("notes", register_permissions=lambda: [...])`` → ``"rabita_test.notes"``,
    ready for ``make_app(PLUGINS=[...])``.
    """
    def factory(name: str, **hooks: Callable) -> str:
        module = types.ModuleType(f"rabita_test.{name}")
        module.__file__ = str(tmp_path / name / "__init__.py")
        for hook_name, function in hooks.items():
            function.__name__ = hook_name
            setattr(module, hook_name, hookimpl(function))
        monkeypatch.setitem(sys.modules, module.__name__, module)
        return module.__name__

    return factory
