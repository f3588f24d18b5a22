"""Deleting a case (a reason, audited, its consent withdrawn so holders delete their copies)
and merging a duplicate into the case it repeats."""

from sqlalchemy import func, select

from core import records
from core.extensions import db
from core.models import AuditEntry, Consent
from plugins.cases import store
from plugins.cases.models import Case, Task
from tests.plugins.cases.conftest import case_form
from tests.plugins.cases.test_workflow import give_consent, make_case


def count(app, model=Case):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def audit_of(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def delete(client, uuid, reason):
    return client.submit(f"/cases/{uuid}/delete", {"delete-reason": reason,
                                                   "delete-submit": "1"})


def test_her_case_is_deleted_with_a_reason_and_counted_no_more(app, people, login_as):
    salma = login_as(people["salma"])
    uuid = make_case(app, salma)
    with app.app_context():
        assert sum(store.counts_by_status(_user(people["salma"])).values()) == 1
    assert delete(salma, uuid, "whim").status_code == 400
    assert count(app) == 1
    other = login_as(people["amina"])  # a member: may not edit at all
    assert other.get(f"/cases/{uuid}/delete").status_code == 403
    answer = delete(salma, uuid, "recorded-in-error")
    assert answer.status_code == 302
    assert count(app) == 0 and count(app, Task) == 0
    entry = audit_of(app, "cases.deleted")[0]
    assert entry.target_id == uuid and "recorded-in-error" in str(entry.details)
    with app.app_context():
        assert sum(store.counts_by_status(_user(people["salma"])).values()) == 0
    assert salma.get(f"/cases/{uuid}").status_code == 404


def _user(person):
    from core.models import User

    return db.session.get(User, person.id)


def test_another_documenter_may_not_delete_her_case(app, people, login_as, make_user):
    uuid = make_case(app, login_as(people["salma"]))
    rim = login_as(make_user("rim", role="documenter"))
    assert rim.get(f"/cases/{uuid}/delete").status_code == 403
    assert rim.submit(f"/cases/{uuid}/delete", {"delete-reason": "other"},
                      page=f"/cases/{uuid}").status_code == 403
    assert count(app) == 1


def test_a_shared_case_is_withdrawn_before_it_goes(app, people, login_as):
    salma = login_as(people["salma"])
    uuid = make_case(app, salma)
    give_consent(app, uuid, people["salma"].id)
    assert "It was shared" not in salma.get(f"/cases/{uuid}/delete").get_data(as_text=True)
    assert delete(salma, uuid, "defender-request").status_code == 302
    with app.app_context():
        ended = db.session.scalar(select(Consent).where(Consent.record_uuid == uuid))
        assert ended.end == "withdrawn" and ended.end_reason == "defender-request"
    assert count(app) == 0


def test_a_duplicate_is_merged_into_the_case_it_repeats(app, people, login_as):
    salma = login_as(people["salma"])
    kept = make_case(app, salma)
    duplicate_response = salma.submit("/cases/new", case_form(**{
        "incidents-0-violation": "travel-ban", "incidents-0-place": "TN-11",
        "incidents-0-narrative": "Stopped at the airport on her way to Geneva.",
        "interventions-0-kind": "medical", "interventions-0-notes": "Seen by Dr Example."}))
    duplicate = duplicate_response.location.rsplit("/", 1)[1]
    salma.submit(f"/cases/{duplicate}/tasks", {"description": "Call her sister"},
                 page=f"/cases/{duplicate}")
    with app.app_context():
        reference = db.session.scalar(select(Case).where(Case.uuid == kept)).reference
    page = f"/cases/{duplicate}/delete"
    wrong = salma.submit(page, {"merge-reference": "C-NOPE", "merge-submit": "1"})
    assert wrong.status_code == 400 and count(app) == 2
    itself = salma.submit(page, {"merge-reference": _reference_of(app, duplicate),
                                 "merge-submit": "1"})
    assert itself.status_code == 400 and count(app) == 2
    merged = salma.submit(page, {"merge-reference": reference.lower(), "merge-submit": "1"})
    assert merged.status_code == 302 and merged.location.endswith(kept)
    assert count(app) == 1
    with app.test_request_context():
        case = db.session.scalar(select(Case))
        assert sorted(i.violation for i in case.incidents) == ["judicial-harassment",
                                                               "travel-ban"]
        assert sorted(i.kind for i in case.interventions) == ["legal-aid", "medical"]
        said = records.values(case, identifying=True)
        assert "Stopped at the airport on her way to Geneva." in str(said)
        assert "Seen by Dr Example." in str(said)
        assert [records.identifying_value(case, t, "description") for t in case.tasks] == [
            "Call her sister"]
    assert audit_of(app, "cases.merged") and audit_of(app, "cases.deleted")
    assert "Geneva" in salma.get(f"/cases/{kept}").get_data(as_text=True)


def _reference_of(app, uuid):
    with app.app_context():
        return db.session.scalar(select(Case).where(Case.uuid == uuid)).reference
