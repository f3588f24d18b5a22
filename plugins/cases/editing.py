"""Between the case form and the case: choices from the vocabularies and the gazetteer, the
form filled from a case, and a case changed from a form (identifying values sealed; open texts
sealed as written by the save, their columns keeping their scrubbed form).

Everything per field walks the schema (``core.declaration``): a field added to the schema,
the model and the form is filled, saved, offered its vocabulary's terms or the places and
checked for unknown codes here without a line of its own. Written by hand: what is not a
field of the record (who may open it, who it is assigned to) and that a case describes at
least one incident."""

from __future__ import annotations

from functools import lru_cache

from flask_babel import gettext as _
from marshmallow import fields
from sqlalchemy import and_, or_, select
from wtforms import (
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from core import declaration, records
from core.extensions import db
from core.i18n import language
from core.models import User
from core.permissions import ADMIN, DOCUMENTER, REVIEWER
from core.places import gazetteer
from core.vocabularies import vocabulary

from . import terms
from .forms import CaseForm
from .models import Case
from .schemas import CaseSchema


def prepare(form: CaseForm, case: Case | None = None) -> CaseForm:
    """Give the form its choices, in the page's language: a field of codes from its
    vocabulary, a place from the gazetteer (``case``: the one being edited, whose assigned
    documenter stays a choice even if her account was disabled since)."""
    _offer_choices(form, CaseSchema, language())
    form.assigned_to.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(user.id), user.username) for user in _assignable(case)
    ]
    return form


def _offer_choices(sub, schema, locale: str) -> None:
    """Choices for every field of codes the form leaves to us (``validate_choice=False``):
    the declared vocabulary's terms, or the places; other choices are the form's own."""
    for item in declaration.own(schema):
        if item.name not in sub:
            continue
        form_field = sub[item.name]
        if item.part is not None:
            for part in form_field if item.many else [form_field]:
                _offer_choices(part.form, item.part, locale)
        elif _left_to_us(item, form_field):
            form_field.choices = _choices(item, form_field, locale)


def _choices(item: declaration.Declared, form_field, locale: str) -> list[SelectChoice]:
    if item.place:
        return place_choices(locale)
    offered = vocabulary_choices(item.metadata["vocabulary"], locale)
    return offered[1:] if isinstance(form_field, SelectMultipleField) else offered  # no "—"


def _left_to_us(item: declaration.Declared, form_field) -> bool:
    """A field of vocabulary codes or places whose choices the form does not check
    (``validate_choice=False``): this module offers them and checks what comes back."""
    coded = item.place or bool(item.metadata.get("vocabulary"))
    return coded and not getattr(form_field, "validate_choice", True)


def _assignable(case: Case | None) -> list[User]:
    """Active documenters, reviewers and administrators, and whoever the case has now."""
    current = case.assigned_to_id if case is not None else None
    return list(db.session.scalars(
        select(User).where(or_(User.id == current, and_(
            User.role.in_((DOCUMENTER, REVIEWER, ADMIN)), User.disabled_at.is_(None))))
        .order_by(User.username)))


def place_choices(locale: str) -> list[SelectChoice]:
    """The places the node documents (its COUNTRIES), grouped by country."""
    return [SelectChoice("", "—")] + [SelectChoice(code, label, optgroup=group)
                                      for code, label, group in gazetteer().choices(locale)]


def violation_choices(locale: str) -> list[SelectChoice]:
    return vocabulary_choices(terms.VIOLATIONS, locale)


def vocabulary_choices(name: str, locale: str) -> list[SelectChoice]:
    """"—", then a vocabulary's terms; a taxonomy's specific terms grouped under their
    categories (which cannot be chosen)."""
    return _vocabulary_choices(vocabulary(name), locale)


@lru_cache(maxsize=64)
def _vocabulary_choices(taxonomy, locale: str) -> list[SelectChoice]:
    """Built once per vocabulary (each app has its own) and language."""
    found = [SelectChoice("", "—")]
    if not any(term.parent for term in taxonomy):
        return found + [SelectChoice(term.code, term.label(locale)) for term in taxonomy]
    for category in taxonomy.roots():
        for term in taxonomy.children(category.code):
            found.append(SelectChoice(term.code, term.label(locale),
                                      optgroup=category.label(locale)))
    return found


def fill(form: CaseForm, case: Case, revealed: dict) -> None:
    """Fill an edit form from a case, field by field as the schema declares them: what the
    columns hold as it is from the case; identifying values and open texts from ``revealed``
    (the case's columns hold only their scrubbed form)."""
    _fill_part(form, case, revealed, CaseSchema)
    form.restricted.data = case.restricted
    form.assigned_to.data = str(case.assigned_to_id or "")


def _fill_part(sub, row, revealed: dict, schema) -> None:
    as_written = declaration.as_written(schema)
    for item in declaration.own(schema):
        if item.name not in sub:
            continue  # declared off the form (forms.NOT_ON_FORM)
        related = getattr(row, item.attribute)
        if item.part is not None and item.many:
            _fill_list(sub[item.name], related, revealed.get(item.name) or [], item.part)
        elif item.part is not None:
            if related is not None:
                _fill_part(sub[item.name].form, related, revealed.get(item.name) or {},
                           item.part)
        elif item.name in as_written:
            sub[item.name].data = revealed.get(item.name) or ""
        else:
            sub[item.name].data = _form_data(sub[item.name], related)


def _form_data(form_field, value):
    """A column's value as its form field takes it: no value is an empty text or choice."""
    if isinstance(form_field, SelectMultipleField):
        return value or []
    if value is None and isinstance(form_field, StringField | SelectField):
        return ""
    return value


def _fill_list(field_list, rows, revealed_rows: list, schema) -> None:
    while len(field_list.entries):
        field_list.pop_entry()
    by_uuid = {item.get(declaration.PART_ID): item for item in revealed_rows}
    for row in rows:
        _fill_part(field_list.append_entry().form, row, by_uuid.get(row.uuid, {}), schema)
    field_list.append_entry()  # one empty row to add another


def check(form: CaseForm, case: Case | None, user) -> bool:
    """Checks beyond single fields: codes must be known, at least one incident described,
    and only those entitled restrict a case or choose who it is assigned to. Adds the errors
    to the form."""
    ok = _check_access(form, case, user)
    ok = _check_codes(form, CaseSchema) and ok
    if not _described(form.incidents):
        form.incidents.errors.append(_("Describe at least one incident."))
        ok = False
    return ok


def _check_codes(sub, schema) -> bool:
    """Every code typed in a field the form leaves to us (``validate_choice=False``) is a
    term of its vocabulary (a specific one, not a category) or a known place; parts left
    blank or removed are not checked."""
    ok = True
    for item in declaration.own(schema):
        if item.name not in sub:
            continue
        form_field = sub[item.name]
        if item.part is not None:
            parts = _described(form_field) if item.many else [form_field]
            ok = all([_check_codes(part.form, item.part) for part in parts]) and ok
        elif _left_to_us(item, form_field) and not _known(item, form_field.data):
            form_field.errors.append(_unknown(item))
            ok = False
    return ok


def _described(field_list) -> list:
    return [entry for entry in field_list
            if not (entry.form.remove.data or entry.form.is_blank())]


def _known(item: declaration.Declared, data) -> bool:
    if item.many:
        codes = list(data or [])
    else:
        codes = [] if data in ("", None) and item.field.allow_none else [data]
    known = gazetteer() if item.place else {
        term.code for term in vocabulary(item.metadata["vocabulary"]).leaves()}
    return all(code in known for code in codes)


def _unknown(item: declaration.Declared) -> str:
    """What a refused code is told."""
    if item.place:
        return _("Unknown place.")
    said = {"activism": _("Unknown field of activism."),
            "violation": _("Choose a violation from the list."),
            "perpetrator_type": _("Unknown perpetrator type.")}
    return said.get(item.name) or _("Choose a value from the list.")


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
    """Change ``case`` to what the (checked) form says, field by field as the schema
    declares them; identifying values are sealed."""
    _apply_part(case, case, form, CaseSchema)
    case.restricted = bool(form.restricted.data)
    case.assigned_to_id = _assigned_id(form)


def _apply_part(case: Case, row, sub, schema) -> None:
    for item in declaration.own(schema):
        if item.name not in sub or item.name == declaration.PART_ID:
            continue  # off the form; a part's id is the record layer's
        if item.part is not None:
            _apply_parts(case, row, sub[item.name], item)
        elif item.identifying:
            records.set_identifying(case, row, item.attribute,
                                    (sub[item.name].data or "").strip())
        else:
            setattr(row, item.attribute, _column_value(item, sub[item.name]))


def _column_value(item: declaration.Declared, form_field):
    """A form field's value as its column keeps it: one-line texts trimmed; no value is
    None where the schema allows it, an empty text or list where it does not."""
    data = form_field.data
    if isinstance(data, str) and isinstance(form_field, StringField) and not isinstance(
            form_field, TextAreaField):
        data = data.strip()
    if item.many:
        return list(data or [])
    if data not in ("", None):
        return data
    if item.field.allow_none:
        return None
    return "" if isinstance(item.field, fields.String) else data


def _apply_parts(case: Case, row, form_field, item: declaration.Declared) -> None:
    model = type(row).__mapper__.relationships[item.attribute].mapper.class_
    if item.many:
        _apply_list(case, getattr(row, item.attribute), model, form_field, item.part)
        return
    if getattr(row, item.attribute) is None:
        setattr(row, item.attribute, model())
    _apply_part(case, getattr(row, item.attribute), form_field.form, item.part)


def _apply_list(case, rows, model, field_list, schema) -> None:
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
        _apply_part(case, row, sub, schema)
