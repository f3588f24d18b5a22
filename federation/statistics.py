"""A hub's statistics: counts of what members shared, kept as records arrive and leave.

**The store.** One row (a *fact*) per incident of each held record whose consent covers the
``statistics`` purpose (a record without incidents: one fact), with the dimensions below as
codes. Facts are written in the transaction that stores a record (``federation.inbox``
calls :func:`count`) and deleted in the one that purges it — a tombstone, an expired
consent, a revoked key (:func:`forget`, through the ``shared_record_purged`` hook), or a
newer version whose consent no longer covers ``statistics``. :func:`rebuild` recounts from
the held records (``rabita federation rebuild-statistics``) and gives the same rows.
A fact is *public* when the consent also covers the ``public-aggregate`` audience.

**The API for pages** (``federation.views`` and templates, issue 15)::

    filters = Filters(since="2025-01", until="2025-12", country="EG")
    one = table(("violation",), measure="incidents", filters=filters)            # signed-in
    two = table(("country", "violation"), filters=filters, public=True)          # public page
    one.rows, one.columns        # keys in order (columns == [None] for one dimension)
    one.cell(row, column)        # an int, or None when suppressed (never a count below k)
    one.row_total(row), one.column_total(column), one.total
    one.k, one.filters, one.as_of, one.period()
    trend(filters=filters, by=None)  # a month-by-month table (dimensions ("month",) or
                                     # ("month", by)), with every month of the period
    to_csv(one), to_json(one), to_hxl(one)   # text of the exports, same suppression
    labels: DIMENSIONS (name -> label), MEASURES

Every figure a :class:`Table` gives is already suppressed (``federation.suppression``):
pages, charts and exports never see a count below k.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import insert_rows
from core.extensions import db
from core.settings import Setting
from federation import protocol, suppression, takedown
from federation.models import HeldRecord, ReceivedEntry
from federation.protocol import RECORD, TALLY
from federation.settings import is_hub
from federation.suppression import TOTAL

STATISTICS = "statistics"  # the consent purpose that lets a record be counted
PUBLIC = "public-aggregate"  # the consent audience that lets it be counted in public

DIMENSIONS = {
    "country": _l("Country"),
    "governorate": _l("Governorate"),
    "violation": _l("Violation"),
    "perpetrator": _l("Perpetrator type"),
    "activism": _l("Field of activism"),
    "age_band": _l("Age band"),
    "year": _l("Year"),
    "month": _l("Month"),
    "status": _l("Status"),
    "origin": _l("Member node"),
}
MEASURES = {"incidents": _l("Incidents"), "cases": _l("Cases")}
# Dimensions of a case as a whole: the only ones the "cases" measure is counted by.
CASE_DIMENSIONS = ("activism", "age_band", "status", "origin")
HXL = {
    "country": "#country+code", "governorate": "#adm1+code", "violation": "#event+type",
    "perpetrator": "#group+perpetrator+type", "activism": "#sector+activism",
    "age_band": "#affected+age", "year": "#date+year", "month": "#date+month",
    "status": "#status", "origin": "#org+node", "count": "#affected+num",
}

SETTINGS = [
    Setting("FEDERATION_STATISTICS_K", suppression.DEFAULT_K, "the smallest count a hub's "
            "statistics show, export or chart (at least 5: it may only be raised)"),
    Setting("FEDERATION_STATISTICS_PUBLIC_K", suppression.DEFAULT_K, "the smallest count the "
            "public page shows (never below FEDERATION_STATISTICS_K)"),
]
MINIMUM_K = suppression.DEFAULT_K

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}\Z")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])\Z")


class Fact(db.Model):
    """One counted unit (an incident, or a case with none) of a held shared record."""

    __tablename__ = "federation_statistic"
    __table_args__ = (
        Index("ix_federation_statistic_record", "origin", "record_id"),
        # Covers the filters and the usual groupings: a period's facts are read from the
        # index alone (a month is a number, yyyymm: compared without a collation).
        Index("ix_federation_statistic_month", "month", "country", "violation", "perpetrator",
              "origin"),
        # The same for the public facts only (the public page's queries say ``public IS
        # true`` word for word, so both databases take this partial index; migration 0004).
        Index("ix_federation_statistic_public", "month", "country", "violation",
              "perpetrator", "origin", sqlite_where=sql("public IS 1"),
              postgresql_where=sql("public IS true")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    public: Mapped[bool] = mapped_column(Boolean)
    first: Mapped[bool] = mapped_column(Boolean)  # the case's one fact
    country: Mapped[str | None] = mapped_column(String(40))
    governorate: Mapped[str | None] = mapped_column(String(40))
    violation: Mapped[str | None] = mapped_column(String(40))
    perpetrator: Mapped[str | None] = mapped_column(String(40))
    activism: Mapped[str | None] = mapped_column(String(40))
    age_band: Mapped[str | None] = mapped_column(String(40))
    year: Mapped[int | None] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)  # 202503 (shown as "2025-03")
    status: Mapped[str | None] = mapped_column(String(40))


# -- keeping the store ---------------------------------------------------------------------


def counted(consent: dict | None) -> tuple[bool, bool]:
    """(counted, public) for an entry's consent: counted only for ``statistics``."""
    if not consent or STATISTICS not in consent.get("purposes", ()):
        return False, False
    return True, PUBLIC in consent.get("audiences", ())


def facts_of(origin: str, record_id: str, payload: dict, public: bool) -> list[dict]:
    """The facts of one redacted payload (the case shape: ``status``, ``defender``,
    ``incidents``); a value that is not a code is counted as unknown (None)."""
    defender = payload.get("defender") if isinstance(payload.get("defender"), dict) else {}
    activism = defender.get("activism") if isinstance(defender.get("activism"), list) else []
    case = {
        "origin": origin, "record_id": record_id, "public": public,
        "status": _code(payload.get("status")),
        "activism": _code(sorted(a for a in activism if isinstance(a, str))[0]
                          if any(isinstance(a, str) for a in activism) else None),
        "age_band": _code(defender.get("age")),
    }
    incidents = [i for i in payload.get("incidents") or [] if isinstance(i, dict)] \
        if isinstance(payload.get("incidents"), list) else []
    origin, status, activism, age_band = case["origin"], case["status"], case["activism"], \
        case["age_band"]
    facts = []
    for number, incident in enumerate(incidents or [{}]):
        country, governorate, violation, perpetrator, year, month = _incident(incident)
        facts.append({"origin": origin, "record_id": record_id, "public": public,
                      "status": status, "activism": activism, "age_band": age_band,
                      "first": number == 0, "country": country, "governorate": governorate,
                      "violation": violation, "perpetrator": perpetrator, "year": year,
                      "month": month})
    return facts


def _incident(incident: dict) -> tuple:
    """(country, governorate, violation, perpetrator, year, month) of one incident."""
    values = (incident.get("place"), incident.get("occurred_on"), incident.get("violation"),
              incident.get("perpetrator_type"))
    try:
        return _incident_codes(*values)
    except TypeError:  # a value that cannot be hashed (a list, a dict) is not a code
        return _incident_codes(*(v if isinstance(v, str) else None for v in values))


@functools.lru_cache(maxsize=8192)
def _incident_codes(place, occurred_on, violation, perpetrator) -> tuple:
    """The same places, months and codes come again and again: worked out once each."""
    place = _code(place)
    month = occurred_on if isinstance(occurred_on, str) and _MONTH.match(occurred_on) \
        else None
    return (place.split("-")[0] if place else None,
            place if place and "-" in place else None,
            _code(violation), _code(perpetrator),
            int(month[:4]) if month else None,
            int(month[:4] + month[5:]) if month else None)


def _code(value) -> str | None:
    return _checked_code(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=4096)
def _checked_code(value: str) -> str | None:
    """The same few hundred codes come again and again: checked once each."""
    return value if _CODE.match(value) else None


def count(items: Iterable, received: dict, first: Collection[tuple[str, str]] = ()) -> int:
    """Count the records ``federation.inbox.apply`` is storing (``received``: the shared
    records by (origin, record id), newly held), in its transaction; their earlier facts go.
    ``items``: the page's verified items, whose entries carry each record's consent.
    ``first``: those this node never held before, which have no earlier facts (a record's
    facts are only written while it is held; a tally's are under its own id, which no record
    of an honest origin shares)."""
    if not received or not is_hub():
        return 0
    best: dict = {}
    for item in items:
        entry = item.entry
        key = (entry.origin, entry.record_id)
        if entry.kind == RECORD and key in received and \
                entry.version == received[key].version and item.payload is not None:
            rank = (protocol.FEED_RANK[entry.feed], entry.seq)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, entry.consent)
    _delete(key for key in received if key not in first)
    rows = []
    for (origin, record_id), (_, consent) in best.items():
        is_counted, public = counted(consent)
        if is_counted:
            # the payload the shared record parsed (the same text: its hash was checked)
            rows += facts_of(origin, record_id, received[(origin, record_id)].payload, public)
    if rows:
        insert_rows(Fact.__table__, rows)
    return len(rows)


def count_tallies(tallies: dict[tuple[str, str], bytes | None]) -> int:
    """Count the tally entries ``federation.inbox.apply`` received ((origin, tally id) ->
    the checked payload, None for a tally whose consent has expired), in its transaction:
    public facts, their earlier ones gone. A tally is never held: these facts are all the
    hub keeps of it (docs/federation.md)."""
    if not tallies or not is_hub():
        return 0
    _delete(tallies)
    rows = []
    for (origin, tally_id), payload in tallies.items():
        if payload is not None:
            rows += facts_of(origin, tally_id, json.loads(payload), True)
    if rows:
        insert_rows(Fact.__table__, rows)
    return len(rows)


def forget_tally(origin: str, tally_id: str, seq: int) -> None:
    """A tally entry (at ``seq``) signed by a key revoked before it was made: its facts go,
    unless a valid entry of the same tally came after it (the origin signs again what it
    still shares)."""
    valid = db.session.scalar(select(ReceivedEntry.id).where(
        ReceivedEntry.origin == origin, ReceivedEntry.record_id == tally_id,
        ReceivedEntry.kind == TALLY, ReceivedEntry.seq > seq,
        ReceivedEntry.invalid_reason.is_(None)).limit(1))
    if valid is None:
        forget(origin, tally_id)


def forget_expired_tallies(today) -> int:
    """Tallies whose consent ended by ``today`` leave the counts even if their origin is
    silent (held records are ``inbox.purge_expired``'s). Reads every valid tally entry:
    its consent is in the entry only. Returns how many tallies left."""
    newest: dict[tuple[str, str], tuple[int, str]] = {}
    for origin, tally_id, seq, text in db.session.execute(
            select(ReceivedEntry.origin, ReceivedEntry.record_id, ReceivedEntry.seq,
                   ReceivedEntry.entry)
            .where(ReceivedEntry.kind == TALLY, ReceivedEntry.invalid_reason.is_(None))):
        if (origin, tally_id) not in newest or seq > newest[(origin, tally_id)][0]:
            newest[(origin, tally_id)] = (seq, text)
    due = [key for key, (_, text) in newest.items()
           if (json.loads(text)["consent"]["expires"] or "9999") <= today.isoformat()]
    _delete(due)
    return len(due)


def forget(origin: str, record_id: str) -> None:
    """A held record is purged: its facts go, in the purge's transaction."""
    db.session.execute(delete(Fact).where(Fact.origin == origin, Fact.record_id == record_id))


def _delete(keys: Iterable[tuple[str, str]]) -> None:
    by_origin: dict[str, list[str]] = {}
    for origin, record_id in keys:
        by_origin.setdefault(origin, []).append(record_id)
    for origin, record_ids in by_origin.items():  # (origin, record_id IN ...): the index
        for start in range(0, len(record_ids), 500):
            db.session.execute(_FORGET_SOME, {"origin": origin,
                                              "record_ids": record_ids[start:start + 500]})


# Built once: a page's delete only binds its origin and ids (no ORM session to synchronise:
# facts are only ever written with ``insert_rows``).
_FORGET_SOME = delete(Fact.__table__).where(
    Fact.__table__.c.origin == bindparam("origin"),
    Fact.__table__.c.record_id.in_(bindparam("record_ids", expanding=True)))


def rebuild() -> int:
    """Recount every fact from the held records (in the current transaction; the caller
    commits). Returns how many facts. Tallies' facts stay: a tally's payload is not kept,
    so they are their only count (a tombstone or a revoked key takes them)."""
    db.session.execute(delete(Fact).where(Fact.record_id.not_in(
        select(ReceivedEntry.record_id).where(ReceivedEntry.kind == TALLY))))
    rows = []
    query = (
        select(HeldRecord.origin, HeldRecord.record_id, ReceivedEntry.entry,
               ReceivedEntry.payload)
        .join(ReceivedEntry, and_(ReceivedEntry.origin == HeldRecord.origin,
                                  ReceivedEntry.feed == HeldRecord.feed,
                                  ReceivedEntry.seq == HeldRecord.seq))
        .where(HeldRecord.tombstoned_at.is_(None), ReceivedEntry.payload.is_not(None),
               ReceivedEntry.invalid_reason.is_(None))
    )
    total = 0
    for origin, record_id, entry_text, payload in db.session.execute(query):
        is_counted, public = counted(json.loads(entry_text).get("consent"))
        if is_counted:
            rows += facts_of(origin, record_id, json.loads(payload), public)
        if len(rows) >= 1000:
            total += insert_rows(Fact.__table__, rows)
            rows = []
    return total + insert_rows(Fact.__table__, rows)


def facts() -> list[tuple]:
    """Every fact, without its id, in a stable order (tests: rebuild = incremental)."""
    columns = [c for c in Fact.__table__.columns if c.name != "id"]
    return sorted((tuple(row) for row in db.session.execute(select(*columns))),
                  key=lambda row: [(value is None, str(value)) for value in row])


# -- queries -------------------------------------------------------------------------------


def k(public: bool = False) -> int:
    """The smallest count shown: ``FEDERATION_STATISTICS_K`` (never below 5), and for the
    public page at least ``FEDERATION_STATISTICS_PUBLIC_K`` too."""
    config = current_app.config
    chosen = config.get("FEDERATION_STATISTICS_K", MINIMUM_K)
    if public:
        chosen = max(chosen, config.get("FEDERATION_STATISTICS_PUBLIC_K", MINIMUM_K))
    return max(MINIMUM_K, chosen)


@dataclass(frozen=True)
class Filters:
    """What a table counts: months ``since`` .. ``until`` ("YYYY-MM", inclusive) and at most
    one value of each of these dimensions."""

    since: str | None = None
    until: str | None = None
    country: str | None = None
    violation: str | None = None
    perpetrator: str | None = None
    origin: str | None = None

    def __post_init__(self):
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not _MONTH.match(value):
                raise ValueError(f"{name} must be a month as YYYY-MM")
        for name in ("country", "violation", "perpetrator", "origin"):
            value = getattr(self, name)
            if value is not None and not _CODE.match(value):
                raise ValueError(f"{name} must be a code")

    def conditions(self) -> list:
        found = []
        if self.since:
            found.append(Fact.month >= _number(self.since))
        if self.until:
            found.append(Fact.month <= _number(self.until))
        for name in ("country", "violation", "perpetrator", "origin"):
            if getattr(self, name) is not None:
                found.append(getattr(Fact, name) == getattr(self, name))
        return found

    def given(self) -> dict:
        """The filters set, by name (for an export's heading)."""
        return {name: value for name, value in asdict(self).items() if value is not None}


@dataclass
class Table:
    """A suppressed table: rows (and columns) of dimension values, their counts and totals.
    A key None is "unknown" (the value was not given or not a code)."""

    dimensions: tuple[str, ...]
    measure: str
    filters: Filters
    k: int
    public: bool
    as_of: datetime
    rows: list = field(default_factory=list)
    columns: list = field(default_factory=lambda: [None])
    _shown: dict = field(default_factory=dict)

    def cell(self, row, column=None):
        """The count, or None when it is suppressed."""
        return self._shown.get((row, column))

    def row_total(self, row):
        return self._shown.get((row, TOTAL))

    def column_total(self, column):
        return self._shown.get((TOTAL, column))

    @property
    def total(self):
        return self._shown.get((TOTAL, TOTAL))

    def period(self) -> tuple[str | None, str | None]:
        return self.filters.since, self.filters.until

    def suppressed(self) -> int:
        """How many figures are hidden."""
        return sum(1 for value in self._shown.values() if value is None)


def table(dimensions: tuple[str, ...], *, measure: str = "incidents",
          filters: Filters | None = None, public: bool = False) -> Table:
    """A table of one or two dimensions, suppressed with this hub's k (the public k when
    ``public``: then only facts whose consent covers ``public-aggregate`` are counted)."""
    dimensions = tuple(dimensions)
    if not 1 <= len(dimensions) <= 2 or any(d not in DIMENSIONS for d in dimensions) or \
            len(set(dimensions)) != len(dimensions):
        raise ValueError("choose one or two different dimensions")
    if measure not in MEASURES:
        raise ValueError("unknown measure")
    if measure == "cases" and any(d not in CASE_DIMENSIONS for d in dimensions):
        raise ValueError("cases are counted only by " + ", ".join(CASE_DIMENSIONS))
    filters = filters or Filters()
    by_month = _counts(dimensions, measure, filters, public)
    counts: dict = {}
    for cells in by_month.values():
        for key, value in cells.items():
            counts[key] = counts.get(key, 0) + value
    result = Table(dimensions, measure, filters, k(public), public, clock.now())
    if len(dimensions) == 1:
        result.rows = _ordered({row for row, in counts})
        cells = {row: counts.get((row,), 0) for row in result.rows}
        # decided month by month, so that periods cannot be differenced (suppression.py)
        hidden = suppression.protect_months_1d(
            {month: {row: value for (row,), value in month_cells.items()}
             for month, month_cells in by_month.items()}, result.k)
        figures = {(row, None): value for row, value in cells.items()}
        figures[(TOTAL, None)] = figures[(TOTAL, TOTAL)] = sum(cells.values())
        for row in result.rows:
            figures[(row, TOTAL)] = cells[row]
        hidden = {(key, None) for key in hidden} | {(key, TOTAL) for key in hidden} | (
            {(TOTAL, TOTAL)} if TOTAL in hidden else set())
    else:
        result.rows = _ordered({row for row, _ in counts})
        result.columns = _ordered({column for _, column in counts})
        hidden = suppression.protect_months_2d(by_month, result.k)
        figures = suppression._extended(counts, result.rows, result.columns)
    result._shown = {key: None if key in hidden else value for key, value in figures.items()}
    return result


def trend(*, filters: Filters | None = None, by: str | None = None,
          public: bool = False) -> Table:
    """Incidents month by month (optionally by one more dimension), every month of the
    period present (an empty month shows 0)."""
    result = table(("month",) if by is None else ("month", by), filters=filters,
                   public=public)
    months = [m for m in result.rows if m is not None]
    if months:
        start = (result.filters.since or months[0])
        end = (result.filters.until or months[-1])
        every = _months(start, end)
        for month in every:
            if month not in result.rows:
                for column in result.columns:
                    result._shown[(month, column)] = 0
                result._shown[(month, TOTAL)] = 0
        result.rows = every + ([None] if None in result.rows else [])
    return result


def _months(start: str, end: str) -> list[str]:
    year, month = int(start[:4]), int(start[5:])
    found = []
    while f"{year:04d}-{month:02d}" <= end:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _counts(dimensions, measure, filters: Filters, public: bool) -> dict:
    """The counts month by month: {yyyymm (None: unknown) -> {dimension values -> count}}."""
    columns = [getattr(Fact, d) for d in dimensions]
    conditions = filters.conditions()
    held = takedown.held()
    if held:  # a member's feed the hub withholds counts nowhere while the hold lasts
        conditions.append(Fact.origin.not_in(sorted(held)))
    if public:
        conditions.append(Fact.public.is_(True))
    if measure == "cases":
        conditions.append(Fact.first.is_(True))
    query = select(Fact.month, *columns, func.count()).where(*conditions) \
        .group_by(Fact.month, *columns)
    months = [d == "month" for d in dimensions]
    found: dict = {}
    for row in db.session.execute(query):
        key = tuple(_month_text(value) if is_month else value
                    for value, is_month in zip(row[1:-1], months, strict=True))
        found.setdefault(row[0], {})[key] = row[-1]
    return found


def _number(month: str) -> int:
    return int(month[:4] + month[5:])


def _month_text(number: int | None) -> str | None:
    return None if number is None else f"{number // 100:04d}-{number % 100:02d}"


def _ordered(keys: set) -> list:
    return sorted(keys, key=lambda key: (key is None, str(key)))


# -- exports -------------------------------------------------------------------------------


def heading(result: Table) -> dict:
    """What an export says about itself: period, filters, k, the moment of the data."""
    since, until = result.period()
    return {"measure": result.measure, "dimensions": list(result.dimensions),
            "period": {"since": since, "until": until}, "filters": result.filters.given(),
            "k": result.k, "public": result.public, "as_of": protocol.at_text(result.as_of),
            "suppressed": "counts below k, and those that would reveal them, are empty"}


def _lines(result: Table) -> list[dict]:
    """One line per figure: the dimension values (TOTAL as "total"), the count (None when
    suppressed)."""
    lines = []
    two = len(result.dimensions) == 2
    for row in result.rows + [TOTAL]:
        for column in (result.columns + [TOTAL]) if two else [None]:
            value = result._shown.get((row, column if two else None))
            line = {result.dimensions[0]: _shown_key(row)}
            if two:
                line[result.dimensions[1]] = _shown_key(column)
            line["count"] = value
            lines.append(line)
    return lines


def _shown_key(key):
    return "total" if key == TOTAL else ("" if key is None else key)


def to_json(result: Table) -> str:
    return json.dumps({**heading(result), "figures": _lines(result)}, ensure_ascii=False,
                      indent=1)


def to_csv(result: Table) -> str:
    """CSV: ``# name: value`` heading lines, then the header and one line per figure."""
    return _csv(result, hxl=False)


def to_hxl(result: Table) -> str:
    """HXL-tagged CSV: heading lines, the header, the hashtag row, then the figures."""
    return _csv(result, hxl=True)


def _csv(result: Table, *, hxl: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, value in heading(result).items():
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) \
            else value
        out.write(f"# {name}: {text}\n")  # a comment line (``comment="#"`` skips them)
    names = list(result.dimensions) + ["count"]
    writer.writerow(names)
    if hxl:
        writer.writerow([HXL[name] for name in names])
    for line in _lines(result):
        writer.writerow(["" if line[name] is None else line[name] for name in names])
    return out.getvalue()
