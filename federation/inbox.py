"""Receiving entries: verify a page (or a bundle) completely, then apply it in one transaction.

Verification is pure: sequence continuity, the hash chain, dates that never go back, every
origin signature by a key valid when the entry was made, every payload against its hash.
Any failure refuses the whole page and nothing is written (a gap or a fork also quarantines
the origin: ``federation.sync`` does that). Applying is idempotent and independent of order:
for each (origin, record id) the highest (version, feed, sequence) is held, older payloads
are purged, and a tombstone is final — later versions are stored without their payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, delete, or_, select, update

from core import audit, clock, erasure
from core.db import insert_rows
from core.extensions import db
from core.records import SharedRecord, announce_shared_purged, announce_shared_received
from federation import protocol, receipts, sealing, tally, versions
from federation import shared as shared_index
from federation.identity import KeyInfo
from federation.models import (
    Chain,
    Cursor,
    HeldRecord,
    Key,
    OutboxHead,
    Peer,
    Quarantine,
    ReceivedEntry,
    RelayItem,
)
from federation.protocol import HUB, KEY, RECORD, RELAY, SEALED, TALLY, TOMBSTONE, Entry
from federation.reasons import Refused
from federation.settings import is_hub
from federation.signatures import Signatures, checked_together
from federation.statistics import count as count_statistics
from federation.statistics import count_tallies, forget_expired_tallies, forget_tally

MAX_ITEMS = 1000


class Item(NamedTuple):
    """One verified entry with its payload (None: purged, or never sent)."""

    entry: Entry
    sig: str
    payload: bytes | None
    relay_seq: int | None = None
    link: str | None = None
    opened: bool = False  # a sealed entry's payload, opened by this node (a recipient)


@dataclass
class Page:
    """A verified page: its items, the feed's head, and where the cursor goes next.

    ``signatures``: the items' signatures, when the page was verified with ``settle=False``
    and they are still being checked; ``apply`` settles them before anything leaves its
    transaction."""

    feed: str
    items: list[Item]
    head: int
    after: int
    last_hash: str
    skipped: int = 0  # relayed entries of quarantined origins, or this node's own
    signatures: Signatures | None = None
    ahead: shared_index.Ahead | None = None  # its index words, being worked out meanwhile


@dataclass
class Applied:
    records: int = 0
    tombstones: int = 0
    keys: int = 0
    tallies: int = 0
    receipts: list[tuple[Entry, str]] = field(default_factory=list)  # (tombstone, to whom)


# -- keys -----------------------------------------------------------------------------------


class UnknownKeys(Refused):
    """Relayed entries are signed by keys this node does not know yet: ask the hub, which
    vouches for its members' keys, then verify again."""

    def __init__(self, key_ids: set[str]):
        super().__init__("entry-signature-invalid", "unknown keys")
        self.key_ids = key_ids


class Keys:
    """The keys this node knows for each origin, with changes a page makes on the way."""

    def __init__(self):
        self._by_origin: dict[str, dict[str, KeyInfo]] = {}

    def of(self, origin: str) -> dict[str, KeyInfo]:
        if origin not in self._by_origin:
            self._by_origin[origin] = {
                key.key_id: KeyInfo(key.key_id, key.public_key, key.valid_from,
                                    key.superseded_at, key.revoked_at)
                for key in db.session.scalars(select(Key).where(Key.origin == origin))
            }
        return self._by_origin[origin]

    def check(self, entry: Entry, signature: bytes, signatures: Signatures) -> None:
        """Check the entry's key may sign it; its signature joins ``signatures``."""
        key = self.of(entry.origin).get(entry.key)
        if key is None:
            raise Refused("entry-signature-invalid")
        signatures.add(key.public_key, entry.raw, signature)
        problem = key.may_sign_at(entry.at)
        if problem == "key-revoked" and _rotation(entry):
            # The rotation that introduced the key which then revoked this one stays valid:
            # its place in the chain, which a thief could only contest by a fork, vouches
            # for it (docs/federation.md, "Keys").
            problem = None
        if problem:
            raise Refused(problem)

    def follow(self, entry: Entry) -> None:
        """A key entry (already verified) changes the keys of its origin from here on."""
        keys = self.of(entry.origin)
        event = entry.key_event
        if event["action"] == "rotate":
            signer = keys[entry.key]
            keys[entry.key] = replace(signer, superseded_at=_earliest(signer.superseded_at,
                                                                      entry.at))
            if event["key_id"] not in keys:
                keys[event["key_id"]] = KeyInfo(event["key_id"],
                                                protocol.unb64(event["public_key"]), entry.at)
        else:
            revoked = keys.get(event["key_id"])
            if revoked is not None:
                keys[event["key_id"]] = replace(revoked, revoked_at=_earliest(
                    revoked.revoked_at, protocol.parse_at(event["revoked_at"])))


def _rotation(entry: Entry) -> bool:
    return entry.kind == KEY and entry.key_event["action"] == "rotate"


def _earliest(current: datetime | None, new: datetime) -> datetime:
    return new if current is None or new < current else current


# -- verifying ------------------------------------------------------------------------------


def read_page(body: bytes, feed: str, after: int) -> tuple[list[dict], int]:
    """The raw items and head of a page answering ``GET outbox?feed=&after=``."""
    page = protocol.strict_loads_written(body)
    if not isinstance(page, dict) or set(page) != {"type", "feed", "after", "head", "items"} \
            or page["type"] != protocol.PAGE_TYPE:
        raise Refused("bad-request", "not a page")
    if page["feed"] != feed:
        raise Refused("wrong-feed")
    if page["after"] != after or type(page["head"]) is not int or page["head"] < 0:
        raise Refused("bad-request", "the page does not answer the request")
    if not isinstance(page["items"], list) or len(page["items"]) > MAX_ITEMS:
        raise Refused("bad-request", "bad items")
    return page["items"], page["head"]


def verify_feed(origin: str, feed: str, raw_items: list, head: int, keys: Keys,
                own_node_id: str, *, settle: bool = True) -> Page:
    """Verify items of ``origin``'s own ``feed`` (pulled from it, or in its bundle).
    ``settle=False``: the signatures may still be being checked (``Page.signatures``), and
    the index words of its payloads are being worked out (``Page.ahead``)."""
    if origin == own_node_id:
        raise Refused("wrong-origin")
    if _quarantined(origin):
        raise Refused("quarantined")
    chain = _chain(origin, feed)
    expected, prev, prev_at = chain
    items = []
    ahead = None if settle else shared_index.Ahead()
    with checked_together(Signatures(), settle=settle) as signatures:
        for raw in raw_items:
            item = _read_item(raw)
            entry = item.entry
            if entry.origin != origin:
                raise Refused("wrong-origin")
            if entry.feed != feed:
                raise Refused("wrong-feed")
            if raw["seq"] != entry.seq:
                raise Refused("entry-invalid", "the item and its entry disagree")
            if entry.seq < expected + 1 and not items:
                _check_known(entry)  # a bundle may start before what this node has
                continue
            if entry.seq != expected + 1:
                raise Refused("gap")
            if entry.prev != prev:
                raise Refused("fork")
            if prev_at is not None and entry.at < prev_at:
                raise Refused("time-regression")
            keys.check(entry, protocol.unb64(item.sig, 64, "entry-signature-invalid"),
                       signatures)
            if entry.kind == KEY:
                keys.follow(entry)
            items.append(item)
            _index_ahead(ahead, item)
            expected, prev, prev_at = entry.seq, entry.hash, entry.at
        if head < expected:
            raise Refused("bad-request", "the head is behind the entries")
    return Page(feed, items, head, expected, prev, signatures=None if settle else signatures,
                ahead=ahead)


def verify_relay(hub: str, raw_items: list, head: int, after: int, link: str, keys: Keys,
                 own_node_id: str, *, settle: bool = True) -> Page:
    """Verify a hub's relay feed: its own order and links, then each member entry's origin
    signature, audience and place in its origin's chain (of which it carries a subset)."""
    items, skipped, unknown = [], 0, set()
    chains: dict[str, tuple[int, str, datetime | None]] = {}
    quarantined: dict[str, bool] = {}
    expected = after
    ahead = None if settle else shared_index.Ahead()
    with checked_together(Signatures(), settle=settle) as signatures:
        for raw in raw_items:
            if not isinstance(raw, dict) or set(raw) != {"seq", "entry", "sig", "payload", "link"}:
                raise Refused("bad-request", "bad item")
            entry = _entry(raw)
            if raw["seq"] != expected + 1:
                raise Refused("gap")
            if raw["link"] != relay_link(link, entry.hash):
                raise Refused("fork")
            expected, link = raw["seq"], raw["link"]
            if entry.feed != HUB:
                raise Refused("wrong-feed")
            if entry.kind == TALLY or entry.kind == RECORD and not (
                    entry.relay and "peers" in entry.consent["audiences"]):
                raise Refused("not-relayable")  # a tally never leaves the hub
            if entry.origin not in quarantined:
                quarantined[entry.origin] = _quarantined(entry.origin)
            if entry.origin in (own_node_id, hub) or quarantined[entry.origin]:
                skipped += 1
                continue
            if entry.key not in keys.of(entry.origin):
                unknown.add(entry.key)
                continue
            last_seq, last_hash, last_at = chains.get(entry.origin) or _chain(entry.origin, HUB)
            if entry.seq <= last_seq:
                _check_known(entry)
                continue
            if entry.seq == last_seq + 1 and entry.prev != last_hash:
                raise Refused("fork", origin=entry.origin)
            if last_at is not None and entry.at < last_at:
                raise Refused("time-regression")
            item = Item(entry, raw["sig"], protocol.read_payload(raw["payload"], entry),
                        raw["seq"], raw["link"])
            if entry.kind == SEALED:  # opened if sealed to this node, else kept without it
                opened = sealing.open_payload(entry, item.payload, own_node_id)
                item = item._replace(payload=opened, opened=opened is not None)
            keys.check(entry, protocol.unb64(item.sig, 64, "entry-signature-invalid"),
                       signatures)
            if entry.kind == KEY:
                keys.follow(entry)
            chains[entry.origin] = (entry.seq, entry.hash, entry.at)
            items.append(item)
            _index_ahead(ahead, item)
        if unknown:
            raise UnknownKeys(unknown)
        if head < expected:
            raise Refused("bad-request", "the head is behind the entries")
    return Page(RELAY, items, head, expected, link, skipped,
                signatures=None if settle else signatures, ahead=ahead)


def _index_ahead(ahead: shared_index.Ahead | None, item: Item) -> None:
    """A record's payload read: its index words go to the pool with the signatures of the
    same items (a batch at a time), so they are ready when the page's rows are written."""
    if ahead is not None and item.entry.kind == RECORD and item.payload is not None:
        ahead.add(item.payload.decode("utf-8"))


def relay_link(previous: str, entry_hash: str) -> str:
    return protocol.sha256_hex(f"{previous}{entry_hash}".encode("ascii"))


def _read_item(raw) -> Item:
    if not isinstance(raw, dict) or set(raw) != {"seq", "entry", "sig", "payload"}:
        raise Refused("bad-request", "bad item")
    entry = _entry(raw)
    payload = protocol.read_payload(raw["payload"], entry)
    if entry.kind == TALLY and payload is not None:
        tally.check_vocabularies(json.loads(payload))
    return Item(entry, raw["sig"], payload)


def _entry(raw: dict) -> Entry:
    if not isinstance(raw["entry"], str) or type(raw["seq"]) is not int:
        raise Refused("entry-invalid")
    entry = protocol.read_entry(raw["entry"].encode("utf-8"))
    versions.check(entry)
    return entry


def _chain(origin: str, feed: str) -> tuple[int, str, datetime | None]:
    chain = db.session.scalar(select(Chain).where(Chain.origin == origin, Chain.feed == feed))
    if chain is None:
        return 0, protocol.GENESIS, None
    return chain.last_seq, chain.last_hash, chain.last_at


def _check_known(entry: Entry) -> None:
    """An entry at a place this node has seen: the same entry, or a fork."""
    known = db.session.scalar(
        select(ReceivedEntry.entry_hash).where(ReceivedEntry.origin == entry.origin,
                                               ReceivedEntry.feed == entry.feed,
                                               ReceivedEntry.seq == entry.seq)
    )
    if known is not None and known != entry.hash:
        raise Refused("fork", origin=entry.origin)


def quarantine(code: str, origin: str, peer: Peer) -> None:
    """Stop taking entries from an origin whose feed has a gap or a fork; alert admins."""
    if db.session.scalar(select(Quarantine.id).where(Quarantine.origin == origin)) is None:
        db.session.add(Quarantine(origin=origin, reason=code, at=clock.now(),
                                  seen_from=peer.node_id))
        audit.record("federation.quarantined", target_type="federation.peer", target_id=origin,
                     reason=code)


def _quarantined(origin: str) -> bool:
    return db.session.scalar(select(Quarantine.id).where(Quarantine.origin == origin)) is not None


# -- applying -------------------------------------------------------------------------------


def rank(version: int, feed: str, seq: int) -> tuple[int, int, int]:
    """The order of entries of one record: the highest is held."""
    return version, protocol.FEED_RANK[feed], seq


def apply(items: Iterable[Item], *, received_from: str, relay: bool = False,
          signatures: Signatures | None = None, ahead: shared_index.Ahead | None = None
          ) -> Applied:
    """Store and apply verified items in the current transaction (the caller commits).

    ``relay``: this node is a hub, and relays what its members' consent lets it pass on.
    ``signatures``: the items' signatures, if still being checked (``Page.signatures``):
    settled once the rows are written, before plugins hear of anything or anything is
    relayed; a bad one refuses the page, and the caller's rollback leaves nothing written.
    ``ahead``: the index words of their payloads, if already being worked out (``Page.ahead``).
    """
    items = list(items)
    done = Applied()
    with checked_together(signatures or Signatures()):
        if not items:
            return done
        records = [_shared(item) for item in items]
        # their index words, worked out in the pool while the page is written
        ahead = ahead or shared_index.Ahead(record.payload_text for record in records
                                            if record is not None)
        received, purged, revoked, tallies, keep = _write(items, records, received_from, done)
        # held for the first time: no earlier row of theirs, no earlier facts to delete
        first = {key for key, state in keep.items() if state["id"] is None}
        count_statistics(items, {key: shared for key, shared in received.items()
                                 if key not in purged}, first=first)
        count_tallies({key: counted for key, counted in tallies.items() if key not in purged})
        # the held rows last, with their index words (by then worked out in the pool)
        _save_held(keep, shared_index.indexed(
            (shared for key, shared in received.items() if key not in purged), ahead))
    for key in revoked:
        invalidate_signed_after_revocation(key)
    announce_shared_received(*(shared for key, shared in received.items() if key not in purged))
    for shared in purged.values():
        announce_shared_purged(shared)
    if relay:
        _relay(items)
    return done


def _shared(item: Item) -> SharedRecord | None:
    """The shared record an item may come to hold (None: it holds no payload of a record)."""
    entry = item.entry
    if item.payload is None or not (entry.kind == RECORD or entry.kind == SEALED and item.opened):
        return None
    return SharedRecord(entry.origin, entry.record_type, entry.record_id, entry.version,
                        item.payload.decode())


def _write(items: list[Item], records: list[SharedRecord | None], received_from: str,
           done: Applied):
    """The rows of ``items``: received entries, purged payloads, changed keys; and what the
    held records become. ``records``: each item's shared record (``_shared``). Returns what to
    announce (received, purged), the keys revoked, the tallies, and the held records' new
    states (``_save_held`` writes them: ``"id"`` None for a record not held before)."""
    now = clock.now()
    stored = _stored([item.entry for item in items])
    held = _held({(item.entry.origin, item.entry.record_id) for item in items
                  if item.entry.kind != KEY})
    rows, purge_entries, purge_records, received, purged = [], set(), set(), {}, {}
    revoked: list[Key] = []
    keep: dict[tuple[str, str], dict] = {}
    tallies: dict[tuple[str, str], bytes | None] = {}
    for item, record in zip(items, records, strict=True):
        entry = item.entry
        place = (entry.origin, entry.feed, entry.seq)
        if place in stored:
            if stored[place] != entry.hash:
                raise Refused("fork")
            continue
        stored[place] = entry.hash
        payload = item.payload
        if entry.kind == RECORD:
            payload = _apply_record(entry, payload, record, held, keep, purge_entries,
                                    received)
            done.records += 1
        elif entry.kind == TALLY:
            payload = _apply_tally(entry, payload, held, tallies)
            done.tallies += 1
        elif entry.kind == SEALED:
            # A recipient holds what it opened like any record; a hub keeps the sealed text
            # only to relay it (never held, counted or shown), another member the entry alone.
            if item.opened:
                payload = _apply_record(entry, payload, record, held, keep, purge_entries,
                                        received)
                done.records += 1
        elif entry.kind == TOMBSTONE:
            if _apply_tombstone(entry, held, keep, purge_records, received, purged, now):
                done.receipts.append((entry, received_from))
            done.tombstones += 1
        else:
            revoked += _apply_key(entry)
            done.keys += 1
        rows.append(_row(entry, item, payload, received_from, now))
    if rows:
        insert_rows(ReceivedEntry.__table__, rows)  # hundreds at once
    _purge(purge_entries, purge_records)
    return received, purged, revoked, tallies, keep


def _apply_tally(entry, payload, held, tallies) -> None:
    """A tally is counted, never held: its payload is read for its facts and not kept (the
    entry is, without it, for the chain). A tombstoned tally id counts no more, nor one whose
    consent has already expired."""
    current = held.get((entry.origin, entry.record_id))
    expired = entry.expires_on is not None and entry.expires_on <= clock.now().date()
    if expired:
        tallies[(entry.origin, entry.record_id)] = None  # its facts go, none are added
    elif payload is not None and (current is None or not current["tombstoned"]):
        tallies[(entry.origin, entry.record_id)] = payload  # the page's last one wins
    return None


def _apply_record(entry, payload, shared, held, keep, purge_entries, received):
    """Hold the record's version if it is the newest; return its payload to keep (or None)."""
    key = (entry.origin, entry.record_id)
    current = held.get(key)
    if current is not None and current["tombstoned"]:
        return None  # a tombstone is final: the version is kept without its payload
    if current is not None and rank(entry.version, entry.feed, entry.seq) <= rank(
            current["version"], current["feed"], current["seq"]):
        return None  # older than what is held: its payload is not kept
    if current is not None:
        purge_entries.add((entry.origin, current["feed"], current["seq"]))
    held[key] = keep[key] = {
        "origin": entry.origin, "record_id": entry.record_id,
        "record_type": entry.record_type, "version": entry.version, "feed": entry.feed,
        "seq": entry.seq, "expires_on": entry.expires_on, "tombstoned": False,
        "tombstone_reason": None, "id": current["id"] if current else None,
    }
    received[key] = shared or SharedRecord(entry.origin, entry.record_type, entry.record_id,
                                           entry.version, None)
    return payload


def _apply_tombstone(entry, held, keep, purge_records, received, purged, now) -> bool:
    """Return True when the record was not tombstoned before (a receipt is owed)."""
    key = (entry.origin, entry.record_id)
    current = held.get(key)
    first = current is None or not current["tombstoned"]
    if not first and rank(entry.version, entry.feed, entry.seq) <= rank(
            current["version"], current["feed"], current["seq"]):
        return False
    held[key] = keep[key] = {
        "origin": entry.origin, "record_id": entry.record_id,
        "record_type": entry.record_type, "version": entry.version, "feed": entry.feed,
        "seq": entry.seq, "expires_on": None, "tombstoned": True,
        "tombstone_reason": entry.reason, "tombstoned_at": now,
        "id": current["id"] if current else None,
    }
    purge_records.add(key)
    if first:
        received.pop(key, None)
        purged[key] = SharedRecord(entry.origin, entry.record_type, entry.record_id,
                                   entry.version, None)
    return first


def _apply_key(entry: Entry) -> list[Key]:
    """Record a rotation or revocation; return the keys whose stored entries to re-check."""
    event = entry.key_event
    if event["action"] == "rotate":
        signer = db.session.scalar(select(Key).where(Key.key_id == entry.key))
        signer.superseded_at = _earliest(signer.superseded_at, entry.at)
        if db.session.scalar(select(Key.id).where(Key.key_id == event["key_id"])) is None:
            db.session.add(Key(origin=entry.origin, key_id=event["key_id"],
                               public_key=protocol.unb64(event["public_key"]),
                               valid_from=entry.at, source="entry"))
        db.session.flush()
        return []
    key = db.session.scalar(select(Key).where(Key.key_id == event["key_id"],
                                              Key.origin == entry.origin))
    if key is None:
        return []
    key.revoked_at = _earliest(key.revoked_at, protocol.parse_at(event["revoked_at"]))
    db.session.flush()
    return [key]


def invalidate_signed_after_revocation(key: Key) -> int:
    """Re-check stored entries of a revoked key: those made after its revocation lose their
    payloads, and the records they held are no longer held. Returns how many."""
    bad = db.session.execute(
        select(ReceivedEntry.id, ReceivedEntry.origin, ReceivedEntry.feed, ReceivedEntry.seq,
               ReceivedEntry.record_id, ReceivedEntry.kind)
        .where(ReceivedEntry.key_id == key.key_id, ReceivedEntry.at >= key.revoked_at,
               ReceivedEntry.invalid_reason.is_(None), ReceivedEntry.kind != KEY)
    ).all()
    if not bad:
        return 0
    db.session.execute(update(ReceivedEntry).where(ReceivedEntry.id.in_([b.id for b in bad]))
                       .values(invalid_reason="key-revoked", payload=None))
    erasure.purging()
    for row in bad:
        if row.kind == TALLY:
            forget_tally(row.origin, row.record_id, row.seq)  # unless signed again since
            continue
        held = db.session.scalar(select(HeldRecord).where(
            HeldRecord.origin == row.origin, HeldRecord.feed == row.feed,
            HeldRecord.seq == row.seq, HeldRecord.tombstoned_at.is_(None)))
        if held is not None:
            announce_shared_purged(SharedRecord(held.origin, held.record_type, held.record_id,
                                                held.version, None))
            db.session.delete(held)
    return len(bad)


def _row(entry: Entry, item: Item, payload: bytes | None, received_from: str, now) -> dict:
    return {
        "origin": entry.origin, "feed": entry.feed, "seq": entry.seq,
        "entry_hash": entry.hash, "kind": entry.kind, "record_type": entry.record_type,
        "record_id": entry.record_id, "version": entry.version, "key_id": entry.key,
        "at": entry.at, "entry": entry.raw.decode("utf-8"), "sig": item.sig,
        "payload": None if payload is None else payload.decode("utf-8"),
        "relay": entry.relay, "received_from": received_from, "received_at": now,
    }


def _stored(entries: list[Entry]) -> dict[tuple[str, str, int], str]:
    found = {}
    by_stream: dict[tuple[str, str], list[int]] = {}
    for entry in entries:
        by_stream.setdefault((entry.origin, entry.feed), []).append(entry.seq)
    for (origin, feed), seqs in by_stream.items():
        for seq, entry_hash in db.session.execute(
            select(ReceivedEntry.seq, ReceivedEntry.entry_hash).where(
                ReceivedEntry.origin == origin, ReceivedEntry.feed == feed,
                ReceivedEntry.seq.between(min(seqs), max(seqs)))
        ):
            found[(origin, feed, seq)] = entry_hash
    return found


def _held(keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    found = {}
    by_origin: dict[str, list[str]] = {}
    for origin, record_id in keys:
        by_origin.setdefault(origin, []).append(record_id)
    for origin, record_ids in by_origin.items():
        for start in range(0, len(record_ids), 500):
            for row in db.session.scalars(select(HeldRecord).where(
                    HeldRecord.origin == origin,
                    HeldRecord.record_id.in_(record_ids[start:start + 500]))):
                found[(row.origin, row.record_id)] = {
                    "id": row.id, "origin": row.origin, "record_id": row.record_id,
                    "record_type": row.record_type, "version": row.version, "feed": row.feed,
                    "seq": row.seq, "expires_on": row.expires_on,
                    "tombstoned": row.tombstoned_at is not None,
                    "tombstone_reason": row.tombstone_reason,
                }
    return found


def _purge(entries: set[tuple[str, str, int]], records: set[tuple[str, str]]) -> None:
    if entries or records:
        erasure.purging()  # once committed, the bytes leave the files too
    for origin, feed, seq in entries:
        db.session.execute(update(ReceivedEntry).where(
            ReceivedEntry.origin == origin, ReceivedEntry.feed == feed, ReceivedEntry.seq == seq)
            .values(payload=None))
    for origin, record_id in records:
        db.session.execute(update(ReceivedEntry).where(
            ReceivedEntry.origin == origin, ReceivedEntry.record_id == record_id)
            .values(payload=None))


def _save_held(keep: dict[tuple[str, str], dict],
               indexed: dict[tuple[str, str], tuple[str, str]]) -> None:
    """Write the held records' new states, each with its payload's index words and facets
    (``indexed``; none for one held without a payload: a tombstone, a purged version)."""
    new, changed = [], []
    for key, state in keep.items():
        words, facets = indexed.get(key, (None, None))
        values = {
            "origin": state["origin"], "record_id": state["record_id"],
            "record_type": state["record_type"], "version": state["version"],
            "feed": state["feed"], "seq": state["seq"], "expires_on": state["expires_on"],
            "tombstone_reason": state["tombstone_reason"],
            "tombstoned_at": state.get("tombstoned_at") if state["tombstoned"] else None,
            "words": words, "facets": facets,
        }
        if state["id"] is None:
            new.append(values)
        else:
            changed.append((state["id"], values))
    if new:
        insert_rows(HeldRecord.__table__, new)
    for held_id, values in changed:
        db.session.execute(update(HeldRecord).where(HeldRecord.id == held_id).values(**values))


# -- a hub's relay feed ---------------------------------------------------------------------


def _relay(items: list[Item]) -> None:
    """Pass on, unchanged, what members' consent lets partner nodes receive."""
    chosen = []
    for item in items:
        entry = item.entry
        if entry.feed != HUB:
            continue
        if entry.kind in (KEY, SEALED) or (entry.kind == RECORD and entry.relay
                                           and "peers" in entry.consent["audiences"]):
            chosen.append(entry)
        elif entry.kind == TOMBSTONE and (_was_relayed(entry) or any(
                c.kind in (RECORD, SEALED) and c.origin == entry.origin and
                c.record_id == entry.record_id for c in chosen)):
            chosen.append(entry)  # to everyone who got the record: it was in this feed
    if not chosen:
        return
    seq, link = db.session.execute(
        update(OutboxHead).where(OutboxHead.feed == RELAY)
        .values(seq=OutboxHead.seq + len(chosen)).returning(OutboxHead.seq, OutboxHead.hash)
    ).one()
    seq -= len(chosen)
    ids = dict(db.session.execute(
        select(ReceivedEntry.entry_hash, ReceivedEntry.id).where(
            or_(*(and_(ReceivedEntry.origin == e.origin, ReceivedEntry.feed == e.feed,
                       ReceivedEntry.seq == e.seq) for e in chosen)))
    ).all())
    rows = []
    for entry in chosen:
        seq += 1
        link = relay_link(link, entry.hash)
        rows.append({"seq": seq, "entry_id": ids[entry.hash], "link": link})
    insert_rows(RelayItem.__table__, rows)
    db.session.execute(update(OutboxHead).where(OutboxHead.feed == RELAY).values(hash=link))


def _was_relayed(entry: Entry) -> bool:
    return db.session.scalar(
        select(RelayItem.seq).join(ReceivedEntry, ReceivedEntry.id == RelayItem.entry_id)
        .where(ReceivedEntry.origin == entry.origin, ReceivedEntry.record_id == entry.record_id)
        .limit(1)
    ) is not None


def relay_page(after: int, limit: int) -> tuple[list[dict], int]:
    rows = db.session.execute(
        select(RelayItem.seq, RelayItem.link, ReceivedEntry.entry, ReceivedEntry.sig,
               ReceivedEntry.payload)
        .join(ReceivedEntry, ReceivedEntry.id == RelayItem.entry_id)
        .where(RelayItem.seq > after).order_by(RelayItem.seq).limit(limit)
    ).all()
    head = db.session.scalar(select(OutboxHead.seq).where(OutboxHead.feed == RELAY)) or 0
    return [{"seq": r.seq, "entry": r.entry, "sig": r.sig, "payload": r.payload, "link": r.link}
            for r in rows], head


# -- where a pull stands --------------------------------------------------------------------


def advance(peer_id: int, page: Page) -> None:
    """Move the cursor (and the origin's chain) past ``page``, in the page's transaction."""
    now = clock.now()
    cursor = db.session.scalar(select(Cursor).where(Cursor.peer_id == peer_id,
                                                    Cursor.feed == page.feed))
    if cursor is None:
        cursor = Cursor(peer_id=peer_id, feed=page.feed, after=0, last_hash=protocol.GENESIS)
        db.session.add(cursor)
    cursor.after, cursor.last_hash = page.after, page.last_hash
    cursor.remote_head, cursor.updated_at = page.head, now
    chains: dict[tuple[str, str], Entry] = {}
    for item in page.items:
        chains[(item.entry.origin, item.entry.feed)] = item.entry
    for (chain_origin, feed), entry in chains.items():
        chain = db.session.scalar(select(Chain).where(Chain.origin == chain_origin,
                                                      Chain.feed == feed))
        if chain is None:
            chain = Chain(origin=chain_origin, feed=feed)
            db.session.add(chain)
        chain.last_seq, chain.last_hash, chain.last_at = entry.seq, entry.hash, entry.at


def cursor_of(peer_id: int, feed: str) -> tuple[int, str]:
    cursor = db.session.scalar(select(Cursor).where(Cursor.peer_id == peer_id,
                                                    Cursor.feed == feed))
    if cursor is None:
        return 0, protocol.GENESIS
    return cursor.after, cursor.last_hash


# -- holding ------------------------------------------------------------------------------


def purge_expired(today=None) -> int:
    """Purge held records whose consent has expired, even if their origin is silent."""
    today = today or clock.now().date()
    due = list(db.session.scalars(select(HeldRecord).where(
        HeldRecord.expires_on <= today, HeldRecord.tombstoned_at.is_(None))))
    if due:
        erasure.purging()
    for held in due:
        db.session.execute(update(ReceivedEntry).where(
            ReceivedEntry.origin == held.origin, ReceivedEntry.record_id == held.record_id)
            .values(payload=None))
        held.tombstoned_at, held.tombstone_reason = clock.now(), "expired"
        announce_shared_purged(SharedRecord(held.origin, held.record_type, held.record_id,
                                            held.version, None))
    forget_expired_tallies(today)  # tallies are not held: their consent is in their entry
    return len(due)


def forget_origin(origin: str) -> None:
    """Forget how far this node followed ``origin`` (before re-reading after a quarantine)."""
    db.session.execute(delete(Chain).where(Chain.origin == origin))


def held_payloads(origin: str | None = None) -> dict[tuple[str, str], dict | None]:
    """Every held record and its payload (tests and tools); None once purged."""
    query = select(HeldRecord)
    if origin:
        query = query.where(HeldRecord.origin == origin)
    result = {}
    for held in db.session.scalars(query):
        text = held.payload
        result[(held.origin, held.record_id)] = None if text is None else json.loads(text)
    return result


def take_page(peer: Peer, feed: str, page: Page) -> None:
    """Apply a verified page and move the cursor past it, in the current transaction (the
    caller commits): a pulled page, and a pushed one (``federation.push``) alike."""
    applied = apply(page.items, received_from=peer.node_id,
                    relay=is_hub() and feed == protocol.HUB, signatures=page.signatures,
                    ahead=page.ahead)
    for tombstone, to in applied.receipts:
        receipts.make(tombstone, to)
    advance(peer.id, page)
