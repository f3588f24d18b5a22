"""A resource's files: PDF and images (PNG, JPEG, WebP), checked by what their bytes are —
not by the name or the type the browser claims — and capped in size; the name and bytes
sealed under the record's data key; served only as downloads (``Content-Disposition:
attachment``, the type the bytes were found to be, a name with no control or bidirectional
character and the extension of that type); never federated."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit, records
from core.downloads import clean_name, content_disposition
from core.extensions import db

from .models import KnowledgeFile

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg",
              "image/webp": ".webp"}
IMAGES = frozenset({"image/png", "image/jpeg", "image/webp"})


class Refused(ValueError):
    """The file cannot be kept; the message says why."""


@dataclass(frozen=True)
class Checked:
    name: str
    content_type: str
    data: bytes


def max_bytes() -> int:
    return current_app.config["KNOWLEDGE_MAX_ATTACHMENT_BYTES"]


def sniff(data: bytes) -> str | None:
    """The type the bytes really are, among those accepted; None for anything else (an SVG,
    HTML, a script or an executable named ``.pdf`` among them)."""
    for signature, content_type in SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked(upload) -> Checked:
    """Read and check an uploaded file (before anything is written)."""
    limit = max_bytes()
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        megabytes = format(limit / (1024 * 1024), "g")
        raise Refused(_l("The file is larger than %(mb)s MB: it is not kept.", mb=megabytes))
    if not data:
        raise Refused(_l("The file is empty."))
    content_type = sniff(data)
    if content_type is None:
        raise Refused(_l("This kind of file is not accepted, whatever its name says: use a "
                         "PDF or an image (PNG, JPEG, WebP)."))
    return Checked(named(upload.filename, content_type), content_type, data)


def named(filename: str | None, content_type: str) -> str:
    """The name it is kept under: the last part of what was sent, cleaned, ending with the
    extension of what the bytes are (``report.pdf.exe`` of a PDF becomes
    ``report.pdf.exe.pdf``)."""
    name = clean_name((filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    extension = EXTENSIONS[content_type]
    if not name.lower().endswith(extension) and not (
            extension == ".jpg" and name.lower().endswith(".jpeg")):
        name = clean_name(name[:190] + extension)
    return name


def attach(record, file: Checked, user) -> KnowledgeFile:
    """Add a checked file to ``record`` (the caller's save commits it)."""
    attachment = KnowledgeFile(record_type=record.__record_type__, record_uuid=record.uuid,
                            content_type=file.content_type, size=len(file.data),
                            uploaded_by=getattr(user, "id", None))
    records.set_identifying(record, attachment, "filename", file.name)
    records.set_identifying_bytes(record, attachment, "content", file.data)
    db.session.add(attachment)
    audit.record("knowledge.file_added", actor=user, target_type=record.__record_type__,
                 target_id=record.uuid, type=file.content_type.replace("/", "."))
    return attachment


def of(record) -> list[KnowledgeFile]:
    return list(db.session.scalars(select(KnowledgeFile).where(
        KnowledgeFile.record_type == record.__record_type__,
        KnowledgeFile.record_uuid == record.uuid).order_by(KnowledgeFile.id)))


def listing(record) -> list[dict]:
    """Its files with their names (the node must be unlocked)."""
    return [{"file": a, "name": clean_name(records.identifying_value(record, a, "filename")),
             "image": a.content_type in IMAGES} for a in of(record)]


def download(record, file_uuid: str, user) -> Response:
    attachment = next((a for a in of(record) if a.uuid == file_uuid), None)
    if attachment is None:
        abort(404)
    data = records.identifying_bytes(record, attachment, "content")
    name = records.identifying_value(record, attachment, "filename")
    if sniff(data) != attachment.content_type:  # never serve what is not what was checked
        abort(404)
    if record.__record_type__ == "knowledge.testimony":  # about a person: who read it
        audit.record("record.identifying_viewed", actor=user,
                     target_type=record.__record_type__, target_id=record.uuid,
                     purpose="download")
        db.session.commit()
    response = Response(data, mimetype=attachment.content_type)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Content-Length"] = str(len(data))
    return response
