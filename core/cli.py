"""The ``rabita`` command: it builds the node from its instance folder, and ``init`` creates
one. Core's command groups (users, db, audit, keys, records, consent) are in
``core.commands``; plugins add their own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy.engine import make_url

from core import backup, keystore, migrating, passwords, scaffold, users
from core.app import create_app
from core.commands import read_passphrase, read_password, read_secret, upgrade
from core.config import ENV_PREFIX, StartupError
from core.extensions import db
from core.permissions import ADMIN
from core.plugins import plugin_manager
from core.users import USERNAME, normalise_username

CONFIG_TEMPLATE = '''\
# This node's configuration, written by `rabita init`. Keep this file secret (mode 0600):
# it holds the key that signs sessions. See instance/config.py.example for every setting.
NODE_NAME = {node_name!r}
SECRET_KEY = {secret!r}
PLUGINS = {plugins!r}
{database}'''

DEFAULT_PLUGINS: list[str] = []


def _set_instance(ctx, param, value):
    if value:
        os.environ[f"{ENV_PREFIX}_INSTANCE_PATH"] = str(Path(value).resolve())
    return value


def _create_app():
    return create_app()


class RabitaGroup(FlaskGroup):
    """Flask's command group, loading the node from its instance folder."""


@click.group(
    "rabita",
    cls=RabitaGroup,
    create_app=_create_app,
    load_dotenv=False,
    set_debug_flag=False,
    help="Rabita: a federated platform for women human rights defenders' networks.",
)
@click.option(
    "--instance",
    metavar="DIR",
    expose_value=False,
    is_eager=True,
    callback=_set_instance,
    help="The node's instance folder (default: $RABITA_INSTANCE_PATH, or ./instance).",
)
def cli():
    pass


def main() -> None:
    """The console script: start-up problems are printed as the sentence they are."""
    try:
        cli.main(prog_name="rabita")
    except StartupError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)


@cli.command("init", with_appcontext=False)
@click.option("--node-name", default="Rabita node", show_default=True, help="Shown in pages.")
@click.option("--database-url", default=None, help="Default: an SQLite file in the instance.")
@click.option("--admin", "admin_name", default=None, help="Username of the first administrator.")
@click.option(
    "--admin-password-file", type=click.File("r"), default=None,
    help="Read her password from this file (first line) instead of asking.",
)
@click.option(
    "--passphrase-file", type=click.File("r"), default=None,
    help="Read the node passphrase (which unlocks identifying data) from this file.",
)
@click.option("--plugin", "plugins", multiple=True, help="A plugin to turn on (repeatable).")
def init_command(node_name, database_url, admin_name, admin_password_file, passphrase_file,
                 plugins):
    """Create this node's instance folder: secret, config, keys, database, first admin."""
    folder = Path(os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH") or _default_instance())
    config_file = folder / "config.py"
    if config_file.exists():
        raise click.ClickException(
            f"{config_file} already exists: this node is already initialised. Nothing was changed."
        )
    admin_name = admin_name or click.prompt("Username of the first administrator")
    password = read_password(admin_password_file)
    _check_admin(admin_name, password)
    passphrase = read_passphrase(passphrase_file)

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = f"SQLALCHEMY_DATABASE_URI = {database_url!r}\n" if database_url else ""
    config_file.write_text(
        CONFIG_TEMPLATE.format(
            node_name=node_name,
            secret=secrets.token_urlsafe(48),
            plugins=list(plugins) or DEFAULT_PLUGINS,
            database=database,
        )
    )
    config_file.chmod(stat.S_IRUSR | stat.S_IWUSR)
    os.environ[f"{ENV_PREFIX}_INSTANCE_PATH"] = str(folder.resolve())
    keystore.create_keyring(folder / keystore.KEYRING_FILE, passphrase)

    app = create_app()
    with app.app_context():
        upgrade(app)
        users.create(admin_name, password, ADMIN)
        db.session.commit()
        keystore.keystore(app).unlock_here(passphrase)  # keys made now are wrapped by it
        plugin_manager(app).hook.node_initialised(app=app)
    click.echo(f"Initialised {folder}.")
    click.echo(f"Start the node with: rabita --instance {folder} run")
    click.echo("The administrator enrols her second factor at her first sign-in.")
    click.echo("The node starts locked: an administrator unlocks it with the node passphrase.")


@cli.command("restore", with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.File("r"), default=None,
              help="Read the backup passphrase from this file (first line).")
def restore_command(file, passphrase_file):
    """Restore a backup (rabita backup FILE) onto a new, empty instance folder."""
    folder = Path(os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH") or _default_instance())
    if folder.exists() and any(folder.iterdir()):
        raise click.ClickException(f"{folder} is not empty: restore onto a new instance "
                                   "folder. Nothing was written.")
    passphrase = read_secret(passphrase_file, "Backup passphrase", confirm=False)
    made = not folder.exists()
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".rabita-restore-", dir=folder.parent) as scratch:
        try:
            manifest = backup.open_into(file, passphrase, Path(scratch))
            _refuse_newer(manifest, Path(scratch) / "instance")
            _restore(manifest, Path(scratch), folder)
        except (backup.BackupError, StartupError) as error:
            _undo_restore(folder, made)
            raise click.ClickException(f"{error} Nothing was written.") from error
    click.echo(f"Restored {folder} from the backup taken {manifest.created_at}"
               f" (node {manifest.node_id or 'without a federation id'}).")
    click.echo("The node starts locked: an administrator unlocks it with the node passphrase.")


# Restoring unlocks nothing: the config's PASSPHRASE_FILE may name a file that is not in place
# yet (or was lost with the machine); the node is unlocked as after any start.
_LOCKED = {"PASSPHRASE_FILE": None}


def _refuse_newer(manifest: backup.Manifest, instance: Path) -> None:
    """An archive whose database is at a migration this code does not know is from a newer
    Rabita (or needs a plugin not installed here): refused before anything is written."""
    app = create_app({"INSTANCE_PATH": str(instance), **_LOCKED})
    with app.app_context():
        known = {script.revision for script in migrating.scripts(app).walk_revisions()}
    unknown = backup.unknown_revisions(manifest, known)
    if unknown:
        raise backup.BackupError(
            f"The backup comes from a newer version of Rabita, or needs a plugin not installed "
            f"here (its database is at {', '.join(unknown)}): install that version first.")


def _restore(manifest: backup.Manifest, scratch: Path, folder: Path) -> None:
    backup.restore_files(scratch, manifest, folder)
    os.environ[f"{ENV_PREFIX}_INSTANCE_PATH"] = str(folder.resolve())
    app = create_app(_LOCKED)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest.database == "sqlite":
        if url.get_backend_name() != "sqlite":
            raise backup.BackupError("The backup holds an SQLite database but the restored "
                                     "config names another kind.")
        backup.restore_sqlite(scratch, Path(url.database))
    else:
        backup.restore_postgresql(scratch, app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        upgrade(app)  # a backup of an older version: migrated to this one
        plugin_manager(app).hook.node_restored(app=app, taken_at=manifest.created_at)


def _undo_restore(folder: Path, made: bool) -> None:
    """Leave the target as it was: removed if this command made it, emptied otherwise (it was
    empty)."""
    if not folder.exists():
        return
    if made:
        shutil.rmtree(folder)
        return
    for path in folder.iterdir():
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


@cli.group("plugin", help="Write a new plugin.")
def plugin_group():
    pass


@plugin_group.command("new", with_appcontext=False)
@click.argument("name")
@click.option("--record-type", "kind", default="entry", show_default=True,
              help="Its record type is <name>.<this>.")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default="plugins",
              show_default=True, help="The folder the plugin's folder is written in.")
@click.option("--tests", type=click.Path(file_okay=False, path_type=Path),
              default="tests/plugins", show_default=True,
              help="The folder its tests' folder is written in.")
def plugin_new(name, kind, into, tests):
    """Write a plugin in the standard shape: one record type, its page, catalogs, a test."""
    try:
        written = scaffold.write_plugin(name, into, tests, kind)
    except scaffold.ScaffoldError as error:
        raise click.ClickException(f"{error} Nothing was written.") from error
    for path in written:
        click.echo(f"wrote {path}")
    package = scaffold.package_of(into / name)
    click.echo(f"Next: add {package!r} to PLUGINS in the instance config, then run\n"
               f"  rabita db revision --branch {name} -m \"{name} tables\"\n"
               f"  rabita db upgrade\n"
               f"  pytest {tests / name}")


# -- helpers -------------------------------------------------------------------------------


def _default_instance() -> str:
    return Flask("core").instance_path


def _check_admin(username: str, password: str) -> None:
    if not USERNAME.match(normalise_username(username)):
        raise click.ClickException(
            "A username has 3 to 32 characters: Latin letters, digits, dot, dash, underscore. "
            "Nothing was changed."
        )
    try:
        passwords.check_new(password, username)
    except passwords.PasswordRejected as error:
        raise click.ClickException(f"{error} Nothing was changed.") from error


if __name__ == "__main__":
    main()
