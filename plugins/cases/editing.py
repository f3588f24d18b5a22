"""Between the case form and the case: choices from the vocabularies and the gazetteer, the
form filled from a case, and a case changed from a form (identifying values sealed; open texts
sealed as written by the save, their columns keeping their scrubbed form)."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from wtforms import SelectChoice

from core import records
from core.extensions import db
from core.i18n import language
from core.models import User
from core.permissions import ADMIN, DOCUMENTER, REVIEWER
from core.places import GOVERNORATE, LOCALITY, gazetteer
from core.vocabularies import vocabulary

from . import terms
from .forms import CaseForm
from .models import Case, Defender, Incident, Intervention

DEFENDER_IDENTIFYING = ("real_name", "contacts", "address", "organisation")
INCIDENT_IDENTIFYING = ("place_detail", "perpetrator_identity", "sources", "source_reliability")


def prepare(form: CaseForm, case: Case | None = None) -> CaseForm:
    """Give the form its choices, in the page's language (``case``: the one being edited,
    whose assigned documenter stays a choice even if her account was disabled since)."""
    locale = language()
    places = place_choices(locale)
    violations = violation_choices(locale)
    perpetrators = [SelectChoice("", "—")] + [
        SelectChoice(t.code, t.label(locale)) for t in vocabulary(terms.PERPETRATORS)
    ]
    form.defender.activism.choices = [
        SelectChoice(t.code, t.label(locale)) for t in vocabulary(terms.ACTIVISM)
    ]
    form.defender.residence.choices = places
    for entry in form.incidents:
        entry.place.choices = places
        entry.violation.choices = violations
        entry.perpetrator_type.choices = perpetrators
    form.assigned_to.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(user.id), user.username) for user in _assignable(case)
    ]
    return form


def _assignable(case: Case | None) -> list[User]:
    """Active documenters, reviewers and administrators, and whoever the case has now."""
    current = case.assigned_to_id if case is not None else None
    return list(db.session.scalars(
        select(User).where(or_(User.id == current, and_(
            User.role.in_((DOCUMENTER, REVIEWER, ADMIN)), User.disabled_at.is_(None))))
        .order_by(User.username)))


def place_choices(locale: str) -> list[SelectChoice]:
    places = gazetteer()
    found = [SelectChoice("", "—")]
    for governorate in sorted(places.of_kind(GOVERNORATE), key=lambda p: p.name(locale)):
        group = governorate.name(locale)
        found.append(SelectChoice(governorate.code, group, optgroup=group))
        for locality in sorted(places.of_kind(LOCALITY, within=governorate.code),
                               key=lambda p: p.name(locale)):
            found.append(SelectChoice(locality.code, locality.name(locale), optgroup=group))
    return found


def violation_choices(locale: str) -> list[SelectChoice]:
    return _violation_choices(vocabulary(terms.VIOLATIONS), locale)


@lru_cache(maxsize=16)
def _violation_choices(taxonomy, locale: str) -> list[SelectChoice]:
    """Built once per taxonomy (each app has its own) and language."""
    found = [SelectChoice("", "—")]
    for category in taxonomy.roots():
        for term in taxonomy.children(category.code):
            found.append(SelectChoice(term.code, term.label(locale),
                                      optgroup=category.label(locale)))
    return found


def fill(form: CaseForm, case: Case, revealed: dict) -> None:
    """Fill an edit form from a case; ``revealed`` holds its identifying values and its open
    texts as written (the case's columns hold only their scrubbed form)."""
    form.title.data, form.summary.data = revealed.get("title"), revealed.get("summary")
    form.status.data, form.risk.data = case.status, case.risk
    form.restricted.data = case.restricted
    form.assigned_to.data = str(case.assigned_to_id or "")
    defender = case.defender
    if defender is not None:
        sub = form.defender.form
        sub.pseudonym.data = (revealed.get("defender") or {}).get("pseudonym") or ""
        sub.gender.data = defender.gender or ""
        sub.age.data, sub.activism.data = defender.age, defender.activism or []
        sub.residence.data = defender.residence or ""
        for name in DEFENDER_IDENTIFYING:
            getattr(sub, name).data = (revealed.get("defender") or {}).get(name) or ""
    _fill_list(form.incidents, case.incidents, revealed.get("incidents") or [],
               ("occurred_on", "place", "violation", "perpetrator_type"),
               ("narrative", *INCIDENT_IDENTIFYING))
    _fill_list(form.interventions, case.interventions, revealed.get("interventions") or [],
               ("kind", "status", "started_on", "ended_on"), ("notes",))


def _fill_list(field_list, rows, revealed_rows, plain, identifying) -> None:
    while len(field_list.entries):
        field_list.pop_entry()
    by_uuid = {item.get("uuid"): item for item in revealed_rows}
    for row in rows:
        entry = field_list.append_entry().form
        entry.uuid.data = row.uuid
        for name in plain:
            value = getattr(row, name)
            getattr(entry, name).data = value if value is not None else ""
            if name.endswith("_on"):
                getattr(entry, name).data = value
        for name in identifying:
            getattr(entry, name).data = by_uuid.get(row.uuid, {}).get(name) or ""
    field_list.append_entry()  # one empty row to add another


def check(form: CaseForm, case: Case | None, user) -> bool:
    """Checks beyond single fields: codes must be known, and only those entitled restrict a
    case or choose who it is assigned to. Adds the errors to the form."""
    ok = _check_access(form, case, user)
    violations, places = terms.violation_codes(), gazetteer()
    perpetrators = vocabulary(terms.PERPETRATORS)
    activism = vocabulary(terms.ACTIVISM)
    defender = form.defender.form
    if any(code not in activism for code in defender.activism.data or []):
        defender.activism.errors.append(_("Unknown field of activism."))
        ok = False
    if defender.residence.data and defender.residence.data not in places:
        defender.residence.errors.append(_("Unknown place."))
        ok = False
    kept = 0
    for entry in form.incidents:
        sub = entry.form
        if sub.remove.data or sub.is_blank():
            continue
        kept += 1
        if sub.violation.data not in violations:
            sub.violation.errors.append(_("Choose a violation from the list."))
            ok = False
        if sub.place.data and sub.place.data not in places:
            sub.place.errors.append(_("Unknown place."))
            ok = False
        if sub.perpetrator_type.data and sub.perpetrator_type.data not in perpetrators:
            sub.perpetrator_type.errors.append(_("Unknown perpetrator type."))
            ok = False
    if kept == 0:
        form.incidents.errors.append(_("Describe at least one incident."))
        ok = False
    return ok


def may_change_access(case: Case | None, user) -> bool:
    """Who may restrict a case or choose its assigned documenter: reviewers and
    administrators, its author, its assigned documenter, and anyone writing a new case."""
    if case is None or user.role in (ADMIN, REVIEWER):
        return True
    return user.id in (case.author_id, case.assigned_to_id)


def _check_access(form: CaseForm, case: Case | None, user) -> bool:
    restricted, assigned = bool(form.restricted.data), _assigned_id(form)
    unchanged = case is not None and (case.restricted, case.assigned_to_id) == (restricted,
                                                                                assigned)
    if unchanged:
        return True
    if not may_change_access(case, user):
        form.restricted.errors.append(_(
            "Only the case's author, its assigned documenter, a reviewer or an administrator "
            "can restrict it or change who it is assigned to."))
        return False
    if restricted and user.role not in (ADMIN, REVIEWER) and assigned != user.id:
        form.assigned_to.errors.append(_(
            "You could no longer open this restricted case: assign it to yourself, or ask a "
            "reviewer to restrict it."))
        return False
    return True


def _assigned_id(form: CaseForm) -> int | None:
    """The chosen user's id; the field only accepts the offered choices (ids or empty)."""
    return int(form.assigned_to.data) if form.assigned_to.data else None


def apply(case: Case, form: CaseForm) -> None:
    """Change ``case`` to what the (checked) form says; identifying values are sealed."""
    case.title, case.summary = form.title.data.strip(), form.summary.data or ""
    case.status, case.risk = form.status.data, form.risk.data
    case.restricted = bool(form.restricted.data)
    case.assigned_to_id = _assigned_id(form)
    _apply_defender(case, form.defender.form)
    _apply_list(case, case.incidents, Incident, form.incidents, _apply_incident)
    _apply_list(case, case.interventions, Intervention, form.interventions, _apply_intervention)


def _apply_defender(case: Case, sub) -> None:
    if case.defender is None:
        case.defender = Defender()
    defender = case.defender
    defender.pseudonym = sub.pseudonym.data.strip()
    defender.gender = sub.gender.data or None
    defender.age = sub.age.data
    defender.activism = list(sub.activism.data or [])
    defender.residence = sub.residence.data or None
    for name in DEFENDER_IDENTIFYING:
        records.set_identifying(case, defender, name, (getattr(sub, name).data or "").strip())


def _apply_incident(case: Case, incident: Incident, sub) -> None:
    incident.occurred_on = sub.occurred_on.data
    incident.place = sub.place.data or None
    incident.violation = sub.violation.data
    incident.perpetrator_type = sub.perpetrator_type.data or None
    incident.narrative = sub.narrative.data or ""
    for name in INCIDENT_IDENTIFYING:
        records.set_identifying(case, incident, name, (getattr(sub, name).data or "").strip())


def _apply_intervention(case: Case, intervention: Intervention, sub) -> None:
    intervention.kind, intervention.status = sub.kind.data, sub.status.data
    intervention.started_on, intervention.ended_on = sub.started_on.data, sub.ended_on.data
    records.set_identifying(case, intervention, "notes", (sub.notes.data or "").strip())


def _apply_list(case, rows, model, field_list, apply_one) -> None:
    existing = {row.uuid: row for row in rows}
    for entry in field_list:
        sub = entry.form
        row = existing.get(sub.uuid.data) if sub.uuid.data else None
        if sub.remove.data or sub.is_blank():
            if row is not None:
                rows.remove(row)
            continue
        if row is None:
            row = model()
            rows.append(row)
        apply_one(case, row, sub)
