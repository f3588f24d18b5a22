"""``rabita cases …`` commands."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from core import keystore
from core.extensions import db

from .sample import create
from .store import recount


@click.group("cases", help="Cases: documenting violations against defenders.")
def cases_group():
    pass


@cases_group.command("sample")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--passphrase-file", type=click.File("r"), default=None,
              help="Unlock the node for this command only.")
@with_appcontext
def sample_command(count: int, seed: int, passphrase_file):
    """Add COUNT fictional cases (the node must be unlocked: their names are sealed)."""
    if passphrase_file is not None:
        try:
            keystore.keystore().unlock_here(passphrase_file.readline().rstrip("\n"))
        except keystore.KeyStoreError as error:
            raise click.ClickException(str(error)) from error
    if not keystore.keystore().unlocked:
        raise click.ClickException(
            "The node is locked; unlock it first (PASSPHRASE_FILE, or the Node key page)."
        )
    with click.progressbar(length=count, label="Writing fictional cases") as bar:
        written = 0
        while written < count:
            step = min(1000, count - written)
            create(step, seed=seed + written)
            written += step
            bar.update(step)
    click.echo(f"Added {written} fictional cases.")


@cases_group.command("recount")
@with_appcontext
def recount_command():
    """Rebuild the case tallies that list totals come from (after a restore, say)."""
    total = recount()
    db.session.commit()
    click.echo(f"Counted {total} cases.")


@cases_group.command("index-names")
@with_appcontext
def index_names_command():
    """Write the blind index of name words (find a defender by part of her name) for every
    case; needed once for cases saved before it existed. The node must be unlocked."""
    from .names import index_all  # the command module stays light for `rabita --help`

    if not keystore.keystore().unlocked:
        raise click.ClickException(
            "The node is locked; unlock it first (the Node key page, or rabita keys unlock).")
    count = index_all()
    db.session.commit()
    click.echo(f"Indexed the names of {count} defenders.")
