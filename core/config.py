"""Configuration: safe defaults, then the instance file, then RABITA_* environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

ENV_PREFIX = "RABITA"


class StartupError(RuntimeError):
    """Raised when a node cannot start; the message says how to fix it."""


class Defaults:
    """Every setting a node reads, with the value a node gets when nothing else is said."""

    NODE_NAME = "Rabita node"
    SECRET_KEY: str | None = None
    # Deny by default: no plugin runs unless the instance config names it.
    PLUGINS: list[str] = []
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: the SQLite file in the instance folder
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Database errors must not carry stored values into logs or error reports.
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    LANGUAGES = ("ar", "en", "fr")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    # Sessions live in the database; the cookie holds only a random token.
    SESSION_COOKIE_NAME = "rabita_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    SESSION_COOKIE_SECURE = False  # also set whenever the request itself came over HTTPS
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    INVITE_VALID_FOR = timedelta(hours=72)
    # Password checks (argon2id, ~0.25 s of both cores each on a small server) each worker
    # process makes at most, a second and at once: a flood of guesses cannot keep the
    # workers from serving pages (core/throttle.py; bench/signin.py measures it). One at
    # once: a worker's threads would otherwise run several checks together, and the pages
    # served beside them would wait for the cores.
    SIGNIN_HASHES_PER_SECOND = 0.2
    SIGNIN_HASH_BURST = 1
    # This node's id in records' `origin` (federation sets it from the node's public key).
    NODE_ID = "local"
    # Unattended unlock: a file holding the node passphrase (see docs/confidentiality.md).
    PASSPHRASE_FILE: str | None = None
    # Where worker processes share the unlocked keyring: RAM only, never a disk.
    KEY_SHARE_DIR: str | None = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
    # Per record type, whether a reviewer must approve payloads: {"cases.case": True}.
    REVIEW_REQUIRED: dict[str, bool] = {}
    # Behind a reverse proxy that sets X-Forwarded-Proto/Host, set to the number of proxies.
    PROXY_COUNT = 0
    # The countries whose places the forms offer, down to their first-level subdivisions
    # (ISO 3166-1 codes: ["MA", "YE"]). Empty: those of the active country plugins, or every
    # country when none is active (a long list: name yours). Any known place is accepted.
    COUNTRIES: list[str] = []


def load_config(app: Flask, overrides: dict | None) -> None:
    """Fill app.config: defaults, instance/config.py, RABITA_* env, then explicit overrides."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(ENV_PREFIX)
    if overrides:
        app.config.update(overrides)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = sqlite_url(Path(app.instance_path) / "rabita.db")
    _require_secret(app)
    _require_database_driver(app)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def instance_path_from_env() -> str | None:
    path = os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH")
    return str(Path(path).resolve()) if path else None


def _require_database_driver(app: Flask) -> None:
    """A PostgreSQL URL needs PostgreSQL's driver, an extra (``rabita[postgresql]``): say so
    at start-up rather than at the first query. A SQLite node never imports it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return
    try:
        url.get_dialect().import_dbapi()  # imports the driver the URL names (psycopg)
    except ImportError as error:
        raise StartupError(
            "Rabita cannot start: its database URL names PostgreSQL, but the driver "
            f"{url.get_driver_name()!r} is not installed. Install PostgreSQL support with: "
            "pip install 'rabita[postgresql]' (it brings psycopg: write the URL as "
            "postgresql+psycopg://…)."
        ) from error


def _require_secret(app: Flask) -> None:
    if app.config.get("TESTING"):
        return
    secret = app.config.get("SECRET_KEY")
    if not secret:
        raise StartupError(
            "Rabita cannot start: SECRET_KEY is not set. Run `rabita init` to create an "
            f"instance folder, or set RABITA_SECRET_KEY (instance folder: {app.instance_path})."
        )
    if len(secret) < 32:
        raise StartupError(
            "Rabita cannot start: SECRET_KEY is shorter than 32 characters. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
