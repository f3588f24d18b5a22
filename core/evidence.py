"""What shows a consent was given: the scanned signed form (PDF or an image, checked by its
bytes) or a note of an oral consent, kept with the consent and sealed under its record's data
key like the record's identifying values. Nothing here is ever part of a record's payload,
so nothing here can leave the node (the outbox sends what ``core.redaction`` makes of the
record's schema fields; evidence is no field)."""

from __future__ import annotations

import uuid as uuid_module

from flask import Response, abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, records
from core.downloads import content_disposition
from core.extensions import db
from core.models import Consent, ConsentEvidence

MAX_BYTES = 10 * 1024 * 1024
MAX_NOTE = 5000
SCANS = ((b"%PDF-", "application/pdf", "pdf"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
         (b"\x89PNG\r\n\x1a\n", "image/png", "png"))


class Refused(ValueError):
    """The evidence cannot be kept; the message says why."""


def of(consent: Consent) -> list[ConsentEvidence]:
    return list(db.session.scalars(select(ConsentEvidence)
                                   .where(ConsentEvidence.consent_id == consent.id)
                                   .order_by(ConsentEvidence.id)))


def add_note(record, consent: Consent, note: str, user) -> ConsentEvidence:
    """Keep a note of how an oral consent was given (who, when, what she was told)."""
    note = (note or "").strip()
    if not note:
        raise Refused(_l("Write the note, or choose the scanned form."))
    if len(note) > MAX_NOTE:
        raise Refused(_l("Use at most %(n)d characters.", n=MAX_NOTE))
    return _keep(record, consent, "note", "text/plain", note.encode(), user)


def add_scan(record, consent: Consent, upload, user) -> ConsentEvidence:
    """Keep the scanned signed form (PDF, JPEG or PNG, by its bytes)."""
    data = upload.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Refused(_l("The file is larger than %(mb)d MB.", mb=MAX_BYTES // (1024 * 1024)))
    kind = next((t for magic, t, _ext in SCANS if data.startswith(magic)), None)
    if kind is None:
        raise Refused(_l("Use a PDF or a photo (JPEG, PNG) of the signed form."))
    return _keep(record, consent, "scan", kind, data, user)


def _keep(record, consent, kind, content_type, data, user) -> ConsentEvidence:
    evidence = ConsentEvidence(uuid=str(uuid_module.uuid4()), consent_id=consent.id, kind=kind,
                               content_type=content_type, size=len(data), recorded_by=user.id)
    records.set_identifying_bytes(record, evidence, "content", data)
    db.session.add(evidence)
    audit.record("consent.evidence_added", actor=user, target_type=record.__record_type__,
                 target_id=record.uuid, consent=consent.id, kind=kind)
    db.session.commit()
    return evidence


def note_text(record, evidence: ConsentEvidence) -> str:
    """A note's text (callers check the permission and audit the reading)."""
    return records.identifying_bytes(record, evidence, "content").decode()


def download(record, evidence: ConsentEvidence, user) -> Response:
    if evidence.kind != "scan":
        abort(404)
    data = records.identifying_bytes(record, evidence, "content")
    audit.record("record.identifying_viewed", actor=user, target_type=record.__record_type__,
                 target_id=record.uuid, purpose="consent-evidence")
    db.session.commit()
    extension = next(ext for _m, t, ext in SCANS if t == evidence.content_type)
    response = Response(data, mimetype=evidence.content_type)
    response.headers["Content-Disposition"] = content_disposition(f"consent.{extension}")
    return response


