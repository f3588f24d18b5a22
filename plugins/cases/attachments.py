"""Attachments: checked by what the bytes are (not what the name claims), capped in size,
sealed under the case's data key, and never federated."""

from __future__ import annotations

from flask import Response, abort, current_app
from flask_babel import lazy_gettext as _l

from core import audit, records
from core.downloads import clean_name, content_disposition
from core.extensions import db

from .models import Attachment, Case

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
)


class Refused(ValueError):
    """The file cannot be stored; the message says why."""


def max_bytes() -> int:
    return current_app.config.get("CASES_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_BYTES)


def sniff(data: bytes) -> str | None:
    """The type the bytes really are, among those allowed; None for anything else."""
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":  # the ISO media family: M4A audio, MP4
        return "audio/mp4"
    if _plain_text(data):
        return "text/plain"
    return None


def _plain_text(data: bytes) -> bool:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(decoded) and all(ch.isprintable() or ch in "\t\r\n" for ch in decoded)


def add(case: Case, upload, user) -> Attachment:
    limit = max_bytes()
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise Refused(_l("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)))
    if not data:
        raise Refused(_l("The file is empty."))
    content_type = sniff(data)
    if content_type is None:
        raise Refused(_l("This kind of file is not accepted: use PDF, an image (JPEG, PNG, "
                         "WebP), audio (MP3, OGG, M4A) or plain text."))
    attachment = Attachment(content_type=content_type, size=len(data), uploaded_by=user.id)
    case.attachments.append(attachment)
    name = clean_name((upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    records.set_identifying(case, attachment, "filename", name)
    records.set_identifying_bytes(case, attachment, "content", data)
    audit.record("cases.file_added", actor=user, target_type=case.__record_type__,
                 target_id=case.uuid, type=content_type.replace("/", "."))
    db.session.commit()
    return attachment


def listing(case: Case, reveal: bool) -> list[dict]:
    return [
        {"file": a,
         "name": clean_name(records.identifying_value(case, a, "filename")) if reveal else None}
        for a in case.attachments
    ]


def download(case: Case, file_uuid: str, user) -> Response:
    attachment = next((a for a in case.attachments if a.uuid == file_uuid), None)
    if attachment is None:
        abort(404)
    data = records.identifying_bytes(case, attachment, "content")
    name = records.identifying_value(case, attachment, "filename")
    audit.record("record.identifying_viewed", actor=user, target_type=case.__record_type__,
                 target_id=case.uuid, purpose="download")
    db.session.commit()
    response = Response(data, mimetype=attachment.content_type)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response
