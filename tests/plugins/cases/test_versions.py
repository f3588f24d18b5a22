"""Version 2 of ``cases.case`` (each incident's legal basis invoked), rolled out on a node
whose shared cases are approved: an unchanged payload keeps its approval, a changed one is
queued for review with the difference shown; the stored records are upgraded once."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from core import consent, records, review
from core.extensions import db
from core.models import Approval
from core.redaction import redact
from core.testing import all_databases
from plugins.cases.models import Case
from tests.fixtures.previous.cases import CaseSchemaV1
from tests.plugins.cases.test_views import create

CITES = "Salma Ben Ali was charged under décret-loi n° 2022-54 after her interview."
CITES_NOTHING = "Salma Ben Ali was questioned for six hours about her interview."
AUDIENCES = ("peers", "hub")


def shared(app, client, reviewer, narrative: str) -> str:
    """A case written through the form, consented to and approved for peers and the hub."""
    uuid = create(client, **{"incidents-0-narrative": narrative})
    with app.test_request_context():
        case = load(uuid)
        consent.record(case, user=reviewer, given_by="defender", method="oral",
                       audiences=list(AUDIENCES), purposes=["advocacy"],
                       obtained_on=date(2026, 1, 1))
        for audience in AUDIENCES:
            review.approve(case, audience, _user(reviewer))
    return uuid


def _user(person):
    from core.models import User

    return db.session.get(User, person.id)


def load(uuid: str) -> Case:
    return db.session.scalar(select(Case).where(Case.uuid == uuid))


def approvals_of(uuid: str) -> list[Approval]:
    return list(db.session.scalars(select(Approval).where(Approval.record_uuid == uuid)
                                   .order_by(Approval.id)))


@all_databases
def test_adding_the_legal_basis_keeps_unchanged_approvals_and_queues_the_others(
        app, people, login_as):
    documenter, reviewer = people["salma"], people["huda"]
    client = login_as(documenter)
    citing = shared(app, client, reviewer, CITES)
    silent = shared(app, client, reviewer, CITES_NOTHING)

    with app.test_request_context():
        # Before the upgrade, an empty legal basis is left out: what leaves is exactly what
        # version 1 of the record type made, so the approvals given stand.
        for uuid in (citing, silent):
            case = load(uuid)
            for audience in AUDIENCES:
                now = records.redaction(case, audience)
                assert "legal_basis" not in now.payload["incidents"][0]
                before = redact(records.values(case, identifying=True), CaseSchemaV1(),
                                audience, records.policy_for(case, audience))
                assert now.payload_hash == before.payload_hash
                assert review.shareable(case, audience)
        assert records.stored_version(records.record_types().get("cases.case")) == 1

        assert records.upgrade() == {"cases.case": (1, 2)}
        assert records.upgrade() == {}  # once

        unchanged = load(silent)
        assert unchanged.version == 1 and not unchanged.incidents[0].legal_basis
        assert all(review.shareable(unchanged, audience) for audience in AUDIENCES)
        assert all(a.revoked_at is None for a in approvals_of(silent))

        changed = load(citing)
        assert changed.version == 2
        assert changed.incidents[0].legal_basis == ["tn-decree-law-2022-54"]
        assert [review.shareable(changed, a).reason for a in AUDIENCES] == ["not-approved"] * 2
        assert [a.revoked_because for a in approvals_of(citing)] == ["type-changed"] * 2
        # A version no known person wrote: a documenter checks it before anyone approves.
        assert "No one else is known" in review.why_not_approver(changed, "hub", _user(reviewer))
        queued = review.changed_since_approval(changed, "hub",
                                               records.redaction(changed, "hub").payload)
        assert queued.because == "type-changed" and queued.version == 1
        assert [(d.path, d.before, d.after) for d in queued.differences] == [
            ("incidents.1.legal_basis", None, ["tn-decree-law-2022-54"])]

    page = login_as(reviewer).get(f"/records/cases.case/{citing}/review").get_data(as_text=True)
    assert "What changed since it was approved" in page
    assert 'id="changes-hub"' in page and "incidents.1.legal_basis" in page
    # in words: the field by its label, the law by its name, not its code
    changes = re.sub(r"<[^>]+>", "", page[page.index('id="changes-hub"'):].split("</table>")[0])
    assert "Decree-Law No. 2022-54" in changes and "tn-decree-law-2022-54" not in changes
    quiet = login_as(reviewer).get(f"/records/cases.case/{silent}/review").get_data(as_text=True)
    assert "What changed since it was approved" not in quiet


def test_an_edit_shows_what_changed_since_the_approval(app, people, login_as):
    documenter, reviewer = people["salma"], people["huda"]
    uuid = shared(app, login_as(documenter), reviewer, CITES_NOTHING)
    with app.test_request_context():
        case = load(uuid)
        case.incidents[0].legal_basis = ["tn-decree-law-2022-54"]
        case.risk = "critical"
        records.save(case, _user(documenter))
        case = load(uuid)
        queued = review.changed_since_approval(case, "peers",
                                               records.redaction(case, "peers").payload)
    assert queued.because == "payload-changed"
    assert {d.path for d in queued.differences} == {"risk", "incidents.1.legal_basis"}
    page = login_as(reviewer).get(f"/records/cases.case/{uuid}/review").get_data(as_text=True)
    changes = re.sub(r"<[^>]+>", "", page[page.index('id="changes-peers"'):].split("</table>")[0])
    assert "Critical" in changes and "Risk level" in changes


def test_an_ended_consent_drops_the_approved_payloads(app, people, login_as):
    documenter, reviewer = people["salma"], people["huda"]
    uuid = shared(app, login_as(documenter), reviewer, CITES_NOTHING)
    with app.test_request_context():
        case = load(uuid)
        assert all(a.payload for a in approvals_of(uuid))
        assert b"Olive" not in b"".join(a.payload for a in approvals_of(uuid))  # sealed
        consent.withdraw(consent.current(case), reason="defender-request", user=_user(reviewer))
        db.session.commit()
        assert [a.payload for a in approvals_of(uuid)] == [None, None]


@pytest.mark.parametrize("narrative, cited", [
    ("arrêtée en vertu du décret-loi 2022-54", ["tn-decree-law-2022-54"]),
    ("بموجب المرسوم عدد ٥٤ لسنة ٢٠٢٢", ["tn-decree-law-2022-54"]),
    ("poursuivie selon le décret 54/2022", ["tn-decree-law-2022-54"]),
    ("questioned on 2022-05-14 about 54 posts", []),
    ("article 154 of 2022's budget", []),
    ("", []),
])
def test_the_upgrade_proposes_only_laws_the_narrative_cites(app, people, login_as, narrative,
                                                             cited):
    uuid = create(login_as(people["salma"]), **{"incidents-0-narrative": narrative})
    with app.test_request_context():
        from plugins.cases.upgrades import propose_legal_basis

        case = load(uuid)
        assert propose_legal_basis(case) is bool(cited)
        assert (case.incidents[0].legal_basis or []) == cited
