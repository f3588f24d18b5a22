"""The forms people write a resource and a testimony with: every schema field is on them or
declared off them (core checks), and everything checkable without the database is checked
here (the translation link is checked by the store, against the database)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from core.forms import choices

from .labels import AUDIENCE_LABELS, KIND_LABELS, LANGUAGE_LABELS, LICENCE_LABELS
from .models import RESOURCE_KINDS, TESTIMONY_KINDS

MAX_TAGS, MAX_TAG = 12, 60
MAX_BODY = 200_000


def split_tags(text: str | None) -> list[str]:
    """Tags as typed, comma-separated (Arabic comma too), trimmed, without repeats."""
    found: list[str] = []
    for part in (text or "").replace("،", ",").split(","):
        tag = " ".join(part.split())
        if tag and tag.casefold() not in {t.casefold() for t in found}:
            found.append(tag)
    return found


def split_lines(text: str | None) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def _tags_check(_form, field) -> None:
    tags = split_tags(field.data)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_l("At most %(n)d tags.", n=MAX_TAGS))
    if any(len(tag) > MAX_TAG for tag in tags):
        raise ValidationError(_l("A tag is at most %(n)d characters long.", n=MAX_TAG))


class _Common(FlaskForm):
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS),
                           validate_choice=True)
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=300)],
                        filters=[lambda value: value.strip() if value else value])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[Optional(), Length(max=MAX_BODY)])
    tags = StringField(_l("Tags (separated by commas)"),
                       validators=[Optional(), Length(max=1000), _tags_check])
    licence = SelectField(_l("Licence"), choices=choices(LICENCE_LABELS))
    published_on = DateField(_l("Publication date"), validators=[Optional()])
    audience = SelectField(_l("Audience"), choices=choices(AUDIENCE_LABELS))
    byline = StringField(_l("Credited as (leave empty to publish anonymously)"),
                         validators=[Optional(), Length(max=200)])
    authors = TextAreaField(_l("Authors (one per line; never shared)"),
                            validators=[Optional(), Length(max=2000)])
    translation_of = StringField(_l("Translation of (the id of a resource of the same type)"),
                                 validators=[Optional(), Length(max=36)])
    file = FileField(_l("Attach a file"))


class ResourceForm(_Common):
    kind = SelectField(_l("Type"), choices=choices({k: KIND_LABELS[k] for k in RESOURCE_KINDS}))


class TestimonyForm(_Common):
    kind = SelectField(_l("Type"),
                       choices=choices({k: KIND_LABELS[k] for k in TESTIMONY_KINDS}))
    narrator = StringField(_l("Narrator (never shared)"), validators=[Optional(), Length(max=200)])
    contact = StringField(_l("How to reach her (never shared)"),
                          validators=[Optional(), Length(max=200)])


class SearchForm(FlaskForm):
    """Only its CSRF token is checked: the words and filters are read as sent."""


class AttachmentForm(FlaskForm):
    file = FileField(_l("File (PDF, PNG, JPEG or WebP)"), validators=[InputRequired()])


NOT_ON_FORM = {
    "translation_group": "set by the form's 'translation of' (the other resource's group)",
}
