"""The catalogue (``knowledge_entry``): one row per item a reader may find, kept in step with
what it comes from in the same transaction — a resource or testimony of this node when it is
saved (its texts as lists may show them: a resource's as written, a testimony's scrubbed),
a resource another node shared when its payload arrives (the redacted payload; a payload
that is not a well-formed resource is left out) — and its search index with it
(``search.index_entry`` / ``search.remove_entry``). A purged shared copy leaves the
catalogue and the index in the purge's transaction.
"""

from __future__ import annotations

import re
from datetime import date

from flask import current_app
from sqlalchemy import delete, select

from core import clock
from core.extensions import db
from core.text import fold

from . import search
from .models import (
    KINDS,
    LANGUAGES,
    LICENCES,
    REACHES,
    RESOURCE_KINDS,
    TESTIMONY_KINDS,
    Entry,
    EntryTag,
    KnowledgeTestimony,
    Resource,
)

RECORD_TYPES = {Resource.__record_type__: RESOURCE_KINDS,
                KnowledgeTestimony.__record_type__: TESTIMONY_KINDS}
FIELDS = ("kind", "language", "title", "summary", "body", "tags", "audience", "byline",
          "licence", "published_on", "translation_group")


def node_origin() -> str:
    return current_app.config.get("NODE_ID", "local")


def entry_of(origin: str, record_uuid: str) -> Entry | None:
    return db.session.scalar(select(Entry).where(Entry.origin == origin,
                                                 Entry.record_uuid == record_uuid))


def local_entry(record) -> Entry | None:
    return entry_of(record.origin, record.uuid)


def keep_local(record) -> Entry:
    """Write the entry of a record of this node from its texts as lists show them (call after
    ``records.seal_texts``: a testimony's columns then hold the scrubbed form), and index it;
    the caller's save commits both."""
    values = {name: getattr(record, name) for name in FIELDS}
    return _keep(record.origin, True, record.__record_type__, record.uuid, values,
                 record.updated_at or clock.now())


def saved(record) -> None:
    """After any save of a record of this node (committed): its entry and index follow, for
    the saves core makes without the store (``rabita records upgrade``, sealing texts). The
    store's own saves already wrote them in the save's transaction: nothing then changes."""
    if record.__record_type__ not in RECORD_TYPES:
        return
    if record.kind not in RECORD_TYPES[record.__record_type__] or \
            record.language not in LANGUAGES:  # written without the store's checks
        drop(record.origin, record.uuid)
        db.session.commit()
        return
    entry = local_entry(record)
    values = {name: getattr(record, name) for name in FIELDS}
    if entry is not None and all(getattr(entry, name) == value
                                 for name, value in values.items()):
        return
    keep_local(record)
    db.session.commit()


def received(shared) -> None:
    """A resource or testimony another node shared (in the transaction storing it)."""
    if shared.record_type not in RECORD_TYPES:
        return
    values = _values_from(shared.record_type, shared.payload)
    if values is None:
        purged(shared)
        return
    _keep(shared.origin, False, shared.record_type, shared.record_id, values, clock.now())


def purged(shared) -> None:
    """A shared copy purged (tombstone, consent ended, key revoked): out of the catalogue
    and the index in the same transaction."""
    if shared.record_type in RECORD_TYPES:
        drop(shared.origin, shared.record_id)


def drop(origin: str, record_uuid: str) -> None:
    entry = entry_of(origin, record_uuid)
    if entry is None:
        return
    search.remove_entry(entry)
    db.session.execute(delete(EntryTag).where(EntryTag.entry_id == entry.id))
    db.session.delete(entry)
    db.session.flush()


def folded_tag(tag: str) -> str:
    """A tag as it is stored and looked up: folded, its spaces one, no control character (a
    NUL byte from an address would even stop PostgreSQL's query)."""
    return " ".join("".join(c for c in fold(tag) if c.isprintable()).split())[:60]


def _keep(origin: str, local: bool, record_type: str, record_uuid: str, values: dict,
          updated_at) -> Entry:
    entry = entry_of(origin, record_uuid)
    if entry is None:
        entry = Entry(origin=origin, record_uuid=record_uuid)
        db.session.add(entry)
    entry.local, entry.record_type, entry.updated_at = local, record_type, updated_at
    for name, value in values.items():
        setattr(entry, name, value)
    entry.tags = list(values["tags"] or [])
    wanted = {folded_tag(tag) for tag in entry.tags} - {""}
    entry.tag_rows = [row for row in entry.tag_rows if row.tag in wanted] + [
        EntryTag(tag=tag) for tag in sorted(wanted - {row.tag for row in entry.tag_rows})]
    db.session.flush()
    search.index_entry(entry)
    return entry


def _values_from(record_type: str, payload: dict | None) -> dict | None:
    """The catalogue's values from a shared payload, or None if it is not a well-formed
    resource of its type (an unknown code, a missing text)."""
    if not isinstance(payload, dict):
        return None
    kind, language = payload.get("kind"), payload.get("language")
    if kind not in RECORD_TYPES[record_type] or kind not in KINDS or language not in LANGUAGES \
            or payload.get("audience") not in REACHES:
        return None
    texts = {name: payload.get(name) or "" for name in ("title", "summary", "body", "byline")}
    if not all(isinstance(value, str) for value in texts.values()) or not texts["title"]:
        return None
    tags = payload.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        return None
    try:
        published_on = date.fromisoformat(payload["published_on"]) \
            if payload.get("published_on") else None
    except (TypeError, ValueError):
        published_on = None
    group = payload.get("translation_group")
    return {"kind": kind, "language": language, "title": texts["title"][:300],
            "summary": texts["summary"], "body": texts["body"],
            "byline": texts["byline"][:200], "tags": [tag[:60] for tag in tags[:12]],
            "audience": payload["audience"],
            "licence": payload.get("licence") if payload.get("licence") in LICENCES else "",
            "published_on": published_on,
            "translation_group": group if isinstance(group, str) and len(group) <= 36
            else ""}


# -- what other pages show ------------------------------------------------------------------


NEW_IN_COALITION = 6
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_PUBLIC_LINES = 40


def new_in_coalition(kinds, limit: int = NEW_IN_COALITION) -> list[Entry]:
    """The newest of what the coalition reads: resources partner nodes shared with this one,
    and this node's own meant for the coalition or the public."""
    return list(db.session.scalars(
        select(Entry).where(Entry.kind.in_(list(kinds)),
                            (Entry.local.is_(False)) | (Entry.audience != "node"))
        .order_by(Entry.updated_at.desc(), Entry.id.desc()).limit(limit)))


def _public():
    return select(Entry).where(Entry.local.is_(False), Entry.audience == "public",
                               Entry.kind.in_(list(RESOURCE_KINDS)))


def public_entries(limit: int = MAX_PUBLIC_LINES) -> list[Entry]:
    """For a hub's public page and the public library: resources partner nodes shared that
    their authors made public (review approved them before they left); never a testimony."""
    return list(db.session.scalars(
        _public().order_by(Entry.updated_at.desc(), Entry.id.desc()).limit(limit)))


def public_entry(record_uuid: str) -> Entry | None:
    if not UUID_TEXT.fullmatch(record_uuid):
        return None
    return db.session.scalar(_public().where(Entry.record_uuid == record_uuid).limit(1))
