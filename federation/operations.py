"""A hub's operations page for its administrators: per member node the last sync, the lag,
what was refused and why (reason codes), receipts still to deliver and to whom its entries
are relayed; and the hub's own hold on a member's feed (a takedown that forges nothing).

A hold (``federation.takedown``) is the hub's own signed statement, with a reason code: the
hub writes a quarantine row with the reason ``withheld-by-hub`` (it takes no entry of that
member), its records leave *Shared with us* and every count of the statistics, and the
members take the statement at their next round and stop showing the member's records they
got through the hub. Nothing is signed in the member's name: the member's own tombstones stay
the only way its records are withdrawn everywhere. Lifting the hold is a signed release.
docs/federation.md ("A hub's takedown of a member's feed").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, SubmitField

from core import clock
from core.access import require_permission
from core.db import MAX_ID
from core.extensions import db
from core.forms import ConfirmForm, choices
from federation import peers, rounds, takedown
from federation.models import Cursor, Peer, Quarantine, Receipt, ReceivedEntry
from federation.permissions import MANAGE
from federation.takedown import CAUSES, WITHHELD
from federation.views import blueprint  # the operations page is federation's too


class WithholdForm(FlaskForm):
    """Hold a member's feed: the reason code the signed statement carries."""

    reason = SelectField(_l("Why"), choices=choices(CAUSES))
    submit = SubmitField(_l("Hold this feed"))


@dataclass
class MemberState:
    """What the operations page says of one member node."""

    peer: Peer
    lag: int | None
    refused: dict[str, int] = field(default_factory=dict)  # reason code -> entries
    receipts_outstanding: int = 0
    relayed_to: list[str] = field(default_factory=list)
    hold: Quarantine | None = None
    statement: takedown.Statement | None = None  # the hub's standing withhold, signed
    synced_at: datetime | None = None
    turn: rounds.TurnState | None = None  # syncing, synced, failed…, and the last error


def members() -> list[MemberState]:
    """Every approved member node (not the hub's own hub), its state."""
    approved = [p for p in peers.approved() if not p.is_hub]
    holds = {q.origin: q for q in db.session.scalars(select(Quarantine))}
    standing = {s.origin: s for s in db.session.scalars(
        select(takedown.Statement).where(takedown.Statement.active.is_(True)))}
    refused = _refused_by_origin()
    outstanding = dict(db.session.execute(
        select(Receipt.deliver_to, func.count()).where(Receipt.delivered_at.is_(None))
        .group_by(Receipt.deliver_to)).all())
    found, now = [], clock.now()
    for peer in approved:
        found.append(MemberState(
            peer=peer, lag=lag(peer), refused=refused.get(peer.node_id, {}) | (
                {peer.last_error: 0} if peer.last_error else {}),
            receipts_outstanding=outstanding.get(peer.node_id, 0),
            relayed_to=[p.label or p.node_id[:12] for p in approved if p.id != peer.id],
            hold=holds.get(peer.node_id), statement=standing.get(peer.node_id),
            synced_at=peer.last_success_at,
            turn=rounds.state_of(peer, now)))
    return found


def lag(peer: Peer) -> int | None:
    """How many entries the member has that the hub has not pulled yet (at the last sync)."""
    cursors = list(db.session.scalars(select(Cursor).where(Cursor.peer_id == peer.id)))
    if not cursors:
        return None
    return sum(max(c.remote_head - c.after, 0) for c in cursors)


def _refused_by_origin() -> dict[str, dict[str, int]]:
    """Entries taken and later found invalid (a revoked key), by origin and reason."""
    found: dict[str, dict[str, int]] = {}
    for origin, reason, count in db.session.execute(
            select(ReceivedEntry.origin, ReceivedEntry.invalid_reason, func.count())
            .where(ReceivedEntry.invalid_reason.is_not(None))
            .group_by(ReceivedEntry.origin, ReceivedEntry.invalid_reason)):
        found.setdefault(origin, {})[reason] = count
    return found


def withhold(peer: Peer, user, reason: str = "coalition-decision") -> bool:
    """Put the hub's hold on ``peer``'s feed; False when it already has a quarantine."""
    return takedown.withhold(peer, reason, user)


# -- the pages -------------------------------------------------------------------------------


@blueprint.route("/federation/operations")
@require_permission(MANAGE)
def operations_page():
    return render_template("hub/operations.html", members=members(), now=clock.now(),
                           withheld=WITHHELD, action_form=ConfirmForm(),
                           withhold_form=WithholdForm())


@blueprint.route(f"/federation/operations/<int(min=1, max={MAX_ID}):peer_id>/withhold",
                 methods=["POST"])
@require_permission(MANAGE)
def withhold_feed(peer_id: int):
    peer = db.session.get(Peer, peer_id) or abort(404)
    form = WithholdForm()
    if not form.validate_on_submit() or peer.is_hub or peer.state != "approved":
        abort(400)
    if withhold(peer, current_user, form.reason.data):
        db.session.commit()
        flash(_("The hub holds this member's feed: it takes none of its entries, shows and "
                "counts none of its records, and tells its members in a signed statement, "
                "until the hold is lifted."), "success")
    else:
        flash(_("This member's feed is already held or quarantined."), "error")
    return redirect(url_for("federation.operations_page"))


@blueprint.route(f"/federation/operations/<int(min=1, max={MAX_ID}):peer_id>/lift",
                 methods=["POST"])
@require_permission(MANAGE)
def lift_hold(peer_id: int):
    peer = db.session.get(Peer, peer_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if takedown.lift(peer, current_user):
        db.session.commit()
        flash(_("The hold is lifted: the hub takes this member's entries again, and its "
                "members take the signed release at their next round."), "success")
    else:
        flash(_("The hub holds no feed of this member."), "error")
    return redirect(url_for("federation.operations_page"))
