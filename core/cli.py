"""The ``rabita`` command line: init, run, users, db, audit (plugins add their own groups)."""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

import alembic.util
import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from core import audit, keystore, migrating, passwords
from core.config import ENV_PREFIX, StartupError
from core.extensions import db
from core.permissions import ADMIN, ROLES

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
    from core.app import create_app

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
    password = _read_password(admin_password_file)
    _check_admin(admin_name, password)
    passphrase = _read_passphrase(passphrase_file)

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

    from core.app import create_app

    app = create_app()
    with app.app_context():
        _upgrade(app)
        from core import users

        users.create(admin_name, password, ADMIN)
        db.session.commit()
        from core.plugins import plugin_manager

        keystore.keystore(app).unlock_here(passphrase)  # keys made now are wrapped by it
        plugin_manager(app).hook.node_initialised(app=app)
    click.echo(f"Initialised {folder}.")
    click.echo(f"Start the node with: rabita --instance {folder} run")
    click.echo("The administrator enrols her second factor at her first sign-in.")
    click.echo("The node starts locked: an administrator unlocks it with the node passphrase.")


def register(app: Flask) -> None:
    """Add core's command groups to the app's CLI (replacing Flask-Migrate's ``db``)."""
    for group in (users_group, db_group, audit_group, keys_group, records_group,
                  consent_group):
        app.cli.add_command(group)


# -- users ---------------------------------------------------------------------------------


@click.group("users", help="Create, list and disable users.")
def users_group():
    pass


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--password-file", type=click.File("r"), default=None)
@with_appcontext
def users_create(username, role, password_file):
    """Create a user; she enrols a second factor at first sign-in if her role needs one."""
    from core import users

    password = _read_password(password_file)
    try:
        user = users.create(username, password, role)
    except users.UserError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was changed.") from error
    db.session.commit()
    click.echo(f"Created {user.username} ({role}).")


@users_group.command("list")
@with_appcontext
def users_list():
    """List users: username, role, second factor, state."""
    from core.models import User

    for user in db.session.scalars(select(User).order_by(User.username)):
        factor = "2fa" if user.totp_secret else "no-2fa"
        state = "active" if user.is_active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{factor}\t{state}")


@users_group.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username):
    """Disable a user and end all her sessions."""
    from core import users

    user = users.find(username)
    if user is None:
        raise click.ClickException(f"There is no user named {username!r}. Nothing was changed.")
    try:
        users.disable(user, actor=None)
    except users.UserError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was changed.") from error
    db.session.commit()
    click.echo(f"Disabled {user.username}; her sessions are ended.")


# -- db ------------------------------------------------------------------------------------


@click.group("db", help="Database migrations (one branch for core and one per plugin).")
def db_group():
    pass


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def db_upgrade(revision):
    """Bring the database up to date (every branch, unless --revision says otherwise)."""
    _upgrade(current_app, revision)
    click.echo("The database is up to date.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision):
    """Step back to REVISION (e.g. cases@-1, or base to remove everything)."""
    import flask_migrate

    flask_migrate.downgrade(revision=revision)


@db_group.command("current")
@with_appcontext
def db_current():
    """Show the revision each branch is at."""
    import flask_migrate

    flask_migrate.current()


@db_group.command("check")
@with_appcontext
def db_check():
    """Fail if the models and the migrated database differ."""
    differences = migrating.schema_differences(current_app)
    if differences:
        for difference in differences:
            click.echo(f"  {difference}", err=True)
        raise click.ClickException("The database does not match the models; write a migration.")
    click.echo("The database matches the models.")


@db_group.command("revision")
@click.option("--branch", required=True, help="core, or the plugin whose tables changed.")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(branch, message):
    """Write a new migration for one branch from the differences with the models.

    The database must be up to date first (rabita db upgrade). A plugin's first migration
    starts its branch and depends on core's newest one.
    """
    try:
        path = migrating.write_revision(current_app, branch, message)
    except (migrating.MigrationError, alembic.util.CommandError) as error:
        raise click.ClickException(f"{error} Nothing was written.") from error
    click.echo(f"Wrote {path}; read it, then run: rabita db upgrade")


def _upgrade(app: Flask, revision: str = "heads") -> None:
    import flask_migrate

    flask_migrate.upgrade(revision=revision)


# -- audit ---------------------------------------------------------------------------------


@click.group("audit", help="The audit log.")
def audit_group():
    pass


@audit_group.command("verify")
@with_appcontext
def audit_verify():
    """Check every link of the audit log's hash chain; name the first broken one."""
    checked, broken = audit.verify()
    if broken:
        raise click.ClickException(
            f"The audit log is broken at entry {broken.seq}: {broken.reason}. "
            f"{checked} entries before it are intact."
        )
    click.echo(f"The audit log is intact: {checked} entries, every link verified.")


# -- keys ----------------------------------------------------------------------------------


@click.group("keys", help="The node key that protects identifying data.")
def keys_group():
    pass


@keys_group.command("init")
@click.option("--passphrase-file", type=click.File("r"), default=None)
@with_appcontext
def keys_init(passphrase_file):
    """Create the node's keyring (done by `rabita init`; for nodes made before it)."""
    passphrase = _read_passphrase(passphrase_file)
    try:
        keystore.create_keyring(keystore.keyring_path(), passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Created the node's keyring. Keep the passphrase apart from the server.")


@keys_group.command("change-passphrase")
@click.option("--old-file", type=click.File("r"), default=None)
@click.option("--new-file", type=click.File("r"), default=None)
@with_appcontext
def keys_change_passphrase(old_file, new_file):
    """Wrap the node key with a new passphrase (the data is not touched)."""
    old = _read_secret(old_file, "Current node passphrase", confirm=False)
    new = _read_passphrase(new_file, prompt="New node passphrase")
    try:
        keystore.keystore().change_passphrase(old, new)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    audit.record("keys.passphrase_changed")
    db.session.commit()
    click.echo("The node passphrase is changed.")


@keys_group.command("rotate")
@click.option("--passphrase-file", type=click.File("r"), default=None)
@with_appcontext
def keys_rotate(passphrase_file):
    """Make a new node key and re-wrap every record's data key with it."""
    from core import records

    passphrase = _read_secret(passphrase_file, "Node passphrase", confirm=False)
    store = keystore.keystore()
    try:
        store.unlock_here(passphrase)
        store.begin_rotation(passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    count = records.rewrap_all()
    audit.record("keys.rotated", records=count)
    db.session.commit()
    store.finish_rotation(passphrase)
    click.echo(f"Rotated the node key; re-wrapped {count} data keys.")


# -- records -------------------------------------------------------------------------------


@click.group("records", help="Records kept by the node's plugins.")
def records_group():
    pass


@records_group.command("seal-texts")
@click.option("--passphrase-file", type=click.File("r"), default=None)
@with_appcontext
def records_seal_texts(passphrase_file):
    """Seal the open texts written before texts were sealed at rest (once, after upgrading)."""
    _change_texts(passphrase_file, "seal_all_texts", "records.texts_sealed",
                  "Sealed {count} open texts; their columns now hold their scrubbed form.")


@records_group.command("unseal-texts")
@click.option("--passphrase-file", type=click.File("r"), default=None)
@with_appcontext
def records_unseal_texts(passphrase_file):
    """Put open texts back in clear, as written: only before downgrading below cases_0004."""
    _change_texts(passphrase_file, "unseal_all_texts", "records.texts_unsealed",
                  "Unsealed {count} open texts: they are readable in the database again.")


def _change_texts(passphrase_file, change: str, action: str, done: str) -> None:
    from core import records

    passphrase = _read_secret(passphrase_file, "Node passphrase", confirm=False)
    try:
        keystore.keystore().unlock_here(passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    count = getattr(records, change)()
    audit.record(action, texts=count)
    db.session.commit()
    click.echo(done.format(count=count))


# -- consent -------------------------------------------------------------------------------


@click.group("consent", help="Consent housekeeping.")
def consent_group():
    pass


@consent_group.command("expire")
@with_appcontext
def consent_expire():
    """End every consent whose expiry date has come (run daily, e.g. from cron)."""
    from core import consent

    ended = consent.expire_due()
    click.echo(f"{len(ended)} consents expired.")


# -- helpers -------------------------------------------------------------------------------


def _default_instance() -> str:
    return Flask("core").instance_path


def _read_password(password_file) -> str:
    return _read_secret(password_file, "Password", confirm=True)


def _read_secret(secret_file, prompt: str, confirm: bool) -> str:
    if secret_file is not None:
        return secret_file.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise click.ClickException(f"No terminal to ask for it: pass a file ({prompt}).")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def _read_passphrase(passphrase_file, prompt: str = "Node passphrase") -> str:
    passphrase = _read_secret(passphrase_file, prompt, confirm=True)
    try:
        keystore.check_passphrase(passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    return passphrase


def _check_admin(username: str, password: str) -> None:
    from core.users import USERNAME, normalise_username

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
