"""Federation's command line: ``rabita peers``, ``rabita sync``, ``rabita bundle`` and
``rabita federation`` (keys, retraction, quarantines). Messages are for the operator's
terminal; none prints a key, a payload or an address other than the one she typed."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from core import keystore
from core.extensions import db
from federation import (
    bundles,
    catchup,
    identity,
    outbox,
    peers,
    push,
    restored,
    sealing,
    shared,
    signing,
    statistics,
    sync,
)
from federation.reasons import Refused


def _peer(reference: str):
    try:
        peer = peers.find(reference)
    except peers.AmbiguousPeer as ambiguous:
        raise click.ClickException(f"{ambiguous} Nothing was changed.") from None
    if peer is None:
        raise click.ClickException(
            f"No peer matches {reference!r}; see `rabita peers list`. Nothing was changed."
        )
    return peer


def _refused(refused: Refused) -> click.ClickException:
    return click.ClickException(f"Refused: {refused.code} — {refused.message}")


def signs(command):
    """A command that signs (or opens what was sealed to this node): it needs the node
    unlocked, here or by the serving node (the unlock page, or PASSPHRASE_FILE)."""

    @wraps(command)
    def checked(*args, **kwargs):
        if not keystore.keystore().unlocked:
            raise click.ClickException(
                "The node is locked: it signs and syncs nothing until an administrator "
                "unlocks it (the Node key page, or PASSPHRASE_FILE). Nothing was done.")
        try:
            return command(*args, **kwargs)
        except restored.FeedsBehind as behind:  # restored, not caught up (federation.catchup)
            raise click.ClickException(f"{behind} Nothing was signed.") from None

    return checked


# -- peers -----------------------------------------------------------------------------------


@click.group("peers", help="Pair with other nodes and the hub (out of band: fingerprints).")
def peers_group():
    pass


@peers_group.command("add")
@click.argument("url")
@click.option("--fingerprint", required=True, help="As the other node's administrator read it.")
@click.option("--label", default="", help="A name for it on this node.")
@with_appcontext
@signs
def peers_add(url, fingerprint, label):
    """Add and approve the node at URL if its key matches FINGERPRINT, then ask it to pair."""
    try:
        peer = peers.add(url, fingerprint, label, None, send_request=False)
    except peers.PairingError as error:
        raise click.ClickException(f"{error} Nothing was changed.") from error
    except Refused as refused:
        raise _refused(refused) from refused
    click.echo(f"Added and approved {peer.node_id} ({peer.role}).")
    try:
        state = peers.request_pairing(peer)
    except Refused as refused:
        click.echo(f"It could not be asked to pair ({refused.code}); it can add this node.")
        return
    if state == "approved":
        click.echo("It has approved this node too: the two nodes are paired.")
    else:
        click.echo("Its administrator now approves this node with this node's fingerprint:")
        click.echo(f"  {identity.fingerprint(signing.identity().genesis.public_key)}")


@peers_group.command("list")
@with_appcontext
def peers_list():
    """List peers: node id, label, role, state, last sync, last error."""
    for peer in peers.everyone():
        last = peer.last_success_at.strftime("%Y-%m-%d %H:%M") if peer.last_success_at else "never"
        click.echo(f"{peer.node_id}\t{peer.label or '-'}\t{peer.role}\t{peer.state}\t"
                   f"last sync {last}\t{peer.last_error or 'ok'}")
    for quarantined in sync.quarantined():
        click.echo(f"QUARANTINED {quarantined.origin}: {quarantined.reason}")


@peers_group.command("approve")
@click.argument("peer")
@click.option("--fingerprint", required=True, help="As its administrator read it to you.")
@with_appcontext
def peers_approve(peer, fingerprint):
    """Approve a node that asked to pair, once its fingerprint matches."""
    found = _peer(peer)
    try:
        peers.approve(found, fingerprint, None)
    except Refused as refused:
        raise _refused(refused) from refused
    click.echo(f"Approved {found.node_id}: the two nodes are paired.")


@peers_group.command("remove")
@click.argument("peer")
@with_appcontext
def peers_remove(peer):
    """Stop serving and pulling a node."""
    found = _peer(peer)
    peers.remove(found, None)
    click.echo(f"Removed {found.node_id}.")


@peers_group.command("direction")
@click.argument("peer")
@click.argument("way", type=click.Choice(["auto", *push.DIRECTIONS]))
@with_appcontext
def peers_direction(peer, way):
    """Which way records go with PEER: both (each fetches from the other), send (it cannot
    reach this node, behind a router: this node sends it our records), receive (this node
    cannot reach it: it sends us its records), auto (decided from what is known)."""
    found = _peer(peer)
    push.set_direction(found, None if way == "auto" else way, None)
    click.echo(f"{found.node_id}: {push.direction(found)}")


@peers_group.command("fingerprint")
@with_appcontext
def peers_fingerprint():
    """Print this node's id and fingerprint (to read to another administrator)."""
    own = signing.identity()
    click.echo(f"Node id:     {own.node_id}")
    click.echo(f"Fingerprint: {identity.fingerprint(own.genesis.public_key)}")


# -- sync ------------------------------------------------------------------------------------


@click.command("sync")
@click.option("--peer", "reference", default=None, help="Only this peer (node id or label).")
@click.option("--every", type=float, default=None, help="Keep syncing, every SECONDS.")
@click.option("--quiet", is_flag=True, help="No progress bar (for cron and timers).")
@with_appcontext
@signs
def sync_command(reference, every, quiet):
    """Pull new entries from every approved peer (or one), verify and apply them."""
    only = _peer(reference) if reference else None
    bars: dict = {}

    def progress(peer, feed, done, to_go):
        key = (peer.node_id, feed)
        if key not in bars:
            bar = click.progressbar(length=done + to_go, label=f"{peer.label or peer.node_id[:12]}"
                                    f" {feed}", file=click.get_text_stream("stderr"))
            bar.__enter__()
            bars[key] = bar
        bars[key].update(done)

    def finish():
        for bar in bars.values():
            bar.__exit__(None, None, None)
        bars.clear()

    if every is not None:
        sync.every(every, only, None if quiet else progress)
        return
    outcomes = sync.sync(only, None if quiet else progress)
    finish()
    failed = 0
    for outcome in outcomes:
        name = outcome.peer.label or outcome.peer.node_id[:12]
        if outcome.error:
            failed += 1
            click.echo(f"{name}: {outcome.error}")
        elif outcome.notes:  # left to a turn another process runs (federation.leases)
            click.echo(f"{name}: {'; '.join(outcome.notes)}")
        else:
            pushed = f", {_count(outcome.pushed, 'entry', 'entries')} pushed" \
                if push.pushes_to(outcome.peer) else ""
            click.echo(f"{name}: {_count(outcome.pulled, 'entry', 'entries')} in "
                       f"{_count(outcome.pages, 'page')}, "
                       f"{_count(outcome.sent_receipts, 'receipt')} sent{pushed}")
    if failed:
        raise SystemExit(1)


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


# -- bundles ---------------------------------------------------------------------------------


@click.group("bundle", help="Offline bundles: the same signed entries, on a USB stick.")
def bundle_group():
    pass


@bundle_group.command("export")
@click.option("--peer", "reference", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@signs
def bundle_export(reference, file):
    """Write everything PEER may read from this node to FILE, sealed to PEER's key."""
    try:
        count = bundles.export(_peer(reference), file)
    except Refused as refused:
        raise _refused(refused) from refused
    click.echo(f"Wrote {count} entries to {file}; only that node can open it.")


@bundle_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
@signs
def bundle_import(file):
    """Verify and apply a bundle another node made for this one."""
    try:
        count = bundles.import_bundle(file)
    except Refused as refused:
        db.session.rollback()
        raise _refused(refused) from refused
    click.echo(f"Verified and applied a bundle of {count} entries.")


# -- this node's federation identity --------------------------------------------------------


@click.group("federation", help="This node's federation key, retractions, quarantines.")
def federation_group():
    pass


@federation_group.command("init")
@with_appcontext
@signs
def federation_init():
    """Create this node's federation key (done by `rabita init` for new nodes)."""
    try:
        own = signing.create_identity(current_app)
    except signing.SigningError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created the node key. Node id: {own.node_id}")


@federation_group.command("catch-up")
@click.option("--without", "left_out", multiple=True,
              help="Go on without this peer (node id or label): it cannot be reached, and you "
                   "accept that it may hold entries of this node's that are lost here.")
@with_appcontext
@signs
def federation_catch_up(left_out):
    """After `rabita restore`: take this node's own entries back from its peers and the hub,
    so that it signs again from its feeds' real heads (a sync round does this first too)."""
    if restored.pending() is None:
        click.echo("This node is not waiting to catch up: it signs as usual.")
        return
    outcome = catchup.catch_up(frozenset(_peer(reference).node_id for reference in left_out))
    for feed, count in sorted(outcome.taken.items()):
        click.echo(f"{feed}: {_count(count, 'entry', 'entries')} taken back")
    for node_id, code in outcome.failed.items():
        peer = peers.find(node_id)
        click.echo(f"{peer.label or node_id}: not taken back ({code})")
    if not outcome.done:
        raise click.ClickException("Not caught up: this node signs nothing until every peer "
                                   "above answered (sync again), or you go on without it "
                                   "(--without PEER).")
    click.echo("Caught up: this node signs again from its feeds' heads.")


@federation_group.command("rotate-key")
@with_appcontext
@signs
def federation_rotate():
    """Make a new node key, announced to every peer in an entry signed by the old one."""
    old, new = outbox.rotate_key()
    sealing.rotate()  # the encryption key rotates with it (sealed relay)
    click.echo(f"Rotated: {old} → {new}. Entries made before now stay valid.")


@federation_group.command("revoke-key")
@click.argument("key_id")
@click.option("--since", required=True, help="UTC time from which it is untrusted "
                                            "(YYYY-MM-DDTHH:MM:SSZ): when it may have leaked.")
@with_appcontext
@signs
def federation_revoke(key_id, since):
    """Revoke a former key: peers reject what it signed after SINCE and re-check what they
    stored. Rotate first if it is the current key."""
    try:
        moment = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise click.ClickException("Give --since as YYYY-MM-DDTHH:MM:SSZ.") from error
    try:
        outbox.revoke_key(key_id, moment)
    except (signing.SigningError, StopIteration) as error:
        raise click.ClickException(f"{error or 'No such key.'} Nothing was changed.") from error
    click.echo(f"Revoked {key_id} from {since}; peers learn it at their next sync.")


@federation_group.command("revoke-encryption-key")
@click.argument("key_id")
@with_appcontext
@signs
def federation_revoke_encryption(key_id):
    """Revoke one of this node's encryption keys (sealed relay) and announce a new one:
    members seal nothing more to it."""
    try:
        new = sealing.revoke(key_id)
    except signing.SigningError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Revoked {key_id}; the new encryption key is {new.key_id}.")


@federation_group.command("retract")
@click.argument("record_type")
@click.argument("record_id")
@with_appcontext
@signs
def federation_retract(record_type, record_id):
    """Withdraw a shared record from every holder (a tombstone; final)."""
    made = outbox.tombstone(record_type, record_id, "retracted")
    db.session.commit()
    click.echo(f"Retracted from {len(made)} feeds; holders delete it at their next sync.")


@federation_group.command("release")
@click.argument("origin")
@with_appcontext
def federation_release(origin):
    """Lift the quarantine of ORIGIN after finding out what happened."""
    if not sync.release(origin, None):
        raise click.ClickException(f"{origin} is not quarantined.")
    click.echo(f"Released {origin}; the next sync checks its feed again.")


@federation_group.command("rebuild-statistics")
@with_appcontext
def federation_rebuild_statistics():
    """Recount the hub's statistics from the shared records it holds."""
    made = statistics.rebuild()
    db.session.commit()
    click.echo(f"Counted {made} incidents and cases again from the records held.")


@federation_group.command("rebuild-shared-index")
@with_appcontext
def federation_rebuild_shared_index():
    """Work out again the search words and facets of every shared record held (Shared with
    us)."""
    made = shared.rebuild()
    db.session.commit()
    click.echo(f"Indexed {made} shared records.")


COMMANDS = [peers_group, sync_command, bundle_group, federation_group]
