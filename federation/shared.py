"""What partner nodes (and the hub) shared with this node, for its people to read.

Every payload here was redacted by its origin for the audience this node belongs to, under
the defender's consent, and checked against its signed entry when it arrived: nothing
identifying. A tombstone (consent withdrawn, expired, retracted) takes a record off these
pages at once: only records still held, with their payload, are shown.

The list scales: each held record's row (``federation_record``) holds its payload's words,
folded as ``core.text`` folds them (Arabic conjunctions and articles also stripped, as on
cases), and its counted dimensions as ``name=code`` facets: written in the transaction that
stores the record, emptied in the one that purges it. Search, the filters by dimension and by
member, and pages by cursor (newest first, keyset, no OFFSET) read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import and_, bindparam, or_, select, update

from core import clock, records
from core.extensions import db
from core.readable import Shown, in_words
from core.text import fold_words
from federation import protocol, takedown
from federation.models import HeldRecord, Peer, Quarantine, ReceivedEntry
from federation.signatures import Worked
from federation.statistics import DIMENSIONS, facts_of

PAGE_SIZE = 50
MAX_TERMS = 8
FACETS = ("country", "governorate", "violation", "perpetrator", "activism", "status")
CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
ARABIC_WORD = re.compile(r"^[\u0600-\u06ff]+\Z")
CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?)~(\d{1,15})\Z")
# The quarantine reason of a hub's own hold on a member's feed (federation.operations): its
# records are not shown while the hold lasts.
WITHHELD = "withheld-by-hub"


@dataclass(frozen=True)
class SharedRecord:
    origin: str
    record_id: str
    record_type: str
    version: int
    received_at: datetime
    via_hub: bool
    expires_on: date | None
    payload: dict | None = None  # read for one record's page, not for the list
    held_id: int = 0  # the held row: with received_at, the list's cursor

    @property
    def cursor(self) -> str:
        """Where the page after this record starts (``page(after=...)``)."""
        return f"{self.received_at:%Y-%m-%dT%H:%M:%S.%f}~{self.held_id}"


def _query(*more):
    entry = ReceivedEntry
    return (
        select(HeldRecord.origin, HeldRecord.record_id, HeldRecord.record_type,
               HeldRecord.version, entry.received_at, entry.relay, HeldRecord.expires_on,
               HeldRecord.id, *more)
        .join(entry, and_(entry.origin == HeldRecord.origin, entry.feed == HeldRecord.feed,
                          entry.seq == HeldRecord.seq))
        .where(HeldRecord.tombstoned_at.is_(None), entry.payload.is_not(None),
               HeldRecord.origin.not_in(select(Quarantine.origin)
                                        .where(Quarantine.reason == WITHHELD)),
               # a member's records got through a hub that withholds its feed (takedown)
               or_(HeldRecord.feed != protocol.HUB,
                   HeldRecord.origin.not_in(takedown.held_origins())),
               # consent that lapsed here before the next purge: already not shown
               or_(HeldRecord.expires_on.is_(None), HeldRecord.expires_on > clock.now().date()))
    )


class SearchError(ValueError):
    """A search or filter that cannot be answered (a cursor not made here, a bad code)."""


@dataclass(frozen=True)
class Search:
    """What a reader asked the list for: words, facets (``name`` -> code), one member."""

    words: str = ""
    facets: tuple[tuple[str, str], ...] = ()
    origin: str | None = None

    def __post_init__(self):
        if len(self.words) > 200:
            raise SearchError("the search is too long")
        for name, code in self.facets:
            if name not in FACETS or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}",
                                                      code):
                raise SearchError("a filter is not a code")
        if self.origin is not None and not protocol.NODE_ID.fullmatch(self.origin):
            raise SearchError("not a node id")


def page(after: str | None = None, search: Search | None = None
         ) -> tuple[list[SharedRecord], str | None]:
    """One page of the records held, newest arrivals first, that match ``search``; and the
    cursor of the next page (None on the last). ``after``: a cursor this function gave."""
    query = _query()
    search = search or Search()
    conditions = _matching(search)
    if conditions:
        query = query.where(*conditions)
    if search.origin:
        query = query.where(HeldRecord.origin == search.origin)
    if after:
        at, held_id = _cursor(after)
        query = query.where(or_(ReceivedEntry.received_at < at,
                                and_(ReceivedEntry.received_at == at, HeldRecord.id < held_id)))
    rows = db.session.execute(
        query.order_by(ReceivedEntry.received_at.desc(), HeldRecord.id.desc())
        .limit(PAGE_SIZE + 1)).all()
    found = [SharedRecord(*row[:7], held_id=row[7]) for row in rows[:PAGE_SIZE]]
    return found, (found[-1].cursor if len(rows) > PAGE_SIZE else None)


def _cursor(text: str) -> tuple[datetime, int]:
    matched = CURSOR.fullmatch(text)
    if matched is None:
        raise SearchError("not a cursor of this list")
    try:
        at = datetime.fromisoformat(matched[1]).replace(tzinfo=UTC)
    except ValueError as error:
        raise SearchError("not a cursor of this list") from error
    return at, int(matched[2])


def _matching(search: Search) -> list:
    """Conditions on the held row: every word found (as a word's start), every facet."""
    conditions = [HeldRecord.words.like(f"% {term}%") for term in query_terms(search.words)]
    conditions += [HeldRecord.facets.like(f"% {name}={code} %")
                   for name, code in search.facets]
    return conditions


def facet_labels() -> dict:
    return {name: DIMENSIONS[name] for name in FACETS}


def query_terms(text: str) -> list[str]:
    """The words searched for, folded (at most ``MAX_TERMS``); a clitic-led Arabic word is
    found stripped too, because the index holds both forms."""
    return list(dict.fromkeys(fold_words(text).split()))[:MAX_TERMS]


# -- the index --------------------------------------------------------------------------------


class Ahead:
    """The index words and facets of payloads about to be stored, worked out in the checking
    pool while a sync reads and writes its page (``federation.signatures.Worked``), for
    :func:`indexed` to take. Each payload is added as its item is read: a batch goes to the pool
    as soon as it is full, beside the signature checks of the same items."""

    def __init__(self, payload_texts: Iterable[str] = ()):
        self._texts: dict[str, None] = {}
        self._worked = Worked(index_values)
        for text in payload_texts:
            self.add(text)

    def add(self, payload_text: str) -> None:
        if payload_text not in self._texts:
            self._texts[payload_text] = None
            self._worked.add(payload_text)

    def values(self) -> dict[str, tuple[str, str]]:
        """(words, facets) by payload text; none if the pool took none of them
        (:func:`indexed` then works out those of the records stored)."""
        if not self._worked.handed:
            return {}
        return dict(zip(self._texts, self._worked.results(), strict=True))


def index_values(text: str) -> tuple[str, str]:
    """(words, facets) of one record's payload text (what the pool runs for :class:`Ahead`)."""
    payload = json.loads(text)
    return words_of(payload), facets_of(payload)


def indexed(received: Iterable[records.SharedRecord], ahead: Ahead | None = None
            ) -> dict[tuple[str, str], tuple[str, str]]:
    """(words, facets) of records just stored, by (origin, record id), for their held rows
    (``federation.inbox``): those already worked out ``ahead`` (in the pool), the others
    here. None for a record stored without its payload: it is not shown, nor searched."""
    found = ahead.values() if ahead is not None else {}
    values = {}
    for shared in received:
        if shared.payload_text is None:
            continue
        worked = found.get(shared.payload_text)
        if worked is None:
            payload = shared.payload  # parsed once, for both
            worked = words_of(payload), facets_of(payload)
        values[(shared.origin, shared.record_id)] = worked
    return values


def forget(origin: str, record_id: str) -> None:
    """A purged record's words and facets go with its payload (the caller's transaction)."""
    db.session.execute(update(HeldRecord).where(HeldRecord.origin == origin,
                                                HeldRecord.record_id == record_id)
                       .values(words=None, facets=None))


def words_of(payload) -> str:
    """Every word of the payload's texts, folded, with Arabic words also without a leading
    conjunction or article (so "وسلمى" is found by "سلمى"). The texts are folded and their
    words made unique in C (one ``str.translate``, ``dict.fromkeys``); only the words that
    begin with a clitic are looked at one by one."""
    found = dict.fromkeys(fold_words(" ".join(_texts(payload))).split())
    for word in [word for word in found if word.startswith(CLITICS)]:
        if ARABIC_WORD.match(word):
            for clitic in CLITICS:
                if word.startswith(clitic) and len(word) - len(clitic) >= 2:
                    found[word[len(clitic):]] = None
    return " " + " ".join(found) + " "


def facets_of(payload: dict) -> str:
    """The payload's counted dimensions (those of federation.statistics) as facets (which
    record's they are does not change them)."""
    found: dict[str, None] = {}
    for fact in facts_of("", "", payload if isinstance(payload, dict) else {}, False):
        for name in FACETS:
            if fact.get(name):
                found[f"{name}={fact[name]}"] = None
    return " " + " ".join(found) + " "


def _texts(value) -> list[str]:
    """Every string in a payload (a dict of strings, lists and dicts), in no set order."""
    found, left = [], [value]
    while left:
        value = left.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            left += value.values()
        elif isinstance(value, list):
            left += value
    return found


def rebuild() -> int:
    """Work out again the words and facets of every record held (after an upgrade that
    changes how they are made). The caller commits."""
    db.session.execute(update(HeldRecord).values(words=None, facets=None))
    held = db.session.execute(_query(ReceivedEntry.payload)).all()
    for start in range(0, len(held), 500):
        rows = []
        for row in held[start:start + 500]:
            words, facets = index_values(row.payload)
            rows.append({"held_id": row.id, "words": words, "facets": facets})
        db.session.execute(_SET_INDEX, rows)
    return len(held)


_SET_INDEX = update(HeldRecord.__table__).where(
    HeldRecord.__table__.c.id == bindparam("held_id")).values(
    words=bindparam("words"), facets=bindparam("facets"))


def one(origin: str, record_id: str) -> SharedRecord | None:
    """One held record with its payload, or None (unknown, or taken back)."""
    if not protocol.NODE_ID.fullmatch(origin) or not protocol.UUID.fullmatch(record_id):
        return None  # not ids at all (a NUL byte would even stop PostgreSQL's query)
    row = db.session.execute(
        _query(ReceivedEntry.payload)
        .where(HeldRecord.origin == origin, HeldRecord.record_id == record_id)
    ).one_or_none()
    if row is None:
        return None
    return SharedRecord(*row[:7], held_id=row[7], payload=json.loads(row[8]))


def holds_from(origin: str) -> bool:
    """Whether this node holds (or held) a record of ``origin``."""
    return protocol.NODE_ID.fullmatch(origin) is not None and db.session.scalar(
        select(HeldRecord.id).where(HeldRecord.origin == origin).limit(1)) is not None


def origin_names(node_ids: set[str] | None = None) -> dict[str, str]:
    """The names this node's administrators gave the nodes it knows (or those of
    ``node_ids``), by node id."""
    query = select(Peer.node_id, Peer.label)
    if node_ids is not None:
        query = query.where(Peer.node_id.in_(node_ids))
    return {node_id: label for node_id, label in db.session.execute(query) if label}


# -- reading a payload ----------------------------------------------------------------------


def readable(record: SharedRecord, locale: str) -> list[Shown]:
    """The payload in words (``core.readable``), by the record type's schema when this node
    knows the type; what the schema does not describe (a newer version's field, a type no
    plugin here declares) is shown as sent."""
    known = records.record_types()
    declared = known.get(record.record_type) if record.record_type in known else None
    schema = declared.schema() if declared is not None and declared.schema else None
    return in_words(record.payload or {}, schema, locale)
