"""Alembic plumbing: one version branch per package (core, each plugin), how a new revision of
a branch is written, and whether the migrated database matches the models."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app

from core.extensions import db, migrate
from core.plugins import plugin_manager

MIGRATIONS = Path(__file__).parent / "migrations"
CORE_VERSIONS = MIGRATIONS / "versions"
UNMODELLED = "rabita.unmodelled"
# Set on an Alembic config while a revision of one branch is written: env.py then compares
# only that branch's tables, so another branch's pending changes never land in it.
BRANCH_ATTRIBUTE = "rabita.branch"


class MigrationError(ValueError):
    """A revision cannot be written; the message says why and what to do."""


def init_app(app: Flask) -> None:
    migrate.init_app(app, db, directory=str(MIGRATIONS))


def declare_unmodelled_tables(prefix: str) -> None:
    """Tables a plugin makes with raw DDL (a full-text index, say), named ``<prefix>...``:
    schema comparisons leave them alone. Call it at import, beside the models."""
    db.metadata.info.setdefault(UNMODELLED, set()).add(prefix)


def unmodelled(table_name: str) -> bool:
    return any(table_name.startswith(p) for p in db.metadata.info.get(UNMODELLED, ()))


def owned_by_active_code(app: Flask, table_name: str) -> bool:
    """True for core's tables and those of plugins this instance turned on."""
    owners = ["core", *(name for name, _ in plugin_manager(app).list_name_plugin())]
    return any(table_name.startswith(f"{owner}_") for owner in owners)


def compared(app: Flask, name: str, reflected: bool, compare_to, branch: str | None = None) -> bool:
    """Whether a table takes part in a comparison of models and database (of one branch)."""
    if reflected and compare_to is None and unmodelled(name):
        return False  # made by raw DDL (a full-text index): not in the models
    if branch is not None:
        return name.startswith(f"{branch}_")
    return name != "alembic_version" and owned_by_active_code(app, name)


def version_locations(app: Flask) -> list[str]:
    """Core's migration folder, then each active plugin's ``migrations/`` folder."""
    folders = [str(CORE_VERSIONS)]
    for _name, module in plugin_manager(app).list_name_plugin():
        folder = Path(module.__file__).parent / "migrations"
        if folder.is_dir():
            folders.append(str(folder))
    return folders


@migrate.configure
def _add_version_locations(config: Config) -> Config:
    config.set_main_option("version_locations", os.pathsep.join(version_locations(current_app)))
    return config


def branch_folder(app: Flask, branch: str) -> Path:
    """Where new migrations of ``branch`` (core or an active plugin's name) are written."""
    if branch == "core":
        return CORE_VERSIONS
    module = plugin_manager(app).get_plugin(branch)
    if module is None:
        raise MigrationError(
            f"No active plugin is named {branch!r}: add it to PLUGINS in the instance config "
            "(rabita db revision writes migrations of active code only).")
    return Path(module.__file__).parent / "migrations"


def scripts(app: Flask) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(version_locations(app)))
    return ScriptDirectory.from_config(config)


def up_to_date(app: Flask) -> bool:
    """Whether the database stands at the head of every migration branch of the app's code
    (nothing for ``rabita db upgrade`` to do)."""
    with app.app_context(), db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == set(scripts(app).get_heads())


def branch_revisions(app: Flask, branch: str) -> list[str]:
    """The revision ids of ``branch``, newest first (empty for a plugin without migrations)."""
    return [r.revision for r in scripts(app).walk_revisions()
            if branch in (r.branch_labels or ()) or r.revision.startswith(f"{branch}_")]


def write_revision(app: Flask, branch: str, message: str) -> Path:
    """Write the next migration of ``branch`` from the differences between its models and the
    database (which must be up to date); returns the new file.

    The file is ``<branch>_<NNNN>_<message>.py`` in the branch's folder (made if missing). A
    plugin's first revision starts its branch (``branch_labels = ("<branch>",)``) and
    ``depends_on`` core's newest revision, so core's tables exist before the plugin's.
    """
    folder = branch_folder(app, branch)
    folder.mkdir(exist_ok=True)
    existing = branch_revisions(app, branch)
    config = current_app.extensions["migrate"].migrate.get_config(opts=["autogenerate"])
    config.attributes[BRANCH_ATTRIBUTE] = branch
    if importlib.util.find_spec("ruff") is not None:  # a developer's machine: format it as
        _format_with_ruff(config)                     # the project's code is
    script = command.revision(
        config, message, autogenerate=True,
        head=f"{branch}@head" if existing else "base",
        branch_label=None if existing else branch,
        depends_on=None if existing or branch == "core" else branch_revisions(app, "core")[0],
        version_path=str(folder),
        rev_id=f"{branch}_{len(existing) + 1:04d}",
    )
    return Path(script.path)


def _format_with_ruff(config: Config) -> None:
    """Alembic's post-write hook runs ``python -m ruff format`` on the new file."""
    for option, value in (("hooks", "ruff"), ("ruff.type", "module"), ("ruff.module", "ruff"),
                          ("ruff.options", "format REVISION_SCRIPT_FILENAME")):
        config.set_section_option("post_write_hooks", option, value)


def schema_differences(app: Flask) -> list[str]:
    """What differs between the models and the database (empty when migrations match)."""

    def include(obj, name, type_, reflected, compare_to):
        return type_ != "table" or compared(app, name, reflected, compare_to)

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return [str(difference) for difference in compare_metadata(context, db.metadata)]


def walk_branch(app: Flask, branch: str) -> None:
    """Upgrade every branch, take ``branch`` down to nothing and up again (a plugin's test);
    a failing step raises (Alembic's own error), where Flask-Migrate's commands would exit."""
    config = app.extensions["migrate"].migrate.get_config()
    command.upgrade(config, "heads")
    command.downgrade(config, f"{branch}@base")
    command.upgrade(config, "heads")


def complete_sqlite_timestamps(bind, tables: tuple[str, ...]) -> int:
    """For data migrations: give every date-time value of ``tables`` stored on SQLite in the
    short form ``2026-11-28 20:15:00`` (rows written through the driver's own conversion
    before issue 14, when a moment had no microseconds) the form SQLAlchemy writes and
    compares, ``2026-11-28 20:15:00.000000``. Stored as text, the short form sorted before
    the long one of the same second (an entry signed in the very second of a key's revocation
    compared as before it). PostgreSQL stores real timestamps: nothing to do. Returns how many
    values were completed. Kept as it is: migrations that ran call it."""
    if bind.dialect.name != "sqlite":
        return 0
    inspector = sa.inspect(bind)
    done = 0
    for table in tables:
        for column in inspector.get_columns(table):
            if isinstance(column["type"], sa.DateTime):
                name = column["name"]
                done += bind.execute(sa.text(
                    f'UPDATE "{table}" SET "{name}" = "{name}" || \'.000000\' '  # noqa: S608 - names from the schema
                    f'WHERE typeof("{name}") = \'text\' AND length("{name}") = 19')).rowcount
    return done
