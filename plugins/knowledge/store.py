"""Writing resources and testimonies: every check first (type, language, title, tags, the
translation link, an attached file), then one transaction that keeps the earlier version
(sealed), the record, its file, its catalogue entry and its search index together — so bad
input changes nothing, and what a reader finds is what was saved.

Who may read what: every member reads resources; testimonies (about a person) only those
who may read them (``knowledge.testimonies``). ``kinds_for(user)`` says which kinds she may
find, and every list and search passes it on.
"""

from __future__ import annotations

import json
import uuid as uuid_module
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, clock, records
from core.extensions import db
from core.models import RecordWriter

from . import attachments, catalogue
from .forms import MAX_TAG, MAX_TAGS, split_lines, split_tags
from .models import (
    KINDS,
    LANGUAGES,
    LICENCES,
    REACHES,
    RESOURCE_KINDS,
    TESTIMONY_KINDS,
    Entry,
    KnowledgeTestimony,
    Resource,
    Version,
)
from .permissions import TESTIMONIES


class KnowledgeError(ValueError):
    """The resource cannot be kept as asked; the message says why."""


def model_for(kind: str):
    return KnowledgeTestimony if kind in TESTIMONY_KINDS else Resource


def kinds_for(user) -> tuple[str, ...]:
    """The kinds ``user`` may find and open."""
    return KINDS if user.can(TESTIMONIES) else RESOURCE_KINDS


def may_read_type(record_type: str, user) -> bool:
    return record_type != KnowledgeTestimony.__record_type__ or user.can(TESTIMONIES)


def write(record, data: dict, user, *, upload=None):
    """A new resource or testimony (``record`` None: its model follows ``data['kind']``) or a
    new version of one, from the form's ``data``; ``upload`` an optional file to attach.
    Everything is checked before anything changes; then one save commits the earlier version,
    the record, the file, the catalogue entry and the search index together."""
    checked = _checked(record, data, user)
    group = _translation_group(record, data, checked["kind"], checked["language"], user)
    file = attachments.checked(upload) if upload is not None and upload.filename else None
    fresh = record is None
    if fresh:
        record = records.new(model_for(checked["kind"]), user)
        record.translation_group = group or record.uuid
    else:
        _keep_version(record, user)
        if group:
            record.translation_group = group
    for name in ("kind", "language", "title", "summary", "body", "tags", "licence",
                 "published_on", "audience", "byline"):
        setattr(record, name, checked[name])
    records.set_identifying(record, record, "authors", checked["authors"] or None)
    if isinstance(record, KnowledgeTestimony):
        records.set_identifying(record, record, "narrator", checked["narrator"] or None)
        records.set_identifying(record, record, "contact", checked["contact"] or None)
    if file is not None:
        attachments.attach(record, file, user)
    db.session.add(record)
    record.updated_at = clock.now()
    records.seal_texts(record)  # the testimony's columns now hold the scrubbed form
    catalogue.keep_local(record)
    records.save(record, user, at=record.updated_at,
                 action="knowledge.saved" if not fresh else "knowledge.created")
    return record


def delete(record, user) -> None:
    """Delete a record of this node with its files, versions, entry and index (one commit)."""
    catalogue.drop(record.origin, record.uuid)
    for model in (attachments.KnowledgeFile, Version):
        for row in db.session.scalars(select(model).where(
                model.record_type == record.__record_type__, model.record_uuid == record.uuid)):
            db.session.delete(row)
    audit.record("knowledge.deleted", actor=user, target_type=record.__record_type__,
                 target_id=record.uuid)
    db.session.delete(record)
    db.session.commit()


# -- checks ---------------------------------------------------------------------------------


def _checked(record, data: dict, user) -> dict:
    kind = data.get("kind")
    if kind not in KINDS:
        raise KnowledgeError(_l("Choose a type from the list."))
    if record is not None and model_for(kind) is not type(record):
        raise KnowledgeError(_l("A testimony stays a testimony, and a resource a resource: "
                                "write a new one to change that."))
    if model_for(kind) is KnowledgeTestimony and not user.can(TESTIMONIES):
        raise KnowledgeError(_l("Only people who may read testimonies may write them."))
    if data.get("language") not in LANGUAGES:
        raise KnowledgeError(_l("Choose the language it is written in: Arabic, French or "
                                "English."))
    title = " ".join((data.get("title") or "").split())
    if not title:
        raise KnowledgeError(_l("A resource needs a title."))
    if len(title) > 300:
        raise KnowledgeError(_l("A title is at most %(n)d characters long.", n=300))
    if data.get("audience") not in REACHES:
        raise KnowledgeError(_l("Choose an audience from the list."))
    if data.get("licence") not in LICENCES:
        raise KnowledgeError(_l("Choose a licence from the list."))
    tags = split_tags(data.get("tags")) if isinstance(data.get("tags"), str | None) \
        else list(data["tags"])
    if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG for tag in tags):
        raise KnowledgeError(_l("At most %(n)d tags, each at most %(m)d characters long.",
                                n=MAX_TAGS, m=MAX_TAG))
    published_on = data.get("published_on")
    if published_on is not None and not isinstance(published_on, date):
        raise KnowledgeError(_l("Not a valid date."))
    return {"kind": kind, "language": data["language"], "title": title,
            "summary": (data.get("summary") or "").strip(),
            "body": (data.get("body") or "").replace("\r\n", "\n"),
            "tags": tags, "licence": data["licence"], "published_on": published_on,
            "audience": data["audience"],
            "byline": " ".join((data.get("byline") or "").split())[:200],
            "authors": split_lines(data.get("authors")) if isinstance(
                data.get("authors"), str | None) else list(data["authors"]),
            "narrator": " ".join((data.get("narrator") or "").split()),
            "contact": " ".join((data.get("contact") or "").split())}


def _translation_group(record, data: dict, kind: str, language: str, user) -> str | None:
    """The translation group ``data['translation_of']`` names (an entry she may read, of the
    same type, in another language), or None when it names none."""
    wanted = (data.get("translation_of") or "").strip()
    if not wanted:
        return None
    if record is not None and wanted == record.uuid:
        raise KnowledgeError(_l("A resource cannot be a translation of itself."))
    other = readable_entry(wanted, user)
    if other is None:
        raise KnowledgeError(_l("There is no resource with this id that you may read."))
    if other.kind != kind:
        raise KnowledgeError(_l("A translation must be of the same type as what it "
                                "translates (%(kind)s).", kind=other.kind))
    if record is not None and other.translation_group == record.translation_group:
        return None  # already linked
    if other.language == language:
        raise KnowledgeError(_l("A translation is in another language than what it "
                                "translates."))
    return other.translation_group


def readable_entry(record_uuid: str, user) -> Entry | None:
    try:
        uuid_module.UUID(record_uuid)
    except ValueError:
        return None
    entry = db.session.scalar(select(Entry).where(Entry.record_uuid == record_uuid)
                              .order_by(Entry.local.desc()).limit(1))
    if entry is None or entry.kind not in kinds_for(user):
        return None
    return entry


# -- versions -------------------------------------------------------------------------------


def _keep_version(record, user) -> None:
    """Keep the version about to be replaced, as written (sealed under its data key)."""
    written = records.values(record, identifying=True)
    snapshot = Version(record_type=record.__record_type__, record_uuid=record.uuid,
                       version=record.version, saved_at=record.updated_at or clock.now(),
                       saved_by=db.session.scalar(select(RecordWriter.writer_id).where(
                           RecordWriter.record_type == record.__record_type__,
                           RecordWriter.record_uuid == record.uuid,
                           RecordWriter.version == record.version).limit(1)))
    records.set_identifying_bytes(
        record, snapshot, "snapshot",
        json.dumps(written, ensure_ascii=False, default=str).encode())
    db.session.add(snapshot)


def versions_of(record) -> list[Version]:
    return list(db.session.scalars(select(Version).where(
        Version.record_type == record.__record_type__, Version.record_uuid == record.uuid)
        .order_by(Version.version.desc())))


def version_values(record, version: Version) -> dict:
    """An earlier version as written (no permission check: callers check and audit)."""
    return json.loads(records.identifying_bytes(record, version, "snapshot"))
