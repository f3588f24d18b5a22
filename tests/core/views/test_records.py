"""The shared record pages: consent, review ("what the hub will see"), and their guards."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import Approval, AuditEntry, Consent
from tests.conftest import TESTIMONY  # noqa: F401 - records_app uses it


@pytest.fixture
def app(records_app):
    """Every fixture (users, sign-in) works on the node with the test record type."""
    return records_app


@pytest.fixture
def people(make_user):
    return (make_user("salma", role="documenter"), make_user("huda", role="reviewer"),
            make_user("amina", role="member"))


@pytest.fixture
def uuid(records_app, make_testimony, people):
    return make_testimony(people[0], teller_name="Salma Ben Ali",
                          narrative="Salma Ben Ali was summoned; call +216 20 123 456.")


def url(uuid, page):
    return f"/records/testimony.testimony/{uuid}/{page}"


def consent_form(**overrides):
    data = {"given_by": "defender", "method": "oral", "audiences": ["hub"],
            "purposes": ["advocacy"], "obtained_on": "2026-01-10", "expires_on": ""}
    data.update(overrides)
    return data


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_documenter_records_and_withdraws_consent(records_app, login_as, people, uuid):
    client = login_as(people[0])
    response = client.submit(url(uuid, "consent"), consent_form(), follow_redirects=True)
    assert "Consent recorded." in response.get_data(as_text=True)
    page = client.get(url(uuid, "consent")).get_data(as_text=True)
    consent_id = re.search(r"/consent/(\d+)/withdraw", page).group(1)
    client.submit(url(uuid, f"consent/{consent_id}/withdraw"), {"reason": "safety"},
                  page=url(uuid, "consent"))
    with records_app.app_context():
        assert db.session.get(Consent, int(consent_id)).end == "withdrawn"


@pytest.mark.parametrize("overrides, message", [
    ({"obtained_on": "2099-01-01"}, "cannot be in the future"),
    ({"audiences": ["everyone"]}, "is not a valid choice"),
    ({"audiences": []}, "at least one audience"),
    ({"obtained_on": "yesterday"}, "Not a valid date"),
])
def test_bad_consent_input_is_explained_and_saves_nothing(records_app, login_as, people, uuid,
                                                          overrides, message):
    response = login_as(people[0]).submit(url(uuid, "consent"), consent_form(**overrides))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert count(records_app, Consent) == 0


def test_the_reviewer_sees_the_original_beside_what_the_hub_will_see(records_app, login_as,
                                                                    people, uuid):
    login_as(people[0]).submit(url(uuid, "consent"), consent_form())
    client = login_as(people[1])
    page = client.get(url(uuid, "review")).get_data(as_text=True)
    as_written, leaves = review_cells(page, "narrative")
    assert "Salma Ben Ali was summoned" in as_written  # the reviewer may see the record
    assert "Salma" not in leaves and "[redacted] was summoned" in leaves  # what leaves has not
    name_written, name_leaves = review_cells(page, "teller name")
    assert "Salma Ben Ali" in name_written and "withheld" in name_leaves
    assert page.count("[redacted] was summoned") == 1  # the payload is shown once
    client.submit(url(uuid, "review/hub"), page=url(uuid, "review"))
    assert count(records_app, Approval) == 1
    with records_app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "record.identifying_viewed" in actions and "record.approved" in actions


def review_cells(page: str, label: str) -> tuple[str, str]:
    """The review table's two cells of the field ``label``: as written, and what leaves."""
    import html

    row = re.search(rf'<th scope="row"[^>]*>{re.escape(label)} .*?</th>\s*'
                    r'<td class="as-written">(.*?)</td>\s*<td class="leaves">(.*?)</td>', page,
                    re.DOTALL)
    assert row is not None, f"no row for {label!r} in {page[page.find('<main'):][:3000]}"
    return html.unescape(row.group(1)), html.unescape(row.group(2))


def test_a_reviewer_who_wrote_it_is_told_why_she_cannot_approve(records_app, login_as,
                                                                 make_testimony, people):
    huda = people[1]
    mine = make_testimony(huda, teller_name="Salma Ben Ali", narrative="A summons.")
    login_as(people[0]).submit(url(mine, "consent"), consent_form())
    client = login_as(huda)
    page = client.get(url(mine, "review")).get_data(as_text=True)
    assert "another reviewer must approve it" in page
    assert url(mine, "review/hub") not in page  # no button to press
    response = client.submit(url(mine, "review/hub"), page=url(mine, "review"),
                             follow_redirects=True)
    assert "another reviewer must approve it" in response.get_data(as_text=True)
    assert count(records_app, Approval) == 0


def test_members_and_documenters_cannot_review(login_as, people, uuid):
    assert login_as(people[2]).get(url(uuid, "review")).status_code == 403
    assert login_as(people[0]).get(url(uuid, "review")).status_code == 403
    assert login_as(people[2]).get(url(uuid, "consent")).status_code == 403


def test_a_forged_record_id_is_not_found(login_as, people):
    client = login_as(people[1])
    assert client.get(url("0" * 36, "review")).status_code == 404
    assert client.get("/records/cases.case/" + "0" * 36 + "/review").status_code == 404
    assert client.get(url("../../admin", "review")).status_code == 404


def test_withdrawing_another_records_consent_is_refused(records_app, login_as, people,
                                                        make_testimony, uuid):
    other = make_testimony(people[0])
    client = login_as(people[0])
    client.submit(url(other, "consent"), consent_form())
    with records_app.app_context():
        consent_id = db.session.scalar(select(Consent.id))
    response = client.submit(url(uuid, f"consent/{consent_id}/withdraw"), {"reason": "safety"},
                             page=url(uuid, "consent"))
    assert response.status_code == 404
    with records_app.app_context():
        assert db.session.get(Consent, consent_id).ended_at is None


def test_a_locked_node_shows_no_identifying_value(records_app, login_as, people, uuid):
    from core import keystore

    with records_app.app_context():
        keystore.keystore().lock()
    response = login_as(people[1]).get(url(uuid, "review"))
    assert response.status_code == 503 and "locked" in response.get_data(as_text=True)
    assert "Salma" not in response.get_data(as_text=True)


def test_an_admin_unlocks_and_locks_the_node(records_app, login_as, make_user):
    from core import keystore
    from core.testing import TEST_PASSPHRASE

    client = login_as(make_user("nour", role="admin"))
    with records_app.app_context():
        keystore.keystore().lock()
    wrong = client.submit("/admin/keys", {"passphrase": "not the right one at all"})
    assert "passphrase is wrong" in wrong.get_data(as_text=True)
    client.submit("/admin/keys", {"passphrase": TEST_PASSPHRASE})
    with records_app.app_context():
        assert keystore.keystore().unlocked
    client.submit("/admin/keys/lock", page="/admin/keys")
    with records_app.app_context():
        assert not keystore.keystore().unlocked
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"keys.unlock_failed", "keys.unlocked", "keys.locked"} <= set(actions)


def test_wrong_passphrases_are_throttled(records_app, login_as, make_user):
    from core import keystore
    from core.testing import TEST_PASSPHRASE

    client = login_as(make_user("nour", role="admin"))
    with records_app.app_context():
        keystore.keystore().lock()
    for _ in range(5):
        client.submit("/admin/keys", {"passphrase": "not the right one at all"})
    response = client.submit("/admin/keys", {"passphrase": TEST_PASSPHRASE})
    assert "Too many wrong passphrases" in response.get_data(as_text=True)
    with records_app.app_context():
        assert not keystore.keystore().unlocked


def test_the_ledger_is_for_admins(records_app, login_as, make_user, people, uuid):
    from core import ledger, records
    from tests.conftest import load_testimony

    with records_app.app_context():
        entry = ledger.record_sent(load_testimony(records_app, uuid), audience="hub",
                                   recipient="hub-node-id", payload_hash="a" * 64,
                                   policy_hash="b" * 64, consent_id=None)
        db.session.commit()
        assert ledger.attach_receipt(recipient="hub-node-id", record_uuid=uuid, version=1,
                                     receipt='{"signed": "x"}') == 1
        db.session.commit()
        assert entry.receipt_at is not None
        assert records.find  # the ledger names records by id only
    page = login_as(make_user("nour", role="admin")).get("/admin/ledger").get_data(as_text=True)
    assert uuid[:8] in page and "hub-node-id"[:16] in page
    assert login_as(people[1]).get("/admin/ledger").status_code == 403
    assert date.today()  # pages render dates; no value of the record is shown
    assert "Salma" not in page


def test_every_consent_problem_is_told_at_once_next_to_its_field(records_app, login_as, people,
                                                                 uuid):
    form = consent_form(audiences=[], purposes=[], obtained_on="2099-01-01",
                        given_by="representative", representative="")
    page = login_as(people[0]).submit(url(uuid, "consent"), form).get_data(as_text=True)
    for name, message in [("audiences", "at least one audience"),
                          ("purposes", "at least one purpose"),
                          ("obtained_on", "cannot be in the future"),
                          ("representative", "on her behalf")]:
        errors = re.search(rf'<ul class="errors" id="{name}-errors">(.*?)</ul>', page, re.S)
        assert errors and message in errors.group(1), name
    # A date the form cannot read is told too, beside the others.
    page = login_as(people[0]).submit(
        url(uuid, "consent"), consent_form(audiences=[], obtained_on="yesterday"),
    ).get_data(as_text=True)
    assert "Not a valid date" in page and "at least one audience" in page
    assert count(records_app, Consent) == 0
