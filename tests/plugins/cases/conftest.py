"""Fixtures for the cases plugin's tests: a node with cases, Tunisia's places, people."""

import pytest

CASES = ["plugins.cases", "plugins.country_tn"]


@pytest.fixture
def app(make_app):
    """Every fixture (users, sign-in) works on a node with the cases plugin, unlocked."""
    return make_app(PLUGINS=CASES, unlocked=True)


@pytest.fixture
def people(make_user):
    return {
        "salma": make_user("salma", role="documenter"),
        "huda": make_user("huda", role="reviewer"),
        "amina": make_user("amina", role="member"),
        "nour": make_user("nour", role="admin"),
    }


@pytest.fixture
def make_cases(app):
    """Write fictional cases: ``make_cases(20, seed=3)``; returns their uuids."""
    from sqlalchemy import select

    from core.extensions import db
    from plugins.cases.models import Case
    from plugins.cases.sample import create

    def factory(count: int, seed: int = 0) -> list[str]:
        with app.app_context():
            before = set(db.session.scalars(select(Case.uuid)))
            create(count, seed=seed)
            return [u for u in db.session.scalars(select(Case.uuid).order_by(Case.id))
                    if u not in before]

    return factory


def case_form(**overrides) -> dict:
    """A valid filled case form, as a browser would send it."""
    data = {
        "title": "Summons after a radio interview",
        "summary": "Olive was summoned twice after speaking on the radio.",
        "status": "open", "risk": "high", "assigned_to": "",
        "defender-pseudonym": "Olive", "defender-real_name": "Salma Ben Ali",
        "defender-contacts": "+216 20 123 456", "defender-address": "12 rue de Marseille, Sfax",
        "defender-organisation": "Association des femmes", "defender-gender": "woman",
        "defender-age": "34", "defender-activism": ["womens-rights", "journalism"],
        "defender-residence": "TN-61:sakiet-ezzit",
        "incidents-0-occurred_on": "2025-03-14", "incidents-0-place": "TN-61",
        "incidents-0-place_detail": "Police station of Sakiet Ezzit",
        "incidents-0-violation": "judicial-harassment",
        "incidents-0-perpetrator_type": "police",
        "incidents-0-perpetrator_identity": "Commissioner Example",
        "incidents-0-narrative": "Salma Ben Ali was questioned for six hours about her interview.",
        "incidents-0-sources": "Interview with her", "incidents-0-source_reliability": "reliable",
        "interventions-0-kind": "legal-aid", "interventions-0-status": "ongoing",
        "interventions-0-started_on": "2025-03-20", "interventions-0-ended_on": "",
        "interventions-0-notes": "Lawyer assigned.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
