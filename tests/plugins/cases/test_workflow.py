"""A documenter's day: drafts that survive an ended session, a lock or a closed tab; the review
queue, sending back, what would leave; undoing a task; where a shared case went."""

import re
from datetime import date

from sqlalchemy import func, select

from core import keystore
from core.extensions import db
from core.models import AuditEntry, LedgerEntry
from plugins.cases.drafts import Draft
from plugins.cases.models import Case, Task
from plugins.cases.workflow import ReviewNote
from tests.plugins.cases.conftest import case_form

TESTIMONY = "She was held for six hours and asked about every guest of her programme."


def sign_in(client, person, expect_redirect_to=None):
    """The real sign-in: password, then her authenticator's code."""
    response = client.submit("/login", {"username": person.username,
                                        "password": person.password})
    assert response.status_code == 302
    if response.location.endswith("/login/code"):
        response = client.submit("/login/code", {"code": person.code()})
    assert response.status_code == 302
    return response


def draft_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Draft))


def text_of(response):
    return response.get_data(as_text=True)


def test_an_ended_session_keeps_what_she_typed_until_she_signs_in_again(
        app, people, fake_clock):
    client = app.test_client()
    sign_in(client, people["salma"])
    token = client.csrf_token("/cases/new")
    fake_clock.advance(minutes=45)  # she wrote for 45 minutes without sending anything
    sent = client.post("/cases/new", data={
        **case_form(**{"incidents-0-narrative": TESTIMONY}), "csrf_token": token})
    assert sent.status_code == 302 and sent.location.endswith("/login")
    assert "what you typed is kept" in text_of(client.get("/login"))
    with app.app_context():
        draft = db.session.scalar(select(Draft))
        assert draft.author_id == people["salma"].id and draft.case_uuid is None
        assert TESTIMONY.encode() not in draft.form and b"Salma Ben Ali" not in draft.form
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    back = sign_in(client, people["salma"])
    page = client.get(back.location, follow_redirects=True)
    assert f"draft={draft.uuid}" in page.request.full_path
    body = text_of(page)
    assert TESTIMONY in body and "Salma Ben Ali" in body and "+216 20 123 456" in body
    # She saves it: the case is written and her draft goes.
    saved = client.submit(page.request.full_path, {
        **case_form(**{"incidents-0-narrative": TESTIMONY}), "draft": draft.uuid})
    assert saved.status_code == 302 and "/cases/" in saved.location
    assert draft_count(app) == 0


def test_a_kept_form_is_never_shown_to_someone_else_on_the_same_browser(
        app, people, fake_clock):
    client = app.test_client()
    sign_in(client, people["salma"])
    token = client.csrf_token("/cases/new")
    fake_clock.advance(minutes=31)
    client.post("/cases/new", data={**case_form(**{"incidents-0-narrative": TESTIMONY}),
                                    "csrf_token": token})
    assert draft_count(app) == 1
    # Huda signs in on that browser: she is taken nowhere near Salma's words.
    back = sign_in(client, people["huda"])
    page = client.get(back.location, follow_redirects=True)
    assert TESTIMONY not in text_of(page) and "Salma Ben Ali" not in text_of(page)
    with app.app_context():
        uuid = db.session.scalar(select(Draft.uuid))
    other = text_of(client.get(f"/cases/new?draft={uuid}"))
    assert TESTIMONY not in other and "not there any more" in other


def test_a_form_with_no_known_writer_is_not_kept(app, people):
    client = app.test_client()
    token = client.csrf_token("/login")
    response = client.post("/cases/new", data={**case_form(), "csrf_token": token})
    assert response.status_code in (302, 401)
    assert draft_count(app) == 0


def test_an_expired_form_token_keeps_the_form_while_signed_in(app, people, login_as):
    client = login_as(people["salma"])
    response = client.post("/cases/new", data={
        **case_form(**{"incidents-0-narrative": TESTIMONY}), "csrf_token": "expired"})
    assert response.status_code == 302 and "draft=" in response.location
    assert TESTIMONY in text_of(client.get(response.location))


def test_save_draft_without_javascript_and_only_she_sees_it(app, people, login_as):
    salma = login_as(people["salma"])
    response = salma.submit("/cases/new", {**case_form(title="", **{
        "incidents-0-narrative": TESTIMONY}), "save_draft": "1"})
    assert response.status_code == 302 and "draft=" in response.location
    assert TESTIMONY in text_of(salma.get(response.location))
    huda = login_as(people["huda"])
    assert TESTIMONY not in text_of(huda.get(response.location))
    assert TESTIMONY not in text_of(huda.get("/"))
    assert "Your drafts" in text_of(salma.get("/"))


def test_incidents_and_support_are_added_on_the_first_form(app, people, login_as):
    client = login_as(people["salma"])
    response = client.submit("/cases/new", {**case_form(), "add_incident": "1"})
    body = text_of(response)
    assert response.status_code == 200 and "incidents-1-narrative" in body
    assert "Nothing was saved" not in body and draft_count(app) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    draft = re.search(r'name="draft" value="([^"]+)"', body).group(1)
    saved = client.submit("/cases/new", {**case_form(**{
        "incidents-1-occurred_on": "2025-05-02", "incidents-1-violation": "travel-ban",
        "incidents-1-place": "TN-11", "incidents-1-narrative": "Stopped at the airport."}),
        "draft": draft})
    assert saved.status_code == 302
    with app.app_context():
        assert len(db.session.scalar(select(Case)).incidents) == 2
    assert draft_count(app) == 0


def test_the_form_saves_a_draft_as_she_types(app, people, login_as):
    client = login_as(people["salma"])
    token = client.csrf_token("/cases/new")
    answer = client.post("/cases/drafts", data={
        **case_form(**{"incidents-0-narrative": TESTIMONY}), "csrf_token": token})
    assert answer.status_code == 200 and answer.json["saved"]
    again = client.post("/cases/drafts", data={
        **case_form(**{"incidents-0-narrative": TESTIMONY + " More."}), "csrf_token": token,
        "draft": answer.json["draft"]})
    assert again.json["draft"] == answer.json["draft"] and draft_count(app) == 1
    assert "More." in text_of(client.get(f"/cases/new?draft={answer.json['draft']}"))
    # Someone else's draft id makes her a new one: never writes into another's.
    other = login_as(people["huda"]).post("/cases/drafts", data={
        "title": "x", "csrf_token": client.csrf_token("/cases/new"),
        "draft": answer.json["draft"]})
    assert other.status_code in (200, 400)
    assert "More." in text_of(client.get(f"/cases/new?draft={answer.json['draft']}"))


def test_a_form_sent_while_the_node_is_locked_comes_back_as_typed(app, people, login_as):
    client = login_as(people["salma"])
    token = client.csrf_token("/cases/new")
    with app.app_context():
        keystore.keystore().lock()
    response = client.post("/cases/new", data={
        **case_form(**{"incidents-0-narrative": TESTIMONY}), "csrf_token": token})
    body = text_of(response)
    assert response.status_code == 503
    assert TESTIMONY in body and "The node is locked." in body and "nour" in body
    home = text_of(client.get("/"))
    assert "Who can unlock it:" in home and "nour" in home
    page = client.get("/cases/new")
    assert page.status_code == 503 and "nour" in text_of(page)
    assert "The node is locked" in text_of(page)


def make_case(app, client):
    response = client.submit("/cases/new", case_form())
    assert response.status_code == 302
    return response.location.rsplit("/", 1)[1]


def give_consent(app, uuid, user_id, audiences=("peers", "hub")):
    from core import consent
    from core.models import User

    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        consent.record(case, user=db.session.get(User, user_id), given_by="defender",
                       method="oral", audiences=list(audiences), purposes=["advocacy"],
                       obtained_on=date(2025, 1, 1))


def test_a_case_goes_through_the_queue_sent_back_fixed_and_approved(app, people, login_as):
    salma, huda = login_as(people["salma"]), login_as(people["huda"])
    uuid = make_case(app, salma)
    assert "Kept on this node only" in text_of(salma.get(f"/cases/{uuid}"))
    assert uuid not in text_of(huda.get("/cases/review-queue"))
    give_consent(app, uuid, people["salma"].id)
    home = text_of(huda.get("/"))
    assert "Review queue" in home and re.search(r"<strong>1</strong> case waits", home)
    assert uuid in text_of(huda.get("/cases/review-queue"))
    assert "Waiting for review." in text_of(salma.get(f"/cases/{uuid}"))
    # What would leave: read only, scrubbed, for the documenter too.
    outgoing = text_of(salma.get(f"/cases/{uuid}/outgoing"))
    assert "Salma Ben Ali" not in outgoing and "+216" not in outgoing
    assert "Partner nodes of the coalition" in outgoing and "Olive" in outgoing
    # Sent back: a note she reads; the case leaves the queue.
    refused = huda.submit(f"/cases/{uuid}/send-back", {"note": "   "}, page=f"/cases/{uuid}")
    assert refused.status_code == 302
    sent = huda.submit(f"/cases/{uuid}/send-back",
                       {"note": "Say which police station; remove the street."},
                       page=f"/cases/{uuid}")
    assert sent.status_code == 302
    with app.app_context():
        notes = db.session.scalars(select(ReviewNote)).all()
        assert len(notes) == 1 and b"police station" not in notes[0].note
        assert "cases.sent_back" in db.session.scalars(select(AuditEntry.action)).all()
    page = text_of(salma.get(f"/cases/{uuid}"))
    assert "Sent back by a reviewer." in page and "Say which police station" in page
    assert "huda" in page
    assert uuid not in text_of(huda.get("/cases/review-queue"))
    # Fixed: her save puts it back in the queue.
    fixed = salma.submit(f"/cases/{uuid}/edit", case_form(summary="The Sfax police station."))
    assert fixed.status_code == 302
    assert uuid in text_of(huda.get("/cases/review-queue"))
    for audience in ("peers", "hub"):
        approved = huda.submit(f"/records/cases.case/{uuid}/review/{audience}", {},
                               page=f"/records/cases.case/{uuid}/review")
        assert approved.status_code == 302
    assert uuid not in text_of(huda.get("/cases/review-queue"))
    assert "Approved: it leaves at the next sync." in text_of(salma.get(f"/cases/{uuid}"))


def test_a_task_marked_done_by_mistake_is_opened_again(app, people, login_as):
    client = login_as(people["salma"])
    uuid = make_case(app, client)
    client.submit(f"/cases/{uuid}/tasks", {"description": "Call the lawyer"},
                  page=f"/cases/{uuid}")
    with app.app_context():
        task = db.session.scalar(select(Task))
    client.submit(f"/cases/{uuid}/tasks/{task.uuid}/done", {}, page=f"/cases/{uuid}")
    page = text_of(client.get(f"/cases/{uuid}"))
    assert "Not done" in page
    client.submit(f"/cases/{uuid}/tasks/{task.uuid}/undo", {}, page=f"/cases/{uuid}")
    with app.app_context():
        assert db.session.scalar(select(Task)).done_at is None
    assert client.submit(f"/cases/{uuid}/tasks/nope/undo", {},
                         page=f"/cases/{uuid}").status_code == 404


def test_where_a_withdrawn_case_went_and_who_confirmed_deletion(app, people, login_as):
    from core import consent
    from core.models import User

    client = login_as(people["salma"])
    uuid = make_case(app, client)
    give_consent(app, uuid, people["salma"].id, ("peers",))
    with app.app_context():
        for holder in ("a" * 32, "b" * 32):
            db.session.add(LedgerEntry(record_type="cases.case", record_uuid=uuid, version=1,
                                       audience="peers", recipient=holder, payload_hash="0" * 64,
                                       policy_hash="0" * 64))
        db.session.add(LedgerEntry(record_type="cases.case", record_uuid=uuid, version=1,
                                   audience="public-aggregate", recipient="c" * 32,
                                   payload_hash="0" * 64, policy_hash="0" * 64))
        db.session.commit()
    assert "Deleted on" not in text_of(client.get(f"/cases/{uuid}"))
    with app.app_context():  # the same sending entered twice is one row of the ledger
        db.session.add(LedgerEntry(record_type="cases.case", record_uuid=uuid, version=1,
                                   audience="peers", recipient="a" * 32, payload_hash="0" * 64,
                                   policy_hash="0" * 64))
        db.session.commit()
        reference = db.session.scalar(select(Case)).reference
    admin = login_as(people["nour"])
    ledger = text_of(admin.get("/admin/ledger"))
    assert ledger.count(reference) == 3 and "Partner nodes of the coalition" in ledger
    assert ledger.count("held: no deletion asked") == 2 and "counts only" in ledger
    assert "awaited" not in ledger and uuid[:8] not in ledger
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        consent.withdraw(consent.current(case), reason="defender-request",
                         user=db.session.get(User, people["salma"].id))
        for entry in db.session.scalars(select(LedgerEntry).where(  # as receipts.receive does
                LedgerEntry.recipient == "a" * 32)):
            entry.receipt, entry.receipt_at = "{}", entry.sent_at
        db.session.commit()
    page = text_of(client.get(f"/cases/{uuid}"))
    assert "Deleted on 1 of 2 holders" in page and "deletion not yet confirmed" in page
    assert "withdrawn: deletion not yet confirmed" in text_of(admin.get("/admin/ledger"))
    with app.app_context():
        entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.recipient == "b" * 32))
        entry.receipt, entry.receipt_at = "{}", entry.sent_at
        db.session.commit()
    assert "Deleted on 2 of 2 holders" in text_of(client.get(f"/cases/{uuid}"))
    ledger = text_of(admin.get("/admin/ledger"))
    assert ledger.count("deletion confirmed by its signed receipt") == 2
    assert "held: no deletion asked" not in ledger


def test_a_draft_untouched_for_a_month_goes(app, people, login_as, fake_clock):
    client = login_as(people["salma"])
    client.submit("/cases/new", {**case_form(), "save_draft": "1"})
    fake_clock.advance(days=31)
    client = login_as(people["salma"])
    client.submit("/cases/new", {**case_form(title="Another"), "save_draft": "1"})
    assert draft_count(app) == 1
