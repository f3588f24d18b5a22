"""Attachments: checked by their bytes, capped, sealed, downloaded only with the permission."""

import io

import pytest
from sqlalchemy import func, select

from core.extensions import db
from plugins.cases.attachments import sniff
from plugins.cases.models import Attachment
from tests.plugins.cases.conftest import case_form

PDF = b"%PDF-1.7\n% a small fictional report\n" + b"x" * 2000


@pytest.fixture
def case_uuid(people, login_as):
    response = login_as(people["salma"]).submit("/cases/new", case_form())
    return response.location.rsplit("/", 1)[1]


def upload(client, uuid, data, name="report.pdf"):
    token = client.csrf_token(f"/cases/{uuid}")
    return client.post(f"/cases/{uuid}/attachments", data={
        "csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data", follow_redirects=True)


def stored(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Attachment))


@pytest.mark.parametrize("data, kind", [
    (PDF, "application/pdf"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"), (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
    (b"OggS\0\2" + b"\0" * 20, "audio/ogg"), (b"ID3\4\0" + b"\0" * 20, "audio/mpeg"),
    (b"\0\0\0\x20ftypM4A " + b"\0" * 20, "audio/mp4"),
    ("شهادة مكتوبة\nA written statement\n".encode(), "text/plain"),
    (b"MZ\x90\0\3\0\0\0", None), (b"\x7fELF\2\1\1", None), (b"PK\3\4 a zip", None),
    (b"<html><script>alert(1)</script>\0", None),
])
def test_files_are_known_by_their_bytes(data, kind):
    assert sniff(data) == kind


def test_a_file_is_stored_sealed_and_downloaded_by_permitted_roles(app, people, login_as,
                                                                   case_uuid):
    client = login_as(people["salma"])
    page = upload(client, case_uuid, PDF, "تقرير طبي.pdf").get_data(as_text=True)
    assert "The file is stored, encrypted." in page and "تقرير طبي.pdf" in page
    with app.app_context():
        attachment = db.session.scalar(select(Attachment))
        assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
        raw = db.session.execute(select(Attachment.content, Attachment.filename)).one()
        assert b"fictional report" not in raw.content and "تقرير".encode() not in raw.filename
        file_uuid = attachment.uuid
    download = client.get(f"/cases/{case_uuid}/attachments/{file_uuid}")
    assert download.data == PDF and download.mimetype == "application/pdf"
    assert "attachment;" in download.headers["Content-Disposition"]
    member = login_as(people["amina"])
    assert member.get(f"/cases/{case_uuid}/attachments/{file_uuid}").status_code == 403
    assert "تقرير" not in member.get(f"/cases/{case_uuid}").get_data(as_text=True)


@pytest.mark.parametrize("data, name, message", [
    (b"MZ\x90\0 a program", "invoice.pdf", "This kind of file is not accepted"),
    (b"", "empty.txt", "The file is empty."),
])
def test_a_refused_file_saves_nothing(app, people, login_as, case_uuid, data, name, message):
    page = upload(login_as(people["salma"]), case_uuid, data, name).get_data(as_text=True)
    assert message in page
    assert stored(app) == 0


def test_an_oversize_file_saves_nothing(app, people, login_as, case_uuid):
    app.config["CASES_MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    page = upload(login_as(people["salma"]), case_uuid, PDF + b"x" * (1024 * 1024)).get_data(
        as_text=True)
    assert "The file is larger than 1 MB." in page
    assert stored(app) == 0


def test_members_cannot_upload(app, people, login_as, case_uuid):
    member = login_as(people["amina"])
    token = member.csrf_token("/cases/")
    response = member.post(f"/cases/{case_uuid}/attachments",
                           data={"csrf_token": token, "file": (io.BytesIO(PDF), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and stored(app) == 0


@pytest.mark.parametrize("uploaded, expected", [
    ("report\u202etxt.exe", "reporttxt.exe"),
    ("\u2067تقرير\u2069\u200f.pdf", "تقرير.pdf"),
    ("scan\u2066\u061c\u200e 2025\x07.pdf", "scan 2025.pdf"),
])
def test_download_names_keep_no_bidi_or_control_character(app, people, login_as, case_uuid,
                                                          uploaded, expected):
    from urllib.parse import unquote

    client = login_as(people["salma"])
    page = upload(client, case_uuid, PDF, uploaded).get_data(as_text=True)
    assert expected in page and uploaded not in page
    with app.app_context():
        file_uuid = db.session.scalar(select(Attachment.uuid))
    download = client.get(f"/cases/{case_uuid}/attachments/{file_uuid}")
    header = download.headers["Content-Disposition"]
    assert unquote(header.split("''", 1)[1]) == expected


def test_a_name_stored_before_the_cleaning_is_cleaned_on_the_way_out(app, people, login_as,
                                                                    case_uuid):
    from urllib.parse import unquote

    from core import records
    from plugins.cases.models import Case

    client = login_as(people["salma"])
    upload(client, case_uuid, PDF, "old.pdf")
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == case_uuid))
        attachment = case.attachments[0]
        records.set_identifying(case, attachment, "filename", "old\u202efdp.exe")
        db.session.commit()
        file_uuid = attachment.uuid
    page = client.get(f"/cases/{case_uuid}").get_data(as_text=True)
    assert "old\u202efdp.exe" not in page and "oldfdp.exe" in page
    header = client.get(f"/cases/{case_uuid}/attachments/{file_uuid}").headers[
        "Content-Disposition"]
    assert unquote(header.split("''", 1)[1]) == "oldfdp.exe"
