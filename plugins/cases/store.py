"""Finding and saving cases: who may see which case, the list's filters, and the one save
path that keeps a case's derived data (dates, facets, tallies, search index) in step.

Lists stay fast at 100,000 cases because no page counts or sorts the whole table: an
unfiltered (or status or risk) total comes from ``cases_tally``; a list filtered by a
violation or a governorate is one range of ``cases_facet``, which copies each case's list
columns; searches are counted up to a cap (see search.py). A page of the default order (last
changed first) is found from where the previous one ended (a ``Cursor`` in its links), so a
later page costs what the first does; a page asked for by number alone is counted off.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    and_,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.types import NullType as Unprocessed

from core import clock, records, references
from core.extensions import db
from core.permissions import ADMIN, REVIEWER
from core.places import GOVERNORATE, gazetteer

from . import search, terms
from .models import (
    FACET_COPIES,
    REFERENCE_PREFIX,
    RISKS,
    STATUSES,
    Case,
    CaseFacet,
    CaseFacetTally,
    CaseTally,
    Defender,
    Incident,
)

PAGE_SIZE = 25
SORTS = ("updated", "created", "incident", "risk")


@dataclass
class Filters:
    status: str = ""
    risk: str = ""
    violation: str = ""
    governorate: str = ""
    date_from: date | None = None
    date_to: date | None = None
    words: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Codes from a request are checked before any query (a NUL byte stopped PostgreSQL's):
        # an unknown one filters nothing, as an unknown status does.
        self.status = self.status if self.status in STATUSES else ""
        self.risk = self.risk if self.risk in RISKS else ""
        if self.violation and self.violation not in terms.violation_codes():
            self.violation = ""
        if self.governorate and getattr(gazetteer().get(self.governorate), "kind",
                                        None) != GOVERNORATE:
            self.governorate = ""

    def __bool__(self) -> bool:
        return any([self.status, self.risk, self.violation, self.governorate, self.date_from,
                    self.date_to, self.words])

    @property
    def facet(self) -> tuple[str, str] | None:
        if self.violation:
            return ("violation", self.violation)
        if self.governorate:
            return ("governorate", self.governorate)
        return None


@dataclass(frozen=True)
class Row:
    """What a list shows of a case, read without loading the case itself."""

    id: int
    uuid: str
    reference_code: str
    title: str  # scrubbed, as are all open texts kept in clear
    pseudonym: str | None
    restricted: bool
    status: str
    risk: str
    updated_at: object
    last_incident_on: date | None
    sealed: bool  # False: its texts were written before texts were sealed (scrub to show)
    violations: tuple[str, ...]

    @property
    def reference(self) -> str:
        return references.shown(REFERENCE_PREFIX, self.reference_code)


@dataclass(frozen=True)
class Cursor:
    """Where a page of the default order ends: the last-changed time and id of its edge row.
    In a link as ``<id>@<ISO time>``; anything else is no cursor (the page is then found by
    its number, which is slower for a deep page but shows the same rows)."""

    updated_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{self.id}@{self.updated_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text or len(text) > 64:
            return None
        number, _, moment = text.partition("@")
        try:
            identity, when = int(number), datetime.fromisoformat(moment)
        except ValueError:
            return None
        if identity < 1 or when.tzinfo is None:
            return None
        return cls(when.astimezone(UTC), identity)


@dataclass
class Page:
    cases: list[Row]
    total: int
    number: int
    capped: bool = False  # the total is "more than" (searches are counted up to a cap)
    keyed: bool = False  # its neighbours can be found from its edge rows (see Cursor)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def next_cursor(self) -> Cursor | None:
        last = self.cases[-1] if self.keyed and self.cases else None
        return Cursor(last.updated_at, last.id) if last else None

    @property
    def previous_cursor(self) -> Cursor | None:
        first = self.cases[0] if self.keyed and self.cases else None
        return Cursor(first.updated_at, first.id) if first else None


def sees_restricted(user) -> bool:
    return user.role in (ADMIN, REVIEWER)


def visible(user, table=Case):
    """Cases of this node that ``user`` may open: restricted ones only on a need to know.
    ``table`` is Case or CaseFacet (which copies the columns this needs)."""
    condition = table.origin == current_app.config["NODE_ID"]
    if not sees_restricted(user):
        condition = and_(condition, or_(table.restricted.is_(False),
                                        table.assigned_to_id == user.id))
    return condition


def may_open(case: Case, user) -> bool:
    """The same rule as ``visible``, for a case already loaded."""
    if case.origin != current_app.config["NODE_ID"]:
        return False
    return sees_restricted(user) or not case.restricted or case.assigned_to_id == user.id


# A case with its parts: the defender in the same query, each list of parts in one more.
WHOLE = (joinedload(Case.defender), selectinload(Case.incidents),
         selectinload(Case.interventions), selectinload(Case.tasks),
         selectinload(Case.attachments))


def get(uuid: str, user, *, whole: bool = False) -> Case:
    """The case ``uuid`` if ``user`` may open it; otherwise the same 404 as a missing one
    (through core's one lookup, which asks ``access_blockers``: see ``may_open``).
    ``whole``: with every part loaded at once (its page shows them all)."""
    return records.find(Case.__record_type__, uuid, user, loading=WHOLE if whole else ())


# -- lists -----------------------------------------------------------------------------------


def listing(user, filters: Filters, sort: str = "updated", number: int = 1, *,
            after: Cursor | None = None, before: Cursor | None = None) -> Page:
    """One page of the cases ``user`` may see. ``after``/``before`` (default order only)
    find it next to a page already shown instead of counting ``number`` pages off."""
    number = max(1, number)
    sort = sort if sort in SORTS else "updated"
    at = Position(sort, number, after, before)
    found = _facet_page(user, filters, at) if filters.facet else _case_page(user, filters, at)
    return Page(_load(found.ids), found.total, number, found.capped, found.keyed)


class Found(NamedTuple):
    """A page before its rows are read: its case ids in order, the total, whether that is a
    cap, whether its neighbours are found by cursor."""

    ids: list[int]
    total: int
    capped: bool = False
    keyed: bool = False


@dataclass(frozen=True)
class Position:
    """Which page: its number in ``sort`` order, or the page after or before a cursor."""

    sort: str
    number: int
    after: Cursor | None = None
    before: Cursor | None = None

    @property
    def keyed(self) -> bool:
        return self.sort == "updated"

    @property
    def offset(self) -> int:
        return (self.number - 1) * PAGE_SIZE

    def rows(self, query, table, params: dict | None = None) -> list:
        """This page of ``query`` (a SELECT of ``table``'s case ids, and maybe more), in
        order."""
        key, identity = _order_columns(table, self.sort)
        edge = self.after or self.before
        if not self.keyed or edge is None:
            query = query.order_by(key.desc(), identity.desc()).offset(self.offset)
        elif self.after is not None:
            query = (query.where(tuple_(key, identity) < tuple_(edge.updated_at, edge.id))
                     .order_by(key.desc(), identity.desc()))
        else:  # read backwards from the cursor, shown in order
            query = (query.where(tuple_(key, identity) > tuple_(edge.updated_at, edge.id))
                     .order_by(key.asc(), identity.asc()))
        found = db.session.execute(query.limit(PAGE_SIZE), params).all()
        return found[::-1] if self.keyed and edge is not None and self.after is None else found

    def ids(self, query, table) -> list[int]:
        return [row[0] for row in self.rows(query, table)]

    def ids_and_tally(self, query, table, user, filters: Filters, facet=None) -> tuple:
        """The page's ids and the list's total from the tallies, in one round trip (the
        tally rides along as a column; an empty page asks for it alone)."""
        tally, params = _tally(user, filters, facet)
        found = self.rows(query.add_columns(tally.scalar_subquery()), table, params)
        if not found:
            return [], db.session.scalar(tally, params)
        return [row[0] for row in found], found[0][1]


def _order_columns(table, sort: str) -> tuple:
    key = {"updated": table.updated_at, "created": table.created_at,
           "incident": table.last_incident_on, "risk": table.risk}[sort]
    return key, (table.id if table is Case else table.case_id)


def _case_page(user, filters: Filters, at: Position) -> Found:
    conditions = [visible(user), *_case_conditions(filters)]
    matching = search.matching(filters.words)
    if matching is not None:
        return _search_page(conditions, matching, at)
    query = select(Case.id).where(*conditions)
    if filters.date_from or filters.date_to:
        total = db.session.scalar(select(func.count()).select_from(Case).where(*conditions))
        return Found(at.ids(query, Case), total, keyed=at.keyed)
    return Found(*at.ids_and_tally(query, Case, user, filters), keyed=at.keyed)


def _search_page(conditions, matching, at: Position) -> Found:
    """Few hits: counted exactly and sorted as asked. Many: "more than" the cap, newest
    cases first (sorting every hit would cost more than the page is worth)."""
    total = db.session.scalar(select(func.count()).select_from(
        search.hits(matching, conditions).limit(search.COUNT_CAP + 1).subquery()))
    if total > search.COUNT_CAP:
        newest = search.newest_first(matching, conditions).limit(PAGE_SIZE).offset(at.offset)
        return Found(list(db.session.scalars(newest)), search.COUNT_CAP, capped=True)
    # At most the cap: the hits with their sort key, sorted here. Unordered in SQL: a
    # planner left to guess how rare a word is may walk the whole table in order instead.
    # The key as the driver gives it, in Core rows: it is only compared.
    key, _identity = _order_columns(Case, at.sort)
    hits = db.session.connection().execute(
        search.hits(matching, conditions, type_coerce(key, Unprocessed))).all()
    hits.sort(key=_descending, reverse=True)
    return Found([hit[0] for hit in hits[at.offset:at.offset + PAGE_SIZE]], total)


def _descending(hit) -> tuple:
    """Sort key of an (id, key) hit, for a reverse sort: key then id, highest first, cases
    without a key (no incident yet) last."""
    identity, key = hit
    return key is not None, key, identity


def _facet_page(user, filters: Filters, at: Position) -> Found:
    kind, value = filters.facet
    conditions = [CaseFacet.kind == kind, CaseFacet.value == value, visible(user, CaseFacet)]
    if filters.status:
        conditions.append(CaseFacet.status == filters.status)
    if filters.risk:
        conditions.append(CaseFacet.risk == filters.risk)
    if filters.violation and filters.governorate:  # the second facet: a join on case id
        other = select(CaseFacet.case_id).where(CaseFacet.kind == "governorate",
                                                CaseFacet.value == filters.governorate)
        conditions.append(CaseFacet.case_id.in_(other))
    conditions += _dates_and_words(filters, CaseFacet.case_id)
    query = select(CaseFacet.case_id).where(*conditions)
    if not (filters.violation and filters.governorate or filters.date_from or filters.date_to
            or filters.words):
        return Found(*at.ids_and_tally(query, CaseFacet, user, filters, filters.facet),
                     keyed=at.keyed)
    ids = at.ids(query, CaseFacet)
    counted = select(CaseFacet.case_id).where(*conditions)
    if filters.words:
        counted = counted.limit(search.COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery()))
    capped = bool(filters.words) and total > search.COUNT_CAP
    return Found(ids, min(total, search.COUNT_CAP) if capped else total, capped, keyed=at.keyed)


def _case_conditions(filters: Filters) -> list:
    conditions = []
    if filters.status:
        conditions.append(Case.status == filters.status)
    if filters.risk:
        conditions.append(Case.risk == filters.risk)
    conditions += _dates_and_words(filters, Case.id, words=False)
    return conditions


def _dates_and_words(filters: Filters, identity, words: bool = True) -> list:
    conditions = []
    if filters.date_from or filters.date_to:
        in_range = select(Incident.case_id)
        if filters.date_from:
            in_range = in_range.where(Incident.occurred_on >= filters.date_from)
        if filters.date_to:
            in_range = in_range.where(Incident.occurred_on <= filters.date_to)
        conditions.append(identity.in_(in_range))
    matching = search.matching(filters.words) if words else None
    if matching is not None:
        conditions.append(identity.in_(matching.ids()))
    return conditions


def query(user, filters: Filters):
    """Every visible case the filters keep, oldest first (exports)."""
    conditions = [visible(user), *_case_conditions(filters)]
    for kind, value in (("violation", filters.violation), ("governorate", filters.governorate)):
        if value:
            conditions.append(Case.id.in_(select(CaseFacet.case_id).where(
                CaseFacet.kind == kind, CaseFacet.value == value)))
    matching = search.matching(filters.words)
    if matching is not None:
        conditions.append(Case.id.in_(matching.ids()))
    return select(Case).where(*conditions).order_by(Case.id)


def _tallied(user, filters: Filters) -> int:
    """The total of a list filtered at most by status and risk, from the tallies."""
    return db.session.scalar(*_tally(user, filters))


def _tally(user, filters: Filters, facet: tuple[str, str] | None = None) -> tuple:
    """The tally query for a list filtered at most by status, risk and one facet, and its
    parameters."""
    statement = _tally_statement(sees_restricted(user), bool(filters.status), bool(filters.risk),
                                 facet is not None)
    kind, value = facet or ("", "")
    return statement, {
        "node": current_app.config["NODE_ID"], "user_id": user.id,
        "status": filters.status, "risk": filters.risk, "kind": kind, "value": value,
    }


@lru_cache(maxsize=16)
def _tally_statement(all_cases: bool, by_status: bool, by_risk: bool, by_facet: bool):
    """The tally query for one shape of filter (built once: building it cost more than
    running it). Someone who does not see every restricted case counts the open ones from
    the tallies and her own restricted ones from the cases (few: found by the assigned
    index), in one round trip."""
    tally = CaseFacetTally if by_facet else CaseTally
    conditions = [tally.origin == bindparam("node")]
    own = [Case.assigned_to_id == bindparam("user_id"), Case.restricted.is_(True),
           Case.origin == bindparam("node")]
    for wanted, name in ((by_status, "status"), (by_risk, "risk")):
        if wanted:
            conditions.append(getattr(tally, name) == bindparam(name))
            own.append(getattr(Case, name) == bindparam(name))
    theirs = select(func.count()).select_from(Case)
    if by_facet:
        conditions += [tally.kind == bindparam("kind"), tally.value == bindparam("value")]
        # EXISTS, not a join: a join let SQLite walk every case with the facet instead.
        own.append(select(CaseFacet.case_id).where(
            CaseFacet.case_id == Case.id, CaseFacet.kind == bindparam("kind"),
            CaseFacet.value == bindparam("value")).exists())
    tallied = select(func.coalesce(func.sum(tally.count), 0))
    if all_cases:
        return tallied.where(*conditions)
    open_to_all = tallied.where(*conditions, tally.restricted.is_(False)).scalar_subquery()
    return select(open_to_all + theirs.where(*own).scalar_subquery())


def _load(ids: list[int]) -> list[Row]:
    """The rows of one page, in the page's order: one narrow query, no case loaded. (Read
    apart from the ids: PostgreSQL plans the two simple queries in a tenth of the time it
    takes to plan them as one.)"""
    if not ids:
        return []
    found = db.session.connection().execute(_page_rows(), {"ids": ids}).all()
    by_id = {row.id: Row(*row[:-1], tuple(row.violation_codes.split())) for row in found}
    return [by_id[i] for i in ids if i in by_id]


@lru_cache(maxsize=1)
def _page_rows():
    """What a list shows of some cases (built once, run as Core rows: building the
    statement and loading ORM rows cost more than PostgreSQL's answer)."""
    return (select(Case.id, Case.uuid, Case.reference_code, Case.title, Defender.pseudonym,
                   Case.restricted, Case.status, Case.risk, Case.updated_at, Case.last_incident_on,
                   Case.title_original.is_not(None), Case.violation_codes)
            .outerjoin(Defender, Defender.case_id == Case.id)
            .where(Case.id.in_(bindparam("ids", expanding=True))))


def full_cases(rows: list[Row]) -> dict[int, Case]:
    """The cases behind some rows (to scrub texts written before texts were sealed)."""
    if not rows:
        return {}
    found = db.session.scalars(
        select(Case).where(Case.id.in_([row.id for row in rows]))
        .options(selectinload(Case.defender), selectinload(Case.incidents))
    ).all()
    return {case.id: case for case in found}


def counts_by_status(user) -> dict[str, int]:
    return {status: _tallied(user, Filters(status=status)) for status in STATUSES}


# -- saving ----------------------------------------------------------------------------------


def save(case: Case, user, *, action: str = "record.saved") -> None:
    """Bring derived data in step with the case, then save it through the record layer."""
    now = clock.now()
    before = tally_key(case, committed=True)
    facets_before = facet_tally_keys(case)  # the facet rows still hold the last save's copies
    case.updated_at = now
    if case.created_at is None:
        case.created_at = now
    refresh_derived(case)
    records.seal_texts(case)  # before it is written or indexed
    db.session.add(case)
    db.session.flush()
    retally(before, tally_key(case))
    retally_facets(facets_before, facet_tally_keys(case))
    case._tallied_as = tally_key(case)
    search.index(case)
    records.save(case, user, action=action, at=now)


def refresh_derived(case: Case) -> None:
    """Incident dates, facets (with copies of the list columns) — not the search index."""
    # Column defaults apply only at INSERT; the copies need the values now.
    case.restricted = bool(case.restricted)
    case.status, case.risk = case.status or "open", case.risk or "medium"
    dates = [i.occurred_on for i in case.incidents if i.occurred_on]
    case.first_incident_on = min(dates) if dates else None
    case.last_incident_on = max(dates) if dates else None
    wanted = {("violation", i.violation) for i in case.incidents if i.violation}
    case.violation_codes = " ".join(sorted(value for _kind, value in wanted))[:400]
    places = [i.place for i in case.incidents]
    if case.defender is not None:
        places.append(case.defender.residence)
    for code in places:
        governorate = gazetteer().up_to(code, "governorate") if code else None
        if governorate:
            wanted.add(("governorate", governorate))
    current = {(f.kind, f.value): f for f in case.facets}
    for key in set(current) - wanted:
        case.facets.remove(current[key])
    for kind, value in wanted - set(current):
        case.facets.append(CaseFacet(kind=kind, value=value))
    copies = {name: getattr(case, name) for name in FACET_COPIES}
    for facet in case.facets:
        for name, value in copies.items():
            if getattr(facet, name) != value:
                setattr(facet, name, value)


def tally_key(case: Case, committed: bool = False) -> tuple | None:
    """Which tally counts the case: as it is now, or as it was when last read or saved
    (what the tallies hold; None for a new case). Remembered rather than read from the
    attributes' history, which an autoflush in between would have reset."""
    if committed:
        return getattr(case, "_tallied_as", None)
    return case.origin, bool(case.restricted), case.status, case.risk


@event.listens_for(Case, "load")
@event.listens_for(Case, "refresh")
def _remember_tally(case: Case, *_context) -> None:
    case._tallied_as = tally_key(case)


def retally(before: tuple | None, after: tuple | None) -> None:
    if before == after:
        return
    if before is not None:
        add_to_tally(before, -1)
    if after is not None:
        add_to_tally(after, 1)


def add_to_tally(key: tuple, delta: int) -> None:
    _add_to(CaseTally, dict(zip(("origin", "restricted", "status", "risk"), key, strict=True)),
            delta)


def _add_to(tally, key: dict, delta: int) -> None:
    """Add ``delta`` to the count of one tally row (made if missing)."""
    changed = db.session.execute(
        update(tally).where(*(getattr(tally, name) == value for name, value in key.items()))
        .values(count=tally.count + delta).execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.add(tally(**key, count=delta))
        db.session.flush()


def facet_tally_keys(case: Case) -> Counter:
    """Which facet tallies count the case, from its facet rows' copies of its columns."""
    if inspect(case).transient:
        return Counter()
    return Counter((f.kind, f.value, f.origin, bool(f.restricted), f.status, f.risk)
                   for f in case.facets if f.origin is not None)


def retally_facets(before: Counter, after: Counter) -> None:
    for key, number in (before - after).items():
        add_to_facet_tally(key, -number)
    for key, number in (after - before).items():
        add_to_facet_tally(key, number)


def add_to_facet_tally(key: tuple, delta: int) -> None:
    names = ("kind", "value", "origin", "restricted", "status", "risk")
    _add_to(CaseFacetTally, dict(zip(names, key, strict=True)), delta)


def recount() -> int:
    """Rebuild the tallies from the cases (``rabita cases recount``); return the total."""
    db.session.execute(delete(CaseFacetTally))
    db.session.execute(insert(CaseFacetTally).from_select(
        ["kind", "value", "origin", "restricted", "status", "risk", "count"],
        select(CaseFacet.kind, CaseFacet.value, CaseFacet.origin, CaseFacet.restricted,
               CaseFacet.status, CaseFacet.risk, func.count())
        .group_by(CaseFacet.kind, CaseFacet.value, CaseFacet.origin, CaseFacet.restricted,
                  CaseFacet.status, CaseFacet.risk)))
    db.session.execute(delete(CaseTally))
    rows = db.session.execute(
        select(Case.origin, Case.restricted, Case.status, Case.risk, func.count())
        .group_by(Case.origin, Case.restricted, Case.status, Case.risk)
    ).all()
    for origin, restricted, status, risk, count in rows:
        db.session.add(CaseTally(origin=origin, restricted=bool(restricted), status=status,
                                 risk=risk, count=count))
    db.session.flush()
    return sum(row[-1] for row in rows)


# -- references ------------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _give_references(session: Session, _context, _instances) -> None:
    """Every new case gets its reference as it is first written, whichever path made it
    (the form, sample data, an import): drawn at random, drawn again while taken."""
    new = [item for item in session.new if isinstance(item, Case) and not item.reference_code]
    if not new:
        return
    for case, code in zip(new, unused_codes(session, len(new)), strict=True):
        case.reference_code = code


def unused_codes(session: Session, count: int) -> list[str]:
    """``count`` distinct reference codes that no case of this database holds yet. (Two
    writers drawing the same code at the same moment: the unique index refuses the second.)"""
    chosen: set[str] = set()
    while len(chosen) < count:
        drawn = {references.draw() for _ in range(count - len(chosen))} - chosen
        with session.no_autoflush:
            taken = set(session.scalars(select(Case.reference_code).where(
                Case.reference_code.in_(drawn))))
        chosen |= drawn - taken
    return list(chosen)


def by_reference(typed: str, user) -> Row | None:
    """The case whose reference people typed (any case, dashes, look-alikes), if ``user``
    may open it; None for no such case and for one she may not see alike."""
    code = references.parse(REFERENCE_PREFIX, typed)
    if code is None:
        return None
    found = db.session.scalar(select(Case.id).where(Case.reference_code == code,
                                                    visible(user)))
    return _load([found])[0] if found is not None else None


def matching(user, words: list[str], limit: int) -> list[Row]:
    """The newest cases holding ``words`` that ``user`` may open, up to ``limit`` (the site
    search's hits: it counts and pages them)."""
    rows, number = [], 1
    while len(rows) < limit:
        page = listing(user, Filters(words=words), number=number)
        rows += page.cases
        if number >= page.pages:
            break
        number += 1
    return rows[:limit]
