"""Open texts at rest: a canary name typed into every open text of 1,000 cases (and into the
defender's name field) is found 0 times in the SQLite file, its WAL and its dump, and in a
pg_dump of the PostgreSQL schema; a reader with the permission still reads it as written,
everyone else its scrubbed form; what leaves is redacted from the text as written."""

from datetime import date

import pytest
from sqlalchemy import func, select

from core import records
from core.extensions import db
from core.testing import all_databases, database_copies
from tests.plugins.cases.conftest import case_form

RECORDS = 1000
THROUGH_THE_FORM = 4  # of them typed in the case form, the rest written as an import does
LETTERS = "ابتثجحخدذر"  # the number in Arabic letters: the Arabic canary has no digits


def canary(number: int) -> tuple[str, str]:
    """The defender's name in Latin and in Arabic letters: unique words no text holds else."""
    return f"Qzxcanary{number:04d}", "قزكناري" + "".join(LETTERS[int(d)] for d in f"{number:04d}")


def typed_texts(number: int) -> dict:
    """Every open text of a case, each quoting the name as documenters write it: whole, one
    part alone, lower case, with an Arabic conjunction, inside a sentence or a title."""
    latin, arabic = canary(number)
    return {
        "title": f"Summons of {latin} {arabic}",
        "summary": f"{latin.lower()} was summoned twice; و{arabic} refused to sign.",
        "pseudonym": f"{latin} {arabic}",  # the real name typed where a pseudonym belongs
        "narratives": [f"On the 14th the police questioned {latin} for six hours.",
                       f"استدعت الشرطة {arabic} مرة أخرى."],
    }


def write_imported(app, numbers):
    """Cases written as imports and sample data are: attributes set, then one batch save."""
    from plugins.cases import sample
    from plugins.cases.models import Case, Defender, Incident

    with app.test_request_context():
        batch = []
        for number in numbers:
            texts = typed_texts(number)
            case = records.new(Case, None)
            case.title, case.summary = texts["title"], texts["summary"]
            case.defender = Defender(pseudonym=texts["pseudonym"], gender="woman")
            records.set_identifying(case, case.defender, "real_name", " ".join(canary(number)))
            for narrative in texts["narratives"]:
                case.incidents.append(Incident(occurred_on=date(2025, 3, 14), place="TN-61",
                                               violation="judicial-harassment",
                                               narrative=narrative))
            batch.append(case)
            if len(batch) == 250:
                sample.save(batch)
                batch = []
        sample.save(batch)


def write_through_the_form(client, number: int) -> str:
    texts = typed_texts(number)
    fields = case_form(**{
        "title": texts["title"], "summary": texts["summary"],
        "defender-pseudonym": texts["pseudonym"], "defender-real_name": " ".join(canary(number)),
        "incidents-0-narrative": "Nothing yet.",
    })
    response = client.submit("/cases/new", fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    uuid = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    # then edited: the narrative is typed in the second time round
    fields["incidents-0-narrative"] = texts["narratives"][0]
    fields["incidents-0-uuid"] = _incident_uuid(client.application, uuid)
    assert client.submit(f"/cases/{uuid}/edit", fields).status_code == 302
    return uuid


def _incident_uuid(app, uuid: str) -> str:
    from plugins.cases.models import Case

    with app.app_context():
        return db.session.scalar(select(Case).where(Case.uuid == uuid)).incidents[0].uuid


MARKERS = ["qzxcanary", "قزكناري"]


def assert_no_canary(blob: bytes, where: str) -> None:
    lowered = blob.lower()
    for marker in MARKERS:
        assert marker.encode() not in lowered, f"a canary ({marker!r}) is readable in {where}"


def test_the_canary_check_can_fail():
    with pytest.raises(AssertionError, match="readable in"):
        assert_no_canary(typed_texts(7)["summary"].encode(), "a text")
    with pytest.raises(AssertionError, match="readable in"):
        assert_no_canary(typed_texts(7)["narratives"][1].encode(), "a text")


@pytest.mark.slow
@all_databases
def test_no_canary_typed_in_an_open_text_is_readable_at_rest(app, people, login_as,
                                                            database_url):
    from plugins.cases.models import Case

    salma = login_as(people["salma"])
    by_form = {number: write_through_the_form(salma, number) for number in range(THROUGH_THE_FORM)}
    write_imported(app, range(THROUGH_THE_FORM, RECORDS))

    copies = database_copies(database_url)
    for where, blob in copies.items():
        assert_no_canary(blob, where)
    assert b"cases_case" in copies.get("the dump", copies.get("pg_dump"))
    assert b"was summoned twice" in copies.get("the dump", copies.get("pg_dump"))  # scrubbed form

    with app.test_request_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == RECORDS
        # a reader with the permission reads each text as written
        for number in (0, 1, RECORDS // 2, RECORDS - 1):
            case = db.session.scalar(select(Case).order_by(Case.id).offset(number).limit(1))
            texts = typed_texts(number)
            shown = records.values(case, identifying=True)
            assert (shown["title"], shown["summary"]) == (texts["title"], texts["summary"])
            assert shown["defender"]["pseudonym"] == texts["pseudonym"]
            narratives = [incident["narrative"] for incident in shown["incidents"]]
            assert narratives == (texts["narratives"][:1] if number in by_form
                                  else texts["narratives"])
            # what leaves starts from the text as written, then is scrubbed
            payload = records.redaction(case, "peers").payload
            assert payload["incidents"][0]["narrative"] == \
                "On the 14th the police questioned [redacted] for six hours."
            assert payload["summary"].startswith("[redacted] was summoned twice;")
            assert not any(marker in str(payload).lower() for marker in MARKERS)

    uuid = by_form[1]
    as_written = salma.get(f"/cases/{uuid}").get_data(as_text=True)
    assert "Summons of Qzxcanary0001" in as_written
    assert "questioned Qzxcanary0001 for six hours" in as_written
    edit_form = salma.get(f"/cases/{uuid}/edit").get_data(as_text=True)
    assert typed_texts(1)["summary"] in edit_form.replace("&#39;", "'")
    member = login_as(people["amina"])
    for path in (f"/cases/{uuid}", "/cases/", "/cases/?q=questioned", "/cases/?q=qzxcanary0001",
                 "/search?q=summoned"):
        page = member.get(path).get_data(as_text=True).lower()
        assert "qzxcanary" not in page and "قزكناري" not in page, path
    assert "questioned [redacted] for six hours" in member.get(f"/cases/{uuid}").get_data(
        as_text=True)
    for client in (member, salma):  # nobody finds a case by a name typed in its texts
        assert "0 cases" in client.get("/cases/?q=qzxcanary0001").get_data(as_text=True)
