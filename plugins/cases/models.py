"""The cases plugin's tables, after the HURIDOCS events formats, shaped for defenders.

A *case* is a file on a defender under threat; its *defender* (the victim), *incidents* (acts,
each with one violation type and perpetrator type) and *interventions* (support given) are
parts of the one record ``cases.case``. Tasks and attachments belong to the case but are not
part of the shared record: they never leave the node. Every identifying value sits in a
sealed column. Open texts (title, summary, pseudonym, narratives) are sealed as written in
``<field>_original``; their own columns hold their scrubbed form (core.records). ``cases_facet``
and the full-text index are derived from open fields only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock, references
from core.columns import UTCDateTime
from core.extensions import db
from core.migrating import declare_unmodelled_tables
from core.records import (
    RecordMixin,
    RecordPartMixin,
    blind_index_column,
    original_column,
    sealed_column,
)

# The full-text index is made by DDL (FTS5 on SQLite, tsvector on PostgreSQL), which search.py
# also hangs on this table's creation for tests and `create_all`.
declare_unmodelled_tables("cases_search")

STATUSES = ("open", "monitoring", "closed")
RISKS = ("low", "medium", "high", "critical")
GENDERS = ("woman", "man", "non-binary", "undisclosed")
INTERVENTION_KINDS = (
    "legal-aid", "medical", "psychosocial", "relocation", "urgent-appeal", "digital-security",
    "advocacy",
)
INTERVENTION_STATUSES = ("planned", "ongoing", "done", "cancelled")
RELIABILITY = ("confirmed", "reliable", "unverified", "doubtful")
REFERENCE_PREFIX = "C"


class Case(RecordMixin, db.Model):
    __tablename__ = "cases_case"
    __record_type__ = "cases.case"
    # Lists walk these in order without touching the table (who may see a case included).
    __table_args__ = (
        Index("ix_cases_case_listing", "origin", "updated_at", "id", "restricted",
              "assigned_to_id"),
        Index("ix_cases_case_status_listing", "status", "updated_at", "id", "origin",
              "restricted", "assigned_to_id"),
        Index("ix_cases_case_risk_listing", "risk", "updated_at", "id", "origin", "restricted",
              "assigned_to_id"),
        Index("ix_cases_case_assigned_listing", "assigned_to_id", "restricted", "origin",
              "status", "risk"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What people call it (core.references): random, so it tells nothing of the others.
    reference_code: Mapped[str] = mapped_column(String(8), unique=True, index=True)
    # Scrubbed forms: what lists, search and people without the permission read.
    title: Mapped[str] = mapped_column(String(200))
    title_original = original_column()
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_original = original_column()
    # active_history: a change keeps the value it replaces, for the tallies (store.save).
    status: Mapped[str] = mapped_column(String(20), default="open", active_history=True)
    risk: Mapped[str] = mapped_column(String(20), default="medium", active_history=True)
    # Need to know: only the assigned documenter, reviewers and admins see a restricted case.
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, active_history=True)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), index=True
    )
    # Derived from the incidents, for date filters and the list.
    first_incident_on: Mapped[date | None] = mapped_column(Date)
    last_incident_on: Mapped[date | None] = mapped_column(Date)
    # Its violation codes, space-separated: the list shows them without another query.
    violation_codes: Mapped[str] = mapped_column(String(400), default="")

    defender: Mapped[Defender] = relationship(
        back_populates="case", cascade="all, delete-orphan", uselist=False
    )
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="case", cascade="all, delete-orphan",
        order_by="(Incident.occurred_on, Incident.id)",
    )
    interventions: Mapped[list[Intervention]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Intervention.id"
    )
    tasks: Mapped[list[Task]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="(Task.done_at, Task.due_on)"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Attachment.id"
    )
    facets: Mapped[list[CaseFacet]] = relationship(cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        """A short, stable label for people: ``C-7K3M-9XQ2`` (random, see core.references)."""
        return references.shown(REFERENCE_PREFIX, self.reference_code)


class Defender(RecordPartMixin, db.Model):
    __tablename__ = "cases_defender"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases_case.id", ondelete="CASCADE"), unique=True
    )
    pseudonym: Mapped[str] = mapped_column(String(100), default="")
    pseudonym_original = original_column()
    gender: Mapped[str | None] = mapped_column(String(20))
    age: Mapped[int | None] = mapped_column(Integer)
    activism: Mapped[list] = mapped_column(JSON, default=list)
    residence: Mapped[str | None] = mapped_column(String(40))  # a gazetteer code
    real_name = sealed_column()
    real_name_index: Mapped[str | None] = blind_index_column()
    contacts = sealed_column()
    address = sealed_column()
    organisation = sealed_column()

    case: Mapped[Case] = relationship(back_populates="defender")


class Incident(RecordPartMixin, db.Model):
    """One act: a violation of one type, by one type of perpetrator, on a date, at a place."""

    __tablename__ = "cases_incident"
    __table_args__ = (Index("ix_cases_incident_occurred_on_case_id", "occurred_on", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id", ondelete="CASCADE"),
                                         index=True)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(40))  # a gazetteer code
    violation: Mapped[str] = mapped_column(String(40))
    perpetrator_type: Mapped[str | None] = mapped_column(String(40))
    narrative: Mapped[str] = mapped_column(Text, default="")
    narrative_original = original_column()
    legal_basis: Mapped[list | None] = mapped_column(JSON, default=list)  # core.laws codes
    place_detail = sealed_column()
    perpetrator_identity = sealed_column()
    sources = sealed_column()
    source_reliability = sealed_column()

    case: Mapped[Case] = relationship(back_populates="incidents")


class Intervention(RecordPartMixin, db.Model):
    """Support given: legal aid, medical, psychosocial, relocation, urgent appeal…"""

    __tablename__ = "cases_intervention"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    notes = sealed_column()

    case: Mapped[Case] = relationship(back_populates="interventions")


class Task(RecordPartMixin, db.Model):
    """A follow-up task: never part of the shared record; its words are sealed."""

    __tablename__ = "cases_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id", ondelete="CASCADE"),
                                         index=True)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    description = sealed_column()

    case: Mapped[Case] = relationship(back_populates="tasks")


class Attachment(RecordPartMixin, db.Model):
    """A file: its name and bytes are sealed; never federated."""

    __tablename__ = "cases_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id", ondelete="CASCADE"),
                                         index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    filename = sealed_column()
    content = sealed_column(deferred=True)

    case: Mapped[Case] = relationship(back_populates="attachments")


class CaseFacet(db.Model):
    """What a case is filtered by (violation types, governorates), one row per value — with
    copies of the case's list columns, so a filtered list is one range of one index."""

    __tablename__ = "cases_facet"
    # Covering: a filtered list and its total never leave the index.
    __table_args__ = (
        Index("ix_cases_facet_listing", "kind", "value", "updated_at", "case_id", "origin",
              "restricted", "assigned_to_id"),
        Index("ix_cases_facet_status_listing", "kind", "value", "status", "updated_at",
              "case_id", "origin", "restricted", "assigned_to_id"),
        Index("ix_cases_facet_risk_listing", "kind", "value", "risk", "updated_at", "case_id",
              "origin", "restricted", "assigned_to_id"),
    )

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases_case.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    origin: Mapped[str] = mapped_column(String(64))
    restricted: Mapped[bool] = mapped_column(Boolean)
    assigned_to_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    risk: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_incident_on: Mapped[date | None] = mapped_column(Date)


# The columns a facet row copies from its case.
FACET_COPIES = ("origin", "restricted", "assigned_to_id", "status", "risk", "updated_at",
                "created_at", "last_incident_on")


class CaseTally(db.Model):
    """How many cases there are of each kind: the total of an unfiltered (or status or
    risk) list without counting 100,000 rows. Kept in step by store.save; see
    ``rabita cases recount``."""

    __tablename__ = "cases_tally"

    origin: Mapped[str] = mapped_column(String(64), primary_key=True)
    restricted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    risk: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CaseFacetTally(db.Model):
    """How many cases there are of each kind with each facet (a violation type, a
    governorate): the total of a list filtered by one facet without counting its rows. Kept
    in step by store.save from the facet rows; see ``rabita cases recount``."""

    __tablename__ = "cases_facet_tally"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    origin: Mapped[str] = mapped_column(String(64), primary_key=True)
    restricted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    risk: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class NameWord(db.Model):
    """One word of a defender's real name as a keyed hash (``plugins.cases.names``): she is
    found by part of her name ("Ben Ali") without the name being kept or compared in clear."""

    __tablename__ = "cases_name_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    defender_id: Mapped[int] = mapped_column(
        ForeignKey("cases_defender.id", ondelete="CASCADE"), index=True)
    word_index: Mapped[str] = mapped_column(String(64), index=True)
