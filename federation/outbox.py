"""This node's outbox: the signed entries it offers, one hash chain per audience.

Entries are made here and only here, from core's hooks: a ``record`` entry when a reviewer's
approval makes a record shareable for an audience (``peers`` or ``hub``), a ``tombstone``
when its consent ends or it is retracted, a ``key`` entry when the node's key rotates or a
key is revoked. Each entry names the hash of the one before it in its feed; its redacted
payload is stored beside it and purged on a tombstone, leaving a chain that still verifies.
Serving a page writes the outbound ledger: what left, to whom, under which consent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from core import audit, clock, consent, erasure, ledger, records, review
from core.extensions import db
from core.models import Consent
from federation import protocol, restored, signing, tally
from federation.models import OutboxEntry, OutboxHead, Peer
from federation.protocol import HUB, KEY, PEERS, RECORD, SEALED, TALLY, TOMBSTONE


def node_id() -> str:
    return signing.identity().node_id


# -- appending ------------------------------------------------------------------------------


def append(feed: str, kind: str, fields: dict, *, payload: bytes | None = None,
           key_id: str | None = None, at: datetime | None = None, **local) -> OutboxEntry:
    """Sign and add the next entry of ``feed`` in the current transaction (callers commit).

    Taking the head row's write lock first serialises appends, on SQLite and PostgreSQL.
    A restored node that has not caught up with its feeds signs nothing (``FeedsBehind``).
    """
    restored.refuse_while_behind()
    seq, prev, head_at = db.session.execute(
        update(OutboxHead).where(OutboxHead.feed == feed).values(seq=OutboxHead.seq + 1)
        .returning(OutboxHead.seq, OutboxHead.hash, OutboxHead.at)
    ).one()
    moment = (at or clock.now()).replace(microsecond=0)
    if head_at is not None and moment < head_at:
        moment = head_at  # entries of one chain are never dated before the one they follow
    own = signing.identity()
    body = protocol.entry_body(
        origin=own.node_id, feed=feed, seq=seq, prev=prev, at=protocol.at_text(moment),
        key=key_id or own.current, kind=kind, **fields,
    )
    text = protocol.canonical(body)
    entry_hash = protocol.sha256_hex(text)
    db.session.execute(
        update(OutboxHead).where(OutboxHead.feed == feed).values(hash=entry_hash, at=moment)
    )
    row = OutboxEntry(
        feed=feed, seq=seq, entry_hash=entry_hash, kind=kind, at=moment,
        record_type=fields.get("record_type"), record_id=fields.get("record_id"),
        version=fields.get("version"), entry=text.decode("utf-8"),
        sig=protocol.b64(signing.sign(text, key_id=key_id)),
        payload=None if payload is None else payload.decode("utf-8"),
        payload_hash=fields.get("payload_hash"), **local,
    )
    db.session.add(row)
    return row


def heads() -> dict[str, int]:
    return {head.feed: head.seq for head in db.session.scalars(select(OutboxHead))}


# -- records --------------------------------------------------------------------------------


def share(record, audience: str) -> OutboxEntry | None:
    """After an approval: add a ``record`` entry if ``record`` may now leave for
    ``audience``; commits. Returns the entry, or None when nothing is to be sent.
    An approval for ``public-aggregate`` may make a tally entry instead (``share_tally``)."""
    if audience == tally.PUBLIC:
        made = share_tally(record)
        db.session.commit()
        return made
    if audience not in protocol.ENTRY_FEEDS or not signing.has_identity() or \
            retracted(record.uuid, audience):
        return None  # a node without a federation key shares nothing
    if not review.shareable(record, audience).ok:
        return None
    made = _share(record, audience)
    if audience == PEERS:
        # The hub may now pass its copy on to partner nodes, if that copy shows them nothing
        # more than their own approved payload does.
        hub = latest(record.uuid, HUB)
        if hub is not None and hub.kind == RECORD and not _relays(hub) and \
                review.shareable(record, HUB).ok:
            made = _share(record, HUB) or made
    db.session.commit()
    return made


def share_all(record) -> list[OutboxEntry]:
    """After a save or a new consent: share the record for every audience it now may reach
    (record types shared without review reach them this way). Commits."""
    if not consent.has_data_subject(record):
        _retract_unchosen(record)
    return [made for made in (share(record, audience)
                              for audience in (*protocol.ENTRY_FEEDS, tally.PUBLIC))
            if made is not None]


def _retract_unchosen(record) -> None:
    """A record about no person whose author narrowed its audience: tombstone it (for good)
    in every feed that carried it and that her choice no longer names. Commits."""
    if not signing.has_identity():
        return
    feeds = [feed for feed in protocol.ENTRY_FEEDS if consent.allows(record, feed) is None]
    if tombstone(record.__record_type__, record.uuid, "retracted", feeds):
        db.session.commit()


def share_consented(given) -> list[OutboxEntry]:
    record = _record(given.record_type, given.record_uuid)
    return share_all(record) if record is not None else []


def _record(record_type: str, record_id: str):
    model = records.record_types().get(record_type).model
    return db.session.scalar(select(model).where(model.uuid == record_id))


def _share(record, audience: str) -> OutboxEntry | None:
    prepared = records.redaction(record, audience)
    given = consent.allows(record, audience)
    relay = audience == HUB and _relayable(record, prepared, given)
    previous = latest(record.uuid, audience)
    terms = {
        "audiences": sorted(given.audience_list), "purposes": sorted(given.purpose_list),
        "expires": given.expires_on.isoformat() if given.expires_on else None,
    }
    if previous is not None and previous.kind == RECORD and \
            previous.payload_hash == prepared.payload_hash and _relays(previous) == relay \
            and _terms(previous) == terms:
        return None  # approved again, or saved with what leaves unchanged: nothing new
    # A new consent with other purposes (``statistics`` withdrawn) or another end is sent
    # even when the payload is the same: the hub counts by the purposes the entry carries.
    fields = {
        "record_type": record.__record_type__, "record_id": record.uuid,
        "version": record.version, "payload_hash": prepared.payload_hash, "relay": relay,
        "consent": terms,
    }
    type_version = records.type_of(record).version
    if type_version > 1:  # version 1 is said by leaving it out (docs/federation.md)
        fields[protocol.TYPE_VERSION] = type_version
    entry = append(audience, RECORD, fields, payload=protocol.canonical(prepared.payload),
                   policy_hash=prepared.policy_hash, consent_id=given.id)
    audit.record("federation.shared", target_type=record.__record_type__, target_id=record.uuid,
                 audience=audience, version=record.version, seq=entry.seq)
    return entry


def share_tally(record) -> OutboxEntry | None:
    """A record consented to ``public-aggregate`` and ``statistics`` but not to the hub,
    approved for ``public-aggregate``: a ``tally`` entry in the hub feed, its counted
    dimensions only, under its tally id (``federation.tally``). None when nothing is new."""
    given = consent.allows(record, tally.PUBLIC)
    if not signing.has_identity() or not tally.wanted(given) or \
            not review.shareable(record, tally.PUBLIC).ok:
        return None
    prepared = records.redaction(record, tally.PUBLIC)
    counted = protocol.canonical(tally.payload(prepared.payload))
    tally_id = live_tally(record.__record_type__, record.uuid) or str(uuid.uuid4())
    previous = latest(tally_id, HUB)
    terms = {"audiences": sorted(given.audience_list), "purposes": sorted(given.purpose_list),
             "expires": given.expires_on.isoformat() if given.expires_on else None}
    if previous is not None and previous.payload_hash == protocol.sha256_hex(counted) and \
            _terms(previous) == terms:
        return None
    fields = {"record_type": record.__record_type__, "record_id": tally_id,
              "version": record.version, "payload_hash": protocol.sha256_hex(counted),
              "consent": terms}
    entry = append(HUB, TALLY, fields, payload=counted, policy_hash=prepared.policy_hash,
                   consent_id=given.id)
    audit.record("federation.tallied", target_type=record.__record_type__,
                 target_id=record.uuid, audience=HUB, version=record.version, seq=entry.seq)
    return entry


def live_tally(record_type: str, record_uuid: str) -> str | None:
    """The tally id of the record's live tally (made under one of its consents, not
    tombstoned), or None. The id is never derived from the record's: only this lookup,
    on this node, links them."""
    found = db.session.scalar(
        select(OutboxEntry.record_id).where(
            OutboxEntry.feed == HUB, OutboxEntry.kind == TALLY,
            OutboxEntry.consent_id.in_(select(Consent.id).where(
                Consent.record_type == record_type, Consent.record_uuid == record_uuid)))
        .order_by(OutboxEntry.seq.desc()).limit(1))
    return None if found is None or retracted(found, HUB) else found


def _relayable(record, hub_payload, given) -> bool:
    """May the hub pass the hub's payload on to partner nodes? Only if her consent covers
    them, the payload for them is approved, and the hub's copy withholds all theirs does."""
    if "peers" not in given.audience_list or not review.shareable(record, PEERS).ok:
        return False
    return set(records.redaction(record, PEERS).withheld) <= set(hub_payload.withheld)


def _relays(entry: OutboxEntry) -> bool:
    return bool(json.loads(entry.entry).get("relay"))


def _terms(entry: OutboxEntry) -> dict | None:
    """The consent an entry carries: audiences, purposes, when it ends."""
    return json.loads(entry.entry).get("consent")


def latest(record_id: str, feed: str) -> OutboxEntry | None:
    return db.session.scalar(
        select(OutboxEntry).where(OutboxEntry.feed == feed, OutboxEntry.record_id == record_id)
        .order_by(OutboxEntry.seq.desc()).limit(1)
    )


def retracted(record_id: str, feed: str) -> bool:
    """A tombstone is final: once a record is tombstoned in a feed, it never re-enters it."""
    return db.session.scalar(
        select(func.count()).select_from(OutboxEntry).where(
            OutboxEntry.feed == feed, OutboxEntry.record_id == record_id,
            OutboxEntry.kind == TOMBSTONE)
    ) > 0


# -- tombstones -----------------------------------------------------------------------------


def consent_ended(ended, reason: str) -> list[OutboxEntry]:
    """After a consent ends: tombstone the record in every feed it no longer may reach.
    A restored node not caught up yet does it once it has (``catchup.settle``)."""
    if not signing.has_identity() or restored.pending() is not None:
        return []
    feeds = list(protocol.ENTRY_FEEDS)
    if reason == consent.SUPERSEDED:
        record = _record(ended.record_type, ended.record_uuid)
        now = consent.current(record) if record is not None else None
        still = set(now.audience_list) if now is not None else set()
        feeds = [feed for feed in feeds if feed not in still]
        if PEERS in feeds and HUB not in feeds and _sealed_in_hub(ended.record_uuid):
            feeds.append(HUB)  # its sealed copy goes with partner nodes' (sealed relay)
    made = tombstone(ended.record_type, ended.record_uuid, reason, feeds)
    made += _retract_tally(ended, reason)
    db.session.commit()
    return made


def _sealed_in_hub(record_id: str) -> bool:
    found = latest(record_id, HUB)
    return found is not None and found.kind == protocol.SEALED


def _retract_tally(ended, reason: str) -> list[OutboxEntry]:
    """The record's tally goes when its consent ends, or when the consent that replaces it
    no longer sends a tally (``statistics`` or ``public-aggregate`` gone, or the hub now
    named: the record itself is then counted)."""
    tally_id = live_tally(ended.record_type, ended.record_uuid)
    if tally_id is None:
        return []
    if reason == consent.SUPERSEDED:
        record = _record(ended.record_type, ended.record_uuid)
        if record is not None and tally.wanted(consent.current(record)):
            return []  # the same tally, sent again once the new consent is approved
    return tombstone(ended.record_type, tally_id, reason, [HUB])


def tombstone(record_type: str, record_id: str, reason: str,
              feeds: Iterable[str] = protocol.ENTRY_FEEDS) -> list[OutboxEntry]:
    """Add a tombstone to each feed that carried the record, and purge its payloads there."""
    made = []
    for feed in feeds:
        previous = latest(record_id, feed)
        if previous is None or retracted(record_id, feed):
            continue
        shared = db.session.scalar(
            select(func.max(OutboxEntry.version)).where(
                OutboxEntry.feed == feed, OutboxEntry.record_id == record_id)
        )
        entry = append(feed, TOMBSTONE, {"record_type": record_type, "record_id": record_id,
                                         "version": shared, "reason": reason})
        db.session.execute(
            update(OutboxEntry).where(OutboxEntry.feed == feed,
                                      OutboxEntry.record_id == record_id)
            .values(payload=None)
        )
        erasure.purging()  # the payloads leave the database files once this commits
        audit.record("federation.tombstoned", target_type=record_type, target_id=record_id,
                     audience=feed, reason=reason, seq=entry.seq)
        made.append(entry)
    return made


# -- keys -----------------------------------------------------------------------------------


def rotate_key() -> tuple[str, str]:
    """Make a new current key and announce it in every feed, signed by the old one."""
    old, new = signing.rotate()
    moment = protocol.parse_at(new.valid_from)
    for feed in protocol.ENTRY_FEEDS:
        append(feed, KEY, {"key_event": {"action": "rotate", "key_id": new.key_id,
                                         "public_key": protocol.b64(new.public_key)}},
               key_id=old.key_id, at=moment)
    audit.record("federation.key_rotated", target_type="federation.key", target_id=new.key_id)
    db.session.commit()
    return old.key_id, new.key_id


def revoke_key(key_id: str, since: datetime) -> int:
    """Declare one of this node's former keys untrusted from ``since`` (it was stolen), then
    sign again, with the current key, what it signed since and still shares: holders drop
    those entries on the revocation and take these. Returns how many were signed again."""
    signing.record_revocation(key_id, since)
    again = 0
    for feed in protocol.ENTRY_FEEDS:
        suspect = list(db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.feed == feed,
                                      OutboxEntry.kind.in_((RECORD, TALLY, SEALED)),
                                      OutboxEntry.at >= since, OutboxEntry.payload.is_not(None))
            .order_by(OutboxEntry.seq)))
        append(feed, KEY, {"key_event": {"action": "revoke", "key_id": key_id,
                                         "revoked_at": protocol.at_text(since)}})
        newest = {entry.record_id: entry for entry in suspect  # the last version of each
                  if entry.kind != SEALED}
        # Each sealed entry of a version still shared (each to other members) is signed again.
        sealed = [entry for entry in suspect if entry.kind == SEALED]
        for entry in [*newest.values(), *sealed]:
            body = json.loads(entry.entry)
            last = latest(entry.record_id, feed)
            if body["key"] != key_id or (last.seq != entry.seq if entry.kind != SEALED else
                                         (last.kind, last.version) != (SEALED, entry.version)):
                continue  # signed by another key, or followed by a newer entry
            fields = {name: body[name] for name in ("record_type", "record_id", "version",
                                                    "consent", "payload_hash", "relay",
                                                    "sealed", protocol.TYPE_VERSION)
                      if name in body}  # a tally has no "relay", only a sealed one "sealed"
            append(feed, entry.kind, fields, payload=entry.payload.encode("utf-8"),
                   policy_hash=entry.policy_hash, consent_id=entry.consent_id)
            again += 1
    audit.record("federation.key_revoked", target_type="federation.key", target_id=key_id,
                 signed_again=again)
    db.session.commit()
    return again


# -- serving --------------------------------------------------------------------------------


# Built once: a page is asked for hundreds of times in a sync, and building the statement
# costs SQLAlchemy more than running it.
_PAGE = (select(OutboxEntry.seq, OutboxEntry.entry, OutboxEntry.sig, OutboxEntry.payload,
                OutboxEntry.kind)
         .where(OutboxEntry.feed == bindparam("feed"), OutboxEntry.seq > bindparam("after"))
         .order_by(OutboxEntry.seq).limit(bindparam("limit")))
_LEAVING = (select(OutboxEntry.record_type, OutboxEntry.record_id, OutboxEntry.version,
                   OutboxEntry.payload_hash, OutboxEntry.policy_hash, OutboxEntry.consent_id)
            .where(OutboxEntry.feed == bindparam("feed"),
                   OutboxEntry.seq.in_(bindparam("seqs", expanding=True))))
# A tally leaving is in the ledger under its record (found through its consent: the tally id
# itself names no record) and the audience it left for, ``public-aggregate``.
_TALLIES_LEAVING = (
    select(OutboxEntry.record_type, Consent.record_uuid, OutboxEntry.version,
           OutboxEntry.payload_hash, OutboxEntry.policy_hash, OutboxEntry.consent_id)
    .join(Consent, Consent.id == OutboxEntry.consent_id)
    .where(OutboxEntry.feed == bindparam("feed"),
           OutboxEntry.seq.in_(bindparam("seqs", expanding=True))))


def page(feed: str, after: int, limit: int, *, recipient: str) -> tuple[list[dict], int]:
    """Entries of ``feed`` after ``after`` (at most ``limit``) and the feed's head; writes
    the outbound ledger for every record version that leaves with its payload."""
    rows = db.session.connection().execute(
        _PAGE, {"feed": feed, "after": after, "limit": limit}).all()
    head = db.session.scalar(select(OutboxHead.seq).where(OutboxHead.feed == feed)) or 0
    items, leaving, tallies = [], [], []
    for seq, entry, sig, payload, kind in rows:
        items.append({"seq": seq, "entry": entry, "sig": sig, "payload": payload})
        if kind == RECORD and payload is not None:
            leaving.append(seq)
        elif kind == TALLY and payload is not None:
            tallies.append(seq)
    if tallies:
        ledger.record_sent_selected(_TALLIES_LEAVING, {"feed": feed, "seqs": tallies},
                                    audience=tally.PUBLIC, recipient=recipient)
    if leaving:
        # What an entry says of its record never changes (only its payload may be purged),
        # so the ledger reads it by the sequence numbers that left with a payload.
        ledger.record_sent_selected(_LEAVING, {"feed": feed, "seqs": leaving},
                                    audience=feed, recipient=recipient)
    return items, head


def record_version_for_receipt(record_id: str, version: int,
                               holder: str | None = None) -> OutboxEntry | None:
    """The record entry a holder's receipt speaks of (for the ledger). None for a hub's
    receipt of a record it only relayed sealed: it never received what the ledger lists."""
    if holder is not None and _sealed_only_for_hub(record_id, holder):
        return None
    return db.session.scalar(
        select(OutboxEntry).where(OutboxEntry.record_id == record_id,
                                  OutboxEntry.version == version,
                                  OutboxEntry.kind == RECORD)
        .order_by(OutboxEntry.seq.desc()).limit(1)
    )


def _sealed_only_for_hub(record_id: str, holder: str) -> bool:
    is_hub = db.session.scalar(select(Peer.id).where(Peer.node_id == holder,
                                                     Peer.role == "hub")) is not None
    return is_hub and db.session.scalar(
        select(OutboxEntry.id).where(OutboxEntry.feed == HUB, OutboxEntry.record_id == record_id,
                                     OutboxEntry.kind == RECORD).limit(1)) is None
