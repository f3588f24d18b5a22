"""Finding and saving cases: who may see which case, the list's filters, and the one save
path that keeps a case's derived data (dates, facets, tallies, search index) in step.

Lists stay fast at 100,000 cases because no page counts or sorts the whole table: an
unfiltered (or status or risk) total comes from ``cases_tally``; a list filtered by a
violation or a governorate is one range of ``cases_facet``, which copies each case's list
columns; searches are counted up to a cap (see search.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import abort, current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from core import clock, records
from core.extensions import db
from core.permissions import ADMIN, REVIEWER
from core.places import gazetteer

from . import search
from .models import (
    FACET_COPIES,
    RISKS,
    STATUSES,
    Case,
    CaseFacet,
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
        self.status = self.status if self.status in STATUSES else ""
        self.risk = self.risk if self.risk in RISKS else ""

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
    title: str
    pseudonym: str | None
    restricted: bool
    status: str
    risk: str
    updated_at: object
    last_incident_on: date | None
    violations: tuple[str, ...]

    @property
    def reference(self) -> str:
        return f"C-{self.id:05d}"


@dataclass
class Page:
    cases: list[Row]
    total: int
    number: int
    capped: bool = False  # the total is "more than" (searches are counted up to a cap)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


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


def get(uuid: str, user) -> Case:
    """The case ``uuid`` if ``user`` may open it; otherwise the same 404 as a missing one."""
    if len(uuid) != 36:
        abort(404)
    case = db.session.scalar(select(Case).where(Case.uuid == uuid, visible(user)))
    return case if case is not None else abort(404)


# -- lists -----------------------------------------------------------------------------------


def listing(user, filters: Filters, sort: str = "updated", number: int = 1) -> Page:
    number = max(1, number)
    sort = sort if sort in SORTS else "updated"
    if filters.facet is not None:
        ids, total, capped = _facet_page(user, filters, sort, number)
    else:
        ids, total, capped = _case_page(user, filters, sort, number)
    cases = _load(ids)
    return Page(cases, total, number, capped)


def _order(table, sort: str) -> tuple:
    key = {"updated": table.updated_at, "created": table.created_at,
           "incident": table.last_incident_on, "risk": table.risk}[sort]
    identity = table.id if table is Case else table.case_id
    return key.desc(), identity.desc()


def _case_page(user, filters: Filters, sort: str, number: int) -> tuple[list[int], int, bool]:
    conditions = [visible(user), *_case_conditions(filters)]
    matching = search.matching(filters.words)
    if matching is not None:
        return _search_page(user, conditions, matching, sort, number)
    ids = db.session.scalars(
        select(Case.id).where(*conditions).order_by(*_order(Case, sort))
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    ).all()
    if filters.date_from or filters.date_to:
        total = db.session.scalar(select(func.count()).select_from(Case).where(*conditions))
    else:
        total = _tallied(user, filters)
    return list(ids), total, False


def _search_page(user, conditions, matching, sort, number) -> tuple[list[int], int, bool]:
    """Few hits: counted exactly and sorted as asked. Many: "more than" the cap, newest
    cases first (sorting every hit would cost more than the page is worth)."""
    total = db.session.scalar(select(func.count()).select_from(
        search.hits(matching, conditions).limit(search.COUNT_CAP + 1).subquery()))
    if total > search.COUNT_CAP:
        ordered = search.newest_first(matching, conditions)
    else:
        # At most the cap: take the ids, then sort just those (a planner left to guess how
        # rare a word is may walk the whole table in order instead).
        found = db.session.scalars(search.hits(matching, conditions)).all()
        ordered = select(Case.id).where(Case.id.in_(found)).order_by(*_order(Case, sort))
    ids = db.session.scalars(ordered.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).all()
    return list(ids), min(total, search.COUNT_CAP), total > search.COUNT_CAP


def _facet_page(user, filters: Filters, sort: str, number: int) -> tuple[list[int], int, bool]:
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
    ids = db.session.scalars(
        select(CaseFacet.case_id).where(*conditions).order_by(*_order(CaseFacet, sort))
        .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    ).all()
    counted = select(CaseFacet.case_id).where(*conditions)
    capped = bool(filters.words)
    if capped:
        counted = counted.limit(search.COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(counted.subquery()))
    if capped:
        return list(ids), min(total, search.COUNT_CAP), total > search.COUNT_CAP
    return list(ids), total, False


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
    node = current_app.config["NODE_ID"]
    conditions = [CaseTally.origin == node]
    if filters.status:
        conditions.append(CaseTally.status == filters.status)
    if filters.risk:
        conditions.append(CaseTally.risk == filters.risk)
    tallied = select(func.coalesce(func.sum(CaseTally.count), 0))
    if sees_restricted(user):
        return db.session.scalar(tallied.where(*conditions))
    own_conditions = [Case.assigned_to_id == user.id, Case.restricted.is_(True),
                      Case.origin == node]
    if filters.status:
        own_conditions.append(Case.status == filters.status)
    if filters.risk:
        own_conditions.append(Case.risk == filters.risk)
    open_to_all = tallied.where(*conditions, CaseTally.restricted.is_(False)).scalar_subquery()
    own = select(func.count()).select_from(Case).where(*own_conditions).scalar_subquery()
    return db.session.scalar(select(open_to_all + own))  # one round trip


def _load(ids: list[int]) -> list[Row]:
    """The rows of one page, in the page's order: one narrow query, no case loaded."""
    if not ids:
        return []
    found = db.session.execute(
        select(Case.id, Case.uuid, Case.title, Defender.pseudonym, Case.restricted,
               Case.status, Case.risk, Case.updated_at, Case.last_incident_on,
               Case.violation_codes)
        .outerjoin(Defender, Defender.case_id == Case.id).where(Case.id.in_(ids))
    ).all()
    by_id = {row.id: Row(*row[:-1], tuple(row.violation_codes.split())) for row in found}
    return [by_id[i] for i in ids if i in by_id]


def full_cases(rows: list[Row]) -> dict[int, Case]:
    """The cases behind some rows (to scrub their texts for people who may not see
    identifying values)."""
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
    case.updated_at = now
    if case.created_at is None:
        case.created_at = now
    refresh_derived(case)
    db.session.add(case)
    db.session.flush()
    retally(before, tally_key(case))
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
    """Which tally counts the case: as it is now, or as it was last committed."""
    if committed:
        from sqlalchemy import inspect

        state = inspect(case)
        if not state.persistent:
            return None
        values = []
        for name in ("origin", "restricted", "status", "risk"):
            history = state.attrs[name].history
            values.append(history.deleted[0] if history.deleted else getattr(case, name))
        return tuple(values)
    return case.origin, bool(case.restricted), case.status, case.risk


def retally(before: tuple | None, after: tuple | None) -> None:
    if before == after:
        return
    if before is not None:
        add_to_tally(before, -1)
    if after is not None:
        add_to_tally(after, 1)


def add_to_tally(key: tuple, delta: int) -> None:
    origin, restricted, status, risk = key
    where = (CaseTally.origin == origin, CaseTally.restricted == restricted,
             CaseTally.status == status, CaseTally.risk == risk)
    changed = db.session.execute(
        update(CaseTally).where(*where).values(count=CaseTally.count + delta)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.add(CaseTally(origin=origin, restricted=restricted, status=status, risk=risk,
                                 count=delta))
        db.session.flush()


def recount() -> int:
    """Rebuild the tallies from the cases (``rabita cases recount``); return the total."""
    from sqlalchemy import delete

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
