"""The records ``knowledge.resource`` and ``knowledge.testimony``, version 1: every field and
what may leave the node.

A resource is about no person (``data_subject=False``): its author's audience says where it
may go, review still applies, and its texts are kept in clear (``at_rest: clear``: a guide is
meant to be read). A testimony is about a person: consent and review, its texts sealed at
rest, its narrator and contact never leave. For both, the authors' names never leave; the
byline is what they chose to be credited as (empty: anonymous). README.md documents both.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from core.redaction import NEVER, OPEN, SCRUB_VALUE

from .labels import AUDIENCE_LABELS, KIND_LABELS, LANGUAGE_LABELS, LICENCE_LABELS

CLEAR = {"at_rest": "clear"}


def _text(label, **extra):
    return {"sharing": OPEN, "label": label, **extra}


def _code(label, labels=None):
    return {"sharing": OPEN, "label": label, "code": True,
            **({"labels": labels} if labels else {})}


class _Common(Schema):
    kind = fields.String(metadata=_code(_l("Type"), KIND_LABELS))
    language = fields.String(metadata=_code(_l("Language"), LANGUAGE_LABELS))
    licence = fields.String(metadata=_code(_l("Licence"), LICENCE_LABELS))
    published_on = fields.Date(allow_none=True, metadata=_code(_l("Publication date")))
    audience = fields.String(metadata=_code(_l("Audience"), AUDIENCE_LABELS))
    # Chosen by its authors to be published: a pen name or an organisation (not scrubbed).
    byline = fields.String(metadata=_code(_l("Credited as")))
    translation_group = fields.String(metadata=_code(_l("Translations")))
    authors = fields.List(fields.String(), metadata={"sharing": NEVER, "label": _l("Authors")})


class ResourceSchema(_Common):
    title = fields.String(metadata=_text(_l("Title"), **CLEAR))
    summary = fields.String(metadata=_text(_l("Summary"), **CLEAR))
    body = fields.String(metadata=_text(_l("Text"), **CLEAR))
    tags = fields.List(fields.String(), metadata=_text(_l("Tags"), **CLEAR))


class TestimonySchema(_Common):
    title = fields.String(metadata=_text(_l("Title")))
    summary = fields.String(metadata=_text(_l("Summary")))
    body = fields.String(metadata=_text(_l("Text")))
    tags = fields.List(fields.String(), metadata=_text(_l("Tags")))
    narrator = fields.String(metadata={"sharing": NEVER, "label": _l("Narrator")})
    contact = fields.String(metadata={"sharing": NEVER, "label": _l("Contact"),
                                      "scrub": SCRUB_VALUE})
