"""A new case of a defender who already has one: the documenter is told, by reference."""

import re

from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry
from tests.plugins.cases.conftest import case_form


def new_case(client, **overrides):
    response = client.submit("/cases/new", case_form(**overrides))
    assert response.status_code == 302
    return response.location.rsplit("/", 1)[1]


def reference_of(app, uuid):
    from plugins.cases.models import Case

    with app.app_context():
        return db.session.scalar(select(Case).where(Case.uuid == uuid)).reference


def told(client, uuid) -> str:
    page = client.get(f"/cases/{uuid}").get_data(as_text=True)
    return " ".join(re.findall(r'<p class="flash info"[^>]*>(.*?)</p>', page, re.S))


def test_a_second_case_of_the_same_name_is_flagged(app, people, login_as):
    client = login_as(people["salma"])
    first = new_case(client, **{"defender-real_name": "Salma Ben Ali"})
    page = client.get(f"/cases/{first}").get_data(as_text=True)
    assert "already has a case" not in page
    second = new_case(client, **{"defender-real_name": "  SALMA ben   Ali "})
    flash = told(client, second)
    assert "A defender with the same name already has a case" in flash
    assert reference_of(app, first) in flash and reference_of(app, second) not in flash
    other = new_case(client, **{"defender-real_name": "Huda Trabelsi"})
    assert "already has a case" not in client.get(f"/cases/{other}").get_data(as_text=True)
    with app.app_context():  # each look-up is an audited identifying search
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert actions.count("record.identifying_searched") == 3


def test_a_case_she_may_not_open_is_not_named(app, people, login_as, make_user):
    first = new_case(login_as(people["salma"]), restricted="y", assigned_to=str(people["salma"].id),
                     **{"defender-real_name": "Salma Ben Ali"})
    rim = login_as(make_user("rim", role="documenter"))
    second = new_case(rim, **{"defender-real_name": "Salma Ben Ali"})
    flash = told(rim, second)
    assert "already has a case" not in flash and reference_of(app, first) not in flash
