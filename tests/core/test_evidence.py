"""What shows a consent was given (a scanned form, a note of an oral consent): kept sealed
with the consent, shown only to those who may see identifying values, never in what leaves."""

import io
import json
import re

import pytest
from sqlalchemy import select

from core import records
from core.extensions import db
from core.models import AuditEntry, ConsentEvidence
from core.testing import all_databases
from tests.conftest import TESTIMONY  # noqa: F401 - records_app uses it

pytestmark = all_databases

NOTE = "Accord oral de Salma Ben Ali le 10/01, au téléphone +216 20 123 456, devant sa sœur."
SCAN = b"%PDF-1.4\n% the signed consent form of Salma Ben Ali\n%%EOF\n"


@pytest.fixture
def app(records_app):
    return records_app


@pytest.fixture
def consented(records_app, make_testimony, make_user, login_as):
    salma = make_user("salma", role="documenter")
    uuid = make_testimony(salma, teller_name="Salma Ben Ali", narrative="She was summoned.")
    client = login_as(salma)
    client.submit(f"/records/testimony.testimony/{uuid}/consent", {
        "given_by": "defender", "method": "oral", "audiences": ["hub", "peers"],
        "purposes": ["advocacy"], "obtained_on": "2026-01-10", "expires_on": ""})
    page = client.get(f"/records/testimony.testimony/{uuid}/consent").get_data(as_text=True)
    consent_id = re.search(r"/consent/(\d+)/evidence", page).group(1)
    return client, uuid, f"/records/testimony.testimony/{uuid}/consent/{consent_id}/evidence"


def test_a_note_and_a_scan_are_kept_sealed_and_shown_to_her(app, consented):
    client, uuid, url = consented
    page = f"/records/testimony.testimony/{uuid}/consent"
    client.submit(url, {"note": NOTE}, page=page)
    client.submit(url, {"scan": (io.BytesIO(SCAN), "scan.pdf")}, page=page,
                  content_type="multipart/form-data")
    shown = client.get(page).get_data(as_text=True)
    assert "Salma Ben Ali le 10/01" in shown
    link = re.search(r'href="(/records/[^"]+/evidence/\d+)"', shown).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data == SCAN
    with app.app_context():
        rows = db.session.scalars(select(ConsentEvidence)).all()
        assert {r.kind for r in rows} == {"note", "scan"}
        for row in rows:
            assert b"Salma" not in row.content and b"216" not in row.content
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions.count("consent.evidence_added") == 2


def test_a_file_that_is_not_a_scan_is_refused(app, consented):
    client, uuid, url = consented
    page = f"/records/testimony.testimony/{uuid}/consent"
    response = client.submit(url, {"scan": (io.BytesIO(b"MZ\x90\x00 not a scan"), "a.pdf")},
                             page=page, content_type="multipart/form-data",
                             follow_redirects=True)
    assert "Use a PDF or a photo" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ConsentEvidence)).all() == []


def test_nobody_without_the_right_to_names_reads_it(app, consented, make_user, login_as):
    client, uuid, url = consented
    page = f"/records/testimony.testimony/{uuid}/consent"
    client.submit(url, {"note": NOTE}, page=page)
    with app.app_context():
        evidence_id = db.session.scalar(select(ConsentEvidence.id))
    member = login_as(make_user("amina", role="member"))
    assert member.get(page).status_code in (403, 404)
    assert member.get(f"{url}/{evidence_id}").status_code in (403, 404)


def test_it_is_never_in_what_would_leave(app, consented):
    client, uuid, url = consented
    page = f"/records/testimony.testimony/{uuid}/consent"
    client.submit(url, {"note": NOTE}, page=page)
    client.submit(url, {"scan": (io.BytesIO(SCAN), "scan.pdf")}, page=page,
                  content_type="multipart/form-data")
    with app.test_request_context():
        record = _record(uuid)
        for audience in ("hub", "peers"):
            payload = json.dumps(records.redaction(record, audience).payload,
                                 ensure_ascii=False)
            assert "téléphone" not in payload and "signed consent form" not in payload
            assert "evidence" not in payload and "PDF" not in payload


def _record(uuid):
    from tests.fixtures.testimony.models import Testimony

    return db.session.scalar(select(Testimony).where(Testimony.uuid == uuid))
