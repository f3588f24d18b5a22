"""The application factory: the one place a node is assembled."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from core import (
    access,
    commands,
    csrf,
    headers,
    i18n,
    kept,
    keystore,
    migrating,
    permissions,
    places,
    records,
    settings,
    vocabularies,
    wording,
)
from core.config import instance_path_from_env, load_config
from core.db import init_engine
from core.extensions import db, login_manager
from core.logs import init_logging
from core.models import User
from core.plugins import (
    PluginError,
    create_plugin_manager,
    owner_of_module,
    plugin_manager,
    results_by_plugin,
)
from core.sessions import DatabaseSessionInterface
from core.views import account, admin, auth, errors, home
from core.views import keys as keys_views
from core.views import records as records_views

CORE_DIR = Path(__file__).parent


def create_app(config: dict | None = None) -> Flask:
    """Build a node from its instance folder, the environment and ``config`` (for tests)."""
    config = dict(config or {})
    app = Flask(
        "core",
        instance_path=config.pop("INSTANCE_PATH", None) or instance_path_from_env(),
        instance_relative_config=True,
        template_folder=str(CORE_DIR / "templates"),
        static_folder=str(CORE_DIR / "static"),
    )
    load_config(app, config)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        # x_for: the sign-in throttle tells clients apart (in memory only, core/throttle.py).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    init_logging()

    db.init_app(app)
    init_engine(app)
    migrating.init_app(app)
    csrf.init_app(app)
    _init_login(app)
    app.session_interface = DatabaseSessionInterface()

    create_plugin_manager(app)
    settings.init_app(app)
    app.config["NODE_ID"] = plugin_manager(app).hook.node_id(app=app) or app.config["NODE_ID"]
    i18n.init_app(app, _plugin_folders(app, "translations"))
    wording.init_app(app)  # the filters that put codes in words
    permissions.init_app(app)
    places.init_app(app)
    vocabularies.init_app(app)
    records.init_app(app)
    keystore.init_app(app)
    _register_blueprints(app)
    _register_commands(app)
    _check_table_names(app)

    access.init_app(app)
    access.mark_static_public(app)
    access.exempt_signed_views_from_csrf(app)
    headers.init_app(app)
    errors.init_app(app)
    kept.init_app(app)
    return app


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Server-side sessions already rotate at sign-in; Flask-Login's "protection" would
    # store a hash of the client's IP address in the session, which we never keep.
    login_manager.session_protection = None
    login_manager.anonymous_user = _Anonymous

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.is_active else None


class _Anonymous:
    is_authenticated = False
    is_active = False
    is_anonymous = True
    role = None
    locale = None

    def get_id(self):
        return None

    def can(self, permission: str) -> bool:
        return False

    def must_enrol_second_factor(self) -> bool:
        return False


def _register_blueprints(app: Flask) -> None:
    for blueprint in (auth.blueprint, home.blueprint, account.blueprint, admin.blueprint,
                      keys_views.blueprint, records_views.blueprint):
        app.register_blueprint(blueprint)
    for plugin, blueprints in results_by_plugin(app, "register_blueprints"):
        for blueprint in blueprints:
            if blueprint.name != plugin:
                raise PluginError(
                    f"The plugin {plugin!r} registers a blueprint named {blueprint.name!r}; "
                    f"a plugin's blueprint must be named after the plugin: "
                    f"Blueprint({plugin!r}, __name__, ...)."
                )
            app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    commands.register(app)
    for plugin, added in results_by_plugin(app, "register_commands"):
        for command in added:
            if command.name in app.cli.commands:
                raise PluginError(
                    f"The plugin {plugin!r} adds the command {command.name!r}, which already "
                    "exists; choose another name (usually the plugin's own name)."
                )
            app.cli.add_command(command)


def _check_table_names(app: Flask) -> None:
    """Each model's table starts with its owner's name: ``core_``, or ``<plugin>_``."""
    for mapper in db.Model.registry.mappers:
        owner = owner_of_module(app, mapper.class_.__module__)
        table = mapper.local_table.name
        if owner is not None and not table.startswith(f"{owner}_"):
            raise PluginError(
                f"The model {mapper.class_.__name__} of {owner!r} uses the table {table!r}; "
                f"tables of {owner!r} must start with '{owner}_' (set __tablename__)."
            )


def _plugin_folders(app: Flask, folder: str) -> list[str]:
    folders = []
    for _name, module in plugin_manager(app).list_name_plugin():
        path = Path(module.__file__).parent / folder
        if path.is_dir():
            folders.append(str(path))
    return folders
