"""Drafts of the case form: what she typed, kept sealed for her alone until she saves.

A draft is the posted form (its fields as typed, never a file) sealed with AES-256-GCM under
a data key of its own, wrapped by the node key like a record's: a copy of the database shows
nothing of it, and reading it needs the unlocked node. Only its author opens it; no one else
is told it exists. It is written when she presses "Save draft" or adds an incident (the form
works without JavaScript), every few seconds while she types (``core/static/drafts.js``),
and when her session or the form's token ended as she sent it (``core.kept``). Saving the
case deletes the draft.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from datetime import datetime, timedelta

from flask import request, url_for
from sqlalchemy import ForeignKey, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from core import audit, clock, keystore
from core.columns import UTCDateTime
from core.extensions import db

RECORD_TYPE = "cases.draft"  # binds its data key and sealed form
NOT_KEPT = frozenset({"csrf_token", "draft", "save_draft", "add_incident", "add_intervention",
                      "submit"})
MAX_FIELDS = 2000
MAX_BYTES = 512 * 1024
KEPT_FOR = timedelta(days=30)
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Draft(db.Model):
    __tablename__ = "cases_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"),
                                           index=True)
    case_uuid: Mapped[str | None] = mapped_column(String(36))  # None: a new case
    data_key: Mapped[bytes] = mapped_column(LargeBinary)
    form: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class TooLarge(ValueError):
    pass


def keep(author_id: int, case_uuid: str | None, posted, draft_uuid: str | None = None) -> Draft:
    """Seal the posted fields as her draft (the one named ``draft_uuid`` if it is hers and of
    the same case, else a new one). Raises ``NodeLocked`` while the node is locked."""
    pairs = [(key, value) for key, value in posted.items(multi=True)
             if key not in NOT_KEPT and isinstance(value, str)]
    if len(pairs) > MAX_FIELDS:
        raise TooLarge
    text = json.dumps(pairs, ensure_ascii=False).encode()
    if len(text) > MAX_BYTES:
        raise TooLarge
    draft = _own(draft_uuid, author_id)
    if draft is not None and draft.case_uuid != case_uuid:
        draft = None
    if draft is None:
        forget_old()  # a new draft: those untouched for KEPT_FOR go
        draft = Draft(uuid=str(uuid_module.uuid4()), author_id=author_id, case_uuid=case_uuid)
        key, draft.data_key = keystore.new_data_key(RECORD_TYPE, draft.uuid)
        db.session.add(draft)
    else:
        key = keystore.unwrap_data_key(draft.data_key, RECORD_TYPE, draft.uuid)
    draft.form = keystore.seal(key, _context(draft), text)
    draft.updated_at = clock.now()
    return draft


def opened(draft_uuid: str | None, user) -> Draft | None:
    """Her draft of that id, or None (not hers, or none)."""
    return _own(draft_uuid, getattr(user, "id", None))


def _own(draft_uuid: str | None, author_id: int | None) -> Draft | None:
    # Only an id this module made is looked up (a NUL byte would even stop PostgreSQL's query).
    if not draft_uuid or author_id is None or not UUID_TEXT.fullmatch(draft_uuid):
        return None
    return db.session.scalar(select(Draft).where(Draft.uuid == draft_uuid,
                                                 Draft.author_id == author_id))


def form_data(draft: Draft) -> MultiDict:
    """What she typed, as the form takes it."""
    key = keystore.unwrap_data_key(draft.data_key, RECORD_TYPE, draft.uuid)
    return MultiDict(json.loads(keystore.open_sealed(key, _context(draft), draft.form)))


def discard(draft_uuid: str | None, user) -> None:
    draft = opened(draft_uuid, user)
    if draft is not None:
        db.session.delete(draft)


def of(user, case_uuid: str | None = None, *, any_case: bool = False) -> list[Draft]:
    """Her drafts, newest first: of a new case (``case_uuid`` None), of one case, or all."""
    query = select(Draft).where(Draft.author_id == user.id).order_by(Draft.updated_at.desc())
    if not any_case:
        query = query.where(Draft.case_uuid.is_(None) if case_uuid is None
                            else Draft.case_uuid == case_uuid)
    return list(db.session.scalars(query.limit(20)))


def forget_old() -> int:
    """Drafts untouched for ``KEPT_FOR`` go."""
    return db.session.execute(delete(Draft).where(
        Draft.updated_at < clock.now() - KEPT_FOR)).rowcount


def where(draft: Draft) -> str:
    """The form that shows a draft."""
    if draft.case_uuid is None:
        return url_for("cases.new", draft=draft.uuid)
    return url_for("cases.edit", uuid=draft.case_uuid, draft=draft.uuid)


def keep_interrupted(user_id: int, posted) -> str | None:
    """``core.kept``'s keeper for the case form: her draft, and where she finds it."""
    case_uuid = (request.view_args or {}).get("uuid")
    try:
        draft = keep(user_id, case_uuid, posted, posted.get("draft"))
    except TooLarge:
        return None
    audit.record("cases.draft_kept", target_type="cases.case", target_id=case_uuid,
                 because="session-ended")
    db.session.commit()
    return where(draft)


def _context(draft: Draft) -> bytes:
    return "\x00".join((RECORD_TYPE, draft.uuid, str(draft.author_id), draft.case_uuid or "",
                        "form")).encode()
