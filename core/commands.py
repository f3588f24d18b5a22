"""Core's command groups, added to every node's ``rabita`` command: users, db, audit,
keys, records and consent (plugins add their own through ``register_commands``).

The ``rabita`` command itself, which builds the app, is ``core.cli``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import alembic.util
import click
import flask_migrate
from alembic.migration import MigrationContext
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core import audit, backup, consent, keystore, migrating, records, settings, users
from core.extensions import db
from core.models import User
from core.permissions import ROLES
from core.plugins import plugin_manager


def register(app: Flask) -> None:
    """Add core's command groups to the app's CLI (replacing Flask-Migrate's ``db``)."""
    for group in (users_group, db_group, audit_group, keys_group, records_group,
                  consent_group, backup_group, settings.settings_command):
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
    password = read_password(password_file)
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
    for user in db.session.scalars(select(User).order_by(User.username)):
        factor = "2fa" if user.totp_secret else "no-2fa"
        state = "active" if user.is_active else "disabled"
        click.echo(f"{user.username}\t{user.role}\t{factor}\t{state}")


@users_group.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username):
    """Disable a user and end all her sessions."""
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
def dbupgrade(revision):
    """Bring the database up to date (every branch, unless --revision says otherwise)."""
    upgrade(current_app, revision)
    click.echo("The database is up to date.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision):
    """Step back to REVISION (e.g. cases@-1, or base to remove everything)."""
    flask_migrate.downgrade(revision=revision)


@db_group.command("current")
@with_appcontext
def db_current():
    """Show the revision each branch is at."""
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


def upgrade(app: Flask, revision: str = "heads") -> None:
    flask_migrate.upgrade(revision=revision)


# -- backup ---------------------------------------------------------------------------------


class _BackupGroup(click.Group):
    """``rabita backup FILE`` writes an archive; ``rabita backup verify FILE`` checks one."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["create", *args]
        return super().resolve_command(ctx, args)


@click.group("backup", cls=_BackupGroup,
             help="rabita backup FILE: write an encrypted backup of this node; "
                  "rabita backup verify FILE: check one.")
def backup_group():
    pass


@backup_group.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.File("r"), default=None,
              help="Read the backup passphrase from this file (first line).")
@with_appcontext
def backup_create(file, passphrase_file):
    """Write one encrypted archive of the database, config and wrapped keys (rabita restore)."""
    passphrase = read_secret(passphrase_file, "Backup passphrase", confirm=True)
    if len(passphrase) < 12:
        raise click.ClickException("A backup passphrase has at least 12 characters. "
                                   "Nothing was written.")
    instance = Path(current_app.instance_path)
    url = db.engine.url
    total = sum(path.stat().st_size for path in instance.rglob("*") if path.is_file())
    with click.progressbar(length=max(total, 1), label="Writing the backup",
                           file=sys.stderr) as bar:
        try:
            manifest = backup.write(
                file, passphrase, instance=instance,
                database_url=url.render_as_string(hide_password=False),
                node_id=_node_id(), revisions=_revisions(), progress=bar.update)
        except (backup.BackupError, OSError) as error:
            raise click.ClickException(f"{error} Nothing was written.") from error
    click.echo(f"Wrote {file}: the {manifest.database} database and {len(manifest.files) - 1} "
               f"files of the instance folder, taken {manifest.created_at}. Keep the backup "
               "passphrase apart from the file: without it the archive cannot be opened.")


@backup_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.File("r"), default=None)
def backup_verify(file, passphrase_file):
    """Open an archive and check every part of it, writing nothing."""
    passphrase = read_secret(passphrase_file, "Backup passphrase", confirm=False)
    with tempfile.TemporaryDirectory(prefix="rabita-verify-") as scratch:
        try:
            manifest = backup.open_into(file, passphrase, Path(scratch))
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"{file} is intact: node {manifest.node_id or '(no federation id)'}, taken "
               f"{manifest.created_at}, {manifest.database} database at "
               f"{', '.join(sorted(manifest.revisions.values()))}, {len(manifest.files)} files "
               "checked.")


def _node_id() -> str | None:
    return plugin_manager(current_app).hook.node_id(app=current_app)  # firstresult


def _revisions() -> dict[str, str]:
    """The database's revision of each migration branch (branch: the revision's prefix)."""
    with db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return {head.rsplit("_", 1)[0]: head for head in heads}


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
    passphrase = read_passphrase(passphrase_file)
    try:
        keystore.create_keyring(keystore.keyring_path(), passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Created the node's keyring. Keep the passphrase apart from the server.")


@keys_group.command("unlock")
@click.option("--passphrase-file", type=click.File("r"), default=None)
@with_appcontext
def keys_unlock(passphrase_file):
    """Unlock the node for its processes on this machine (as the unlock page does for the
    machine that serves it); a hub on several servers unlocks each machine."""
    passphrase = read_secret(passphrase_file, "Node passphrase", confirm=False)
    try:
        keystore.keystore().unlock(passphrase)
    except keystore.KeyStoreError as error:
        audit.record("keys.unlock_failed")
        db.session.commit()
        raise click.ClickException(str(error)) from error
    audit.record("keys.unlocked")
    db.session.commit()
    click.echo("The node is unlocked on this machine.")


@keys_group.command("lock")
@with_appcontext
def keys_lock():
    """Lock the node for its processes on this machine (each machine of a hub on several
    servers is locked on its own)."""
    keystore.keystore().lock()
    audit.record("keys.locked")
    db.session.commit()
    click.echo("The node is locked on this machine.")


@keys_group.command("change-passphrase")
@click.option("--old-file", type=click.File("r"), default=None)
@click.option("--new-file", type=click.File("r"), default=None)
@with_appcontext
def keys_change_passphrase(old_file, new_file):
    """Wrap the node key with a new passphrase (the data is not touched)."""
    old = read_secret(old_file, "Current node passphrase", confirm=False)
    new = read_passphrase(new_file, prompt="New node passphrase")
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
    passphrase = read_secret(passphrase_file, "Node passphrase", confirm=False)
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


@records_group.command("upgrade")
@click.option("--passphrase-file", type=click.File("r"), default=None)
@with_appcontext
def records_upgrade(passphrase_file):
    """Bring stored records up to their record types' versions (once, after `db upgrade`)."""
    passphrase = read_secret(passphrase_file, "Node passphrase", confirm=False)
    try:
        keystore.keystore().unlock_here(passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    done = records.upgrade()
    for name, (changed, revoked) in done.items():
        click.echo(f"{name}: {changed} records changed (each waits for a documenter and a "
                   f"review); {revoked} approvals revoked, the others kept.")
    if not done:
        click.echo("Every record type's stored records are at its version.")


def _change_texts(passphrase_file, change: str, action: str, done: str) -> None:
    passphrase = read_secret(passphrase_file, "Node passphrase", confirm=False)
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
    ended = consent.expire_due()
    click.echo(f"{len(ended)} consents expired.")


# -- helpers -------------------------------------------------------------------------------


def read_password(password_file) -> str:
    return read_secret(password_file, "Password", confirm=True)


def read_secret(secret_file, prompt: str, confirm: bool) -> str:
    if secret_file is not None:
        return secret_file.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise click.ClickException(f"No terminal to ask for it: pass a file ({prompt}).")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def read_passphrase(passphrase_file, prompt: str = "Node passphrase") -> str:
    passphrase = read_secret(passphrase_file, prompt, confirm=True)
    try:
        keystore.check_passphrase(passphrase)
    except keystore.KeyStoreError as error:
        raise click.ClickException(str(error)) from error
    return passphrase
