"""Knowledge's tables (each named ``knowledge_...``).

Two record types: ``knowledge.resource`` (a guide, report, toolkit... — about no person; its
texts are kept in clear, a public guide being meant to be read) and ``knowledge.testimony``
(a testimony or shared experience — it has a data subject: consent and review, its texts
sealed at rest, its narrator and contact sealed and never shared). Beside them: their files,
their earlier versions (sealed), and the catalogue (``knowledge_entry``): one row per item a
reader may find — this node's resources and testimonies (texts as lists may show them: clear
or scrubbed) and the resources other nodes shared with this one (their redacted payloads).
Browse, filters, tag pages and search work on the catalogue alone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.columns import UTCDateTime
from core.extensions import db
from core.records import RecordMixin, RecordPartMixin, original_column, sealed_column

# Who a resource is for, and the federation audiences each choice lets it reach.
NODE, COALITION, PUBLIC = "node", "coalition", "public"
REACHES = {NODE: (), COALITION: ("peers", "hub"), PUBLIC: ("peers", "hub")}
LANGUAGES = ("ar", "fr", "en")
# Kinds kept as a ``knowledge.resource``; those about a person are ``knowledge.testimony``.
RESOURCE_KINDS = ("guide", "report", "toolkit", "training", "legal_analysis", "statement",
                  "safety_advice")
TESTIMONY_KINDS = ("testimony", "experience")
KINDS = RESOURCE_KINDS + TESTIMONY_KINDS
LICENCES = ("cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc0-1.0",
            "all-rights-reserved")


class _Fields:
    """The columns a resource and a testimony share."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    language: Mapped[str] = mapped_column(String(2))
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, as written
    tags: Mapped[list] = mapped_column(JSON, default=list)
    licence: Mapped[str] = mapped_column(String(24), default="cc-by-4.0")
    published_on: Mapped[date | None] = mapped_column(Date)
    audience: Mapped[str] = mapped_column(String(12), default=NODE)
    # What its authors chose to be credited as, publicly ("" = anonymous).
    byline: Mapped[str] = mapped_column(String(200), default="")
    # Translations of one another share it (a new resource starts a group of its own).
    translation_group: Mapped[str] = mapped_column(String(36), index=True)
    authors = sealed_column()  # identifying: who wrote it, ciphertext only

    def chosen_audiences(self) -> tuple[str, ...]:
        """Where its author's chosen audience lets it go (core.consent.authors_choice)."""
        return REACHES.get(self.audience, ())


class Resource(_Fields, RecordMixin, db.Model):
    """A guide, report, toolkit, training material, legal analysis, statement or safety
    advice: about no person, so its author's audience says where it may go."""

    __tablename__ = "knowledge_resource"
    __record_type__ = "knowledge.resource"


class KnowledgeTestimony(_Fields, RecordMixin, db.Model):
    """A testimony or shared experience: about a person (consent, review); its texts are
    sealed at rest (their columns keep the scrubbed form), its narrator and contact sealed."""

    __tablename__ = "knowledge_testimony"
    __record_type__ = "knowledge.testimony"

    title_original = original_column()
    summary_original = original_column()
    body_original = original_column()
    tags_original = original_column()
    narrator = sealed_column()
    contact = sealed_column()


class KnowledgeFile(RecordPartMixin, db.Model):
    """A file of a resource or testimony (PDF or image, checked by its bytes): its name and
    bytes sealed under the record's data key; never federated."""

    __tablename__ = "knowledge_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_uuid: Mapped[str] = mapped_column(String(36), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    filename = sealed_column()
    content = sealed_column()
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Version(RecordPartMixin, db.Model):
    """An earlier version of a resource or testimony, as it was written before an edit:
    sealed under the record's data key (``snapshot``, JSON of its fields)."""

    __tablename__ = "knowledge_version"
    __table_args__ = (UniqueConstraint("record_type", "record_uuid", "version",
                                       name="uq_knowledge_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_uuid: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    snapshot = sealed_column()


class Entry(db.Model):
    """One item of the catalogue: a resource or testimony of this node (``local``), or one
    another node shared with this one. Its texts are what lists may show: a resource's as
    written, a testimony's scrubbed, a shared one's redacted payload. Search indexes it."""

    __tablename__ = "knowledge_entry"
    __table_args__ = (UniqueConstraint("origin", "record_uuid", name="uq_knowledge_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(64))
    local: Mapped[bool] = mapped_column(Boolean, index=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_uuid: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    language: Mapped[str] = mapped_column(String(2), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String(12), index=True)
    byline: Mapped[str] = mapped_column(String(200), default="")
    licence: Mapped[str] = mapped_column(String(24), default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    translation_group: Mapped[str] = mapped_column(String(36), index=True)

    tag_rows: Mapped[list[EntryTag]] = relationship(cascade="all, delete-orphan",
                                                    passive_deletes=True)


class EntryTag(db.Model):
    """A tag of a catalogue entry, folded (``core.text.fold``), for tag pages and filters."""

    __tablename__ = "knowledge_entry_tag"
    __table_args__ = (UniqueConstraint("entry_id", "tag", name="uq_knowledge_entry_tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entry.id", ondelete="CASCADE"),
                                          index=True)
    tag: Mapped[str] = mapped_column(String(60), index=True)
