"""A hub's takedown of a member's feed: the hub's own signed statement, honoured by its members.

When a hub's administrator holds a member's feed (``federation.operations``), the hub writes a
numbered **statement** — ``withhold`` with a reason code, later ``release`` — naming the member
and its ``hub`` feed. It is the hub's own word, signed by the hub, never a tombstone in the
member's name (that would be a forgery every node must refuse). Members fetch the statements
from their hub each round (``GET /federation/takedowns?after=N``, before the relay feed) and
take one only if it is the next number, names this hub, and is signed by the hub's current
key; anything else — forged, replayed, signed by another node, out of order — is refused
with a reason code and changes nothing (the round fails, as a bad page does).

While a ``withhold`` stands, every node that took it (the hub included) keeps the member's
records that reached it *through the hub* but shows none of them (*Shared with us*); on the
hub they also leave every count of the statistics (``statistics`` filters them out at query
time, so a ``release`` brings them back with no recount, and the stored facts — hence
``rebuild-statistics`` — are the same throughout). Records a node got directly from the
member (its ``peers`` feed) are its own business and stay. docs/federation.md ("A hub's
takedown of a member's feed").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core import audit, clock
from core.columns import UTCDateTime
from core.extensions import db
from federation import identity, protocol, signing
from federation.keys import key_usable_now
from federation.models import Key, Peer, Quarantine
from federation.reasons import Refused

TAKEDOWN_TYPE = "rabita.takedown/1"
TAKEDOWNS_TYPE = "rabita.takedowns/1"
WITHHOLD, RELEASE = "withhold", "release"
WITHHELD = "withheld-by-hub"  # the quarantine reason of a hub's hold (on the hub)
# Why a hub withholds a member's feed: the statement's reason code.
CAUSES = {
    "member-compromised": _l("The member's node may be compromised"),
    "legal-order": _l("A legal order"),
    "coalition-decision": _l("A decision of the coalition"),
}
MAX_STATEMENTS = 100  # a page of statements
SKEW = timedelta(seconds=60)
_FIELDS = {"type", "hub", "key", "at", "number", "action", "member", "feed", "reason"}


class Statement(db.Model):
    """A takedown statement a hub made (on the hub) or took from its hub (on a member)."""

    __tablename__ = "federation_takedown"
    __table_args__ = (UniqueConstraint("hub", "number", name="uq_federation_takedown_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub: Mapped[str] = mapped_column(String(32))  # the node id of the hub that signed it
    number: Mapped[int] = mapped_column(Integer)  # its place in that hub's list: 1, 2, ...
    action: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(32))  # the member whose feed it names
    reason: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean)  # a withhold no release has lifted yet
    signed: Mapped[str | None] = mapped_column(Text)  # as taken (a member keeps its proof)
    sig: Mapped[str | None] = mapped_column(String(100))


# -- on the hub ------------------------------------------------------------------------------


def issue(action: str, origin: str, reason: str) -> Statement:
    """The hub's next statement about ``origin``'s feed (in the caller's transaction). A
    release lifts the standing withhold."""
    if action not in (WITHHOLD, RELEASE) or (action == WITHHOLD and reason not in CAUSES):
        raise ValueError("a takedown is withhold (with a known reason) or release")
    own = signing.identity().node_id
    number = (db.session.scalar(select(func.max(Statement.number))
                                .where(Statement.hub == own)) or 0) + 1
    if action == RELEASE:
        _lift(own, origin)
    made = Statement(hub=own, number=number, action=action, origin=origin, reason=reason,
                     at=clock.now().replace(microsecond=0), active=action == WITHHOLD)
    db.session.add(made)
    return made


def withhold(peer: Peer, reason: str, user) -> bool:
    """Hold ``peer``'s feed: the hub takes none of its entries (a quarantine), shows and
    counts none of its records, and tells its members in a signed statement. False when the
    feed is already quarantined or held."""
    if db.session.scalar(select(Quarantine.id).where(Quarantine.origin == peer.node_id)):
        return False
    db.session.add(Quarantine(origin=peer.node_id, reason=WITHHELD, at=clock.now(),
                              seen_from=None))
    issue(WITHHOLD, peer.node_id, reason)
    audit.record("federation.withheld", actor=user, target_type="federation.peer",
                 target_id=peer.node_id, reason=reason)
    return True


def lift(peer: Peer, user) -> bool:
    """Lift the hub's hold on ``peer``'s feed (a signed release). False when it holds none."""
    hold = db.session.scalar(select(Quarantine).where(Quarantine.origin == peer.node_id,
                                                      Quarantine.reason == WITHHELD))
    if hold is None and not held(peer.node_id):
        return False
    if hold is not None:
        db.session.delete(hold)
    issue(RELEASE, peer.node_id, "lifted")
    audit.record("federation.released", actor=user, target_type="federation.peer",
                 target_id=peer.node_id)
    return True


def statements(after: int, limit: int = MAX_STATEMENTS) -> dict:
    """The hub's statements after number ``after``, each signed now by its current key."""
    own = signing.identity()
    rows = db.session.scalars(select(Statement).where(Statement.hub == own.node_id,
                                                      Statement.number > after)
                              .order_by(Statement.number).limit(limit))
    head = db.session.scalar(select(func.max(Statement.number))
                             .where(Statement.hub == own.node_id)) or 0
    signed = []
    for row in rows:
        text = protocol.canonical({
            "type": TAKEDOWN_TYPE, "hub": own.node_id, "key": own.current,
            "at": protocol.at_text(row.at), "number": row.number, "action": row.action,
            "member": row.origin, "feed": protocol.HUB, "reason": row.reason})
        signed.append(protocol.envelope(text, signing.sign(text)))
    return {"type": TAKEDOWNS_TYPE, "after": after, "head": head, "statements": signed}


# -- on a member -----------------------------------------------------------------------------


def follow(hub: Peer, remote) -> int:
    """Fetch and take the statements ``hub`` made since the last one taken (a round does
    this before pulling the relay feed). Any refusal raises: nothing of the page is kept."""
    after = last_number(hub.node_id)
    page = protocol.strict_loads(remote.get("/federation/takedowns", after=after))
    if not isinstance(page, dict) or set(page) != {"type", "after", "head", "statements"} \
            or page["type"] != TAKEDOWNS_TYPE or page["after"] != after \
            or not isinstance(page["statements"], list) \
            or len(page["statements"]) > MAX_STATEMENTS:
        raise Refused("bad-request", "not a page of takedowns")
    for document in page["statements"]:
        take(document, hub)
    return len(page["statements"])


def take(document, hub: Peer) -> Statement:
    """Check one statement from ``hub`` and act on it (in the caller's transaction)."""
    raw, body, signature = protocol.open_envelope(document, TAKEDOWN_TYPE, "takedown-invalid")
    if set(body) != _FIELDS or body["feed"] != protocol.HUB or \
            body["action"] not in (WITHHOLD, RELEASE) or \
            not isinstance(body["member"], str) or \
            not protocol.NODE_ID.match(body["member"]) or type(body["number"]) is not int or \
            not isinstance(body["reason"], str) or not protocol.TALLY_CODE.match(body["reason"]):
        raise Refused("takedown-invalid", "not a takedown statement")
    signer = db.session.scalar(select(Key).where(Key.key_id == body["key"],
                                                 Key.origin == hub.node_id))
    if body["hub"] != hub.node_id or signer is None or not key_usable_now(signer) or \
            not identity.verify(signer.public_key, raw, signature):
        raise Refused("signature-invalid", "the takedown does not verify")
    at = protocol.parse_at(body["at"], "takedown-invalid")
    last = last_number(hub.node_id)
    if body["number"] <= last:
        raise Refused("replayed", "a takedown already taken")
    if body["number"] != last + 1 or at > clock.now() + SKEW:
        raise Refused("takedown-invalid", "a takedown out of order")
    if body["member"] == signing.identity().node_id:
        raise Refused("takedown-invalid", "a takedown of this node's own feed")
    if body["action"] == RELEASE:
        _lift(hub.node_id, body["member"])
    made = Statement(hub=hub.node_id, number=body["number"], action=body["action"],
                     origin=body["member"], reason=body["reason"], at=at,
                     active=body["action"] == WITHHOLD, signed=raw.decode("utf-8"),
                     sig=document["sig"])
    db.session.add(made)
    db.session.flush()
    audit.record("federation.takedown_" + ("withheld" if made.active else "released"),
                 target_type="federation.peer", target_id=made.origin, reason=made.reason)
    return made


def last_number(hub: str) -> int:
    return db.session.scalar(select(func.max(Statement.number))
                             .where(Statement.hub == hub)) or 0


# -- what a hold changes ---------------------------------------------------------------------


def held(origin: str | None = None):
    """The members whose feed a standing withhold names (a set), or whether ``origin``'s is."""
    if origin is not None:
        return db.session.scalar(select(Statement.id).where(
            Statement.active.is_(True), Statement.origin == origin).limit(1)) is not None
    return set(db.session.scalars(select(Statement.origin).where(Statement.active.is_(True))))


def held_origins():
    """A subquery of the held members (for ``NOT IN`` filters)."""
    return select(Statement.origin).where(Statement.active.is_(True))


def _lift(hub: str, origin: str) -> None:
    db.session.execute(update(Statement).where(Statement.hub == hub, Statement.origin == origin,
                                               Statement.active.is_(True)).values(active=False))
