"""What partners shared, on the receiving node's pages: read by its people, gone when the
defender's consent ends, and nothing identifying on the way."""

from sqlalchemy import update

from core import clock
from core.extensions import db
from federation.models import HeldRecord
from tests.federation.conftest import withdraw


def test_a_member_reads_what_a_partner_shared_and_not_who_it_names(shared):
    member = shared.member()
    assert "Shared with us" in member.get("/").get_data(as_text=True)
    listing = member.get("/federation/shared").get_data(as_text=True)
    assert shared.uuid[:8] in listing and "tunis" in listing  # the name her admin gave it
    page = member.get(shared.url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Summons after a radio interview" in text and "[redacted]" in text
    assert "Salma" not in text and "Ben Ali" not in text and "teller" not in text
    assert "2025-03" in text and "2025-03-14" not in text  # the date left coarsened
    assert "<script" not in text


def test_the_shared_pages_speak_arabic(shared):
    with shared.sfax.context():
        shared.sfax.user(shared.member_id).locale = "ar"
        db.session.commit()
    page = shared.member().get("/federation/shared").get_data(as_text=True)
    assert 'dir="rtl"' in page and "ما شُورك معنا" in page and "عند المزامنة التالية" in page


def test_a_withdrawn_record_leaves_the_pages_at_the_next_sync(shared):
    member = shared.member()
    withdraw(shared.tunis, shared.uuid, shared.author)
    shared.sfax.sync()
    assert member.get(shared.url).status_code == 404
    assert shared.uuid[:8] not in member.get("/federation/shared").get_data(as_text=True)


def test_a_record_whose_consent_lapsed_here_is_not_shown_before_the_purge(shared):
    with shared.sfax.context():
        db.session.execute(update(HeldRecord).where(HeldRecord.record_id == shared.uuid)
                           .values(expires_on=clock.now().date()))
        db.session.commit()
    member = shared.member()
    assert member.get(shared.url).status_code == 404
    assert shared.uuid[:8] not in member.get("/federation/shared").get_data(as_text=True)


def test_the_shared_pages_need_signing_in_and_refuse_unknown_ids(shared):
    stranger = shared.sfax.app.test_client()
    assert stranger.get("/federation/shared").status_code == 302
    assert stranger.get(shared.url).status_code == 302
    member, uuid, tunis = shared.member(), shared.uuid, shared.tunis
    forged = uuid[:-1] + ("0" if uuid[-1] != "0" else "1")
    assert member.get(f"/federation/shared/{tunis.node_id}/{forged}").status_code == 404
    assert member.get(f"/federation/shared/{shared.sfax.node_id}/{uuid}").status_code == 404
    assert member.get(f"{shared.url}x").status_code == 404
    assert member.get(f"/federation/shared/{'a' * 40}/{uuid}").status_code == 404


def test_a_shared_case_is_read_in_words_labels_and_places_named(make_app):
    """A cases payload, as redaction makes it for peers, read on a node that has the cases
    plugin: field labels, vocabulary codes and places named in her language."""
    import random

    from core import records
    from federation.shared import SharedRecord, readable
    from plugins.cases import sample

    app = make_app(PLUGINS=["plugins.cases", "plugins.country_tn", "federation"], unlocked=True)
    with app.test_request_context():
        case = sample.build(random.Random(3))
        case.incidents[0].violation, case.incidents[0].place = "travel-ban", "TN-61"
        case.status = "monitoring"
        sample.save([case])
        payload = records.redaction(case, "peers").payload
        record = SharedRecord("o" * 10, case.uuid, "cases.case", 1, clock.now(), False, None,
                              payload)
        arabic, english = flatten(readable(record, "ar")), flatten(readable(record, "en"))
    assert "Violation" in english and "Travel ban" in english and "Monitoring" in english
    assert "Sfax" in english and "TN-61" not in english
    assert "travel-ban" not in english and "monitoring" not in english
    assert "صفاقس" in arabic and "Sfax" not in arabic
    # A field this node's schema does not know (a newer version's) is shown as sent.
    with app.test_request_context():
        shown = readable(SharedRecord("o" * 10, case.uuid, "cases.case", 1, clock.now(), False,
                                      None, {**payload, "new_field": "TN-61"}), "en")
        unknown = readable(SharedRecord("o" * 10, case.uuid, "other.kind", 1, clock.now(),
                                        False, None, {"place": "TN-61"}), "en")
    assert ("new field", "TN-61") in [(s.label, s.value) for s in shown]
    assert [(s.label, s.value) for s in unknown] == [("place", "TN-61")]


def flatten(shown) -> str:
    """Every label and value of a readable payload, as one text."""
    parts = []
    for item in shown if isinstance(shown, list) else [shown]:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, list):
            parts.append(flatten(item))
        else:
            parts.extend([item.label, flatten(item.value) if isinstance(item.value, list)
                          else item.value])
    return " | ".join(parts)
