"""The shared record ``cases.case``: every field and what may leave the node.

Version 2 (it added each incident's legal basis invoked; see upgrades.py). What a recipient
gets (docs/records.md shows an example): the title, summary, status and risk; the defender's
pseudonym, gender, activism, age band and governorate of residence; per incident the month,
governorate, violation and perpetrator types, the laws invoked and the narrative (peers and
hub only); per intervention its kind, status and months. Names,
contacts, addresses, organisations, exact places, perpetrators' identities and sources never
leave; open texts are scrubbed of them. Every open text (title, summary, pseudonym, narrative)
is sealed at rest as written — core's default, see core.records — and kept in clear only
scrubbed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields

from core.countries import LAWS
from core.redaction import NEVER, OPEN, SCRUB_VALUE, SCRUB_WORDS, generalised

from .forms import (
    GENDER_LABELS,
    INTERVENTION_STATUS_LABELS,
    KIND_LABELS,
    RELIABILITY_LABELS,
    RISK_LABELS,
    STATUS_LABELS,
)
from .terms import ACTIVISM, PERPETRATORS, VIOLATIONS

NARRATIVE_AUDIENCES = ["peers", "hub"]  # never in public statistics


def _open(label, **extra):
    return {"sharing": OPEN, "label": label, **extra}


def _code(label, *, vocabulary=None, labels=None):
    """An open field holding codes (ids, vocabulary codes), not free text. ``vocabulary``
    or ``labels`` name its codes for people (a recipient's "Shared with us" pages)."""
    named = {"vocabulary": vocabulary} if vocabulary else {"labels": labels} if labels else {}
    return {"sharing": OPEN, "label": label, "code": True, **named}


def _never(label, scrub=SCRUB_WORDS, *, labels=None):
    """An identifying field; ``labels`` name its codes if it holds codes."""
    named = {"labels": labels} if labels else {}
    return {"sharing": NEVER, "label": label, "scrub": scrub, **named}


def _generalised(rule, label):
    return {**generalised(rule), "label": label}


class DefenderSchema(Schema):
    uuid = fields.String(metadata=_code(_l("Part id")))
    pseudonym = fields.String(metadata=_open(_l("Pseudonym")))
    gender = fields.String(allow_none=True, metadata=_code(_l("Gender"), labels=GENDER_LABELS))
    age = fields.Integer(allow_none=True, metadata=_generalised("age_to_band", _l("Age")))
    activism = fields.List(fields.String(),
                           metadata=_code(_l("Fields of activism"), vocabulary=ACTIVISM))
    residence = fields.String(
        allow_none=True, metadata=_generalised("place_to_governorate", _l("Residence"))
    )
    real_name = fields.String(metadata=_never(_l("Real name")))
    contacts = fields.String(metadata=_never(_l("Contacts")))
    address = fields.String(metadata=_never(_l("Exact address")))
    # Its name is made of ordinary words ("women", "rights"): looked for as a whole.
    organisation = fields.String(metadata=_never(_l("Organisation"), SCRUB_VALUE))


class IncidentSchema(Schema):
    uuid = fields.String(metadata=_code(_l("Part id")))
    occurred_on = fields.Date(
        allow_none=True, metadata=_generalised("date_to_month", _l("Date"))
    )
    place = fields.String(
        allow_none=True, metadata=_generalised("place_to_governorate", _l("Place"))
    )
    violation = fields.String(metadata=_code(_l("Violation"), vocabulary=VIOLATIONS))
    perpetrator_type = fields.String(
        allow_none=True, metadata=_code(_l("Perpetrator type"), vocabulary=PERPETRATORS))
    narrative = fields.String(
        metadata=_open(_l("What happened"), audiences=NARRATIVE_AUDIENCES)
    )
    # Version 2: the laws the authorities invoked (codes of core.laws, the country plugins').
    legal_basis = fields.List(fields.String(), allow_none=True,
                              metadata=_code(_l("Legal basis invoked"), vocabulary=LAWS))
    place_detail = fields.String(metadata=_never(_l("Exact place"), SCRUB_VALUE))
    perpetrator_identity = fields.String(metadata=_never(_l("Perpetrator identity")))
    sources = fields.String(metadata=_never(_l("Sources"), SCRUB_VALUE))
    source_reliability = fields.String(
        metadata=_never(_l("Reliability of sources"), SCRUB_VALUE, labels=RELIABILITY_LABELS)
    )


class InterventionSchema(Schema):
    uuid = fields.String(metadata=_code(_l("Part id")))
    kind = fields.String(metadata=_code(_l("Support"), labels=KIND_LABELS))
    status = fields.String(metadata=_code(_l("Status"), labels=INTERVENTION_STATUS_LABELS))
    started_on = fields.Date(
        allow_none=True, metadata=_generalised("date_to_month", _l("Started"))
    )
    ended_on = fields.Date(allow_none=True, metadata=_generalised("date_to_month", _l("Ended")))
    notes = fields.String(metadata=_never(_l("Notes"), SCRUB_VALUE))


class CaseSchema(Schema):
    title = fields.String(metadata=_open(_l("Title")))
    summary = fields.String(metadata=_open(_l("Summary"), audiences=NARRATIVE_AUDIENCES))
    status = fields.String(metadata=_code(_l("Status"), labels=STATUS_LABELS))
    risk = fields.String(metadata=_code(_l("Risk level"), labels=RISK_LABELS))
    defender = fields.Nested(DefenderSchema, allow_none=True, metadata=_open(_l("Defender")))
    incidents = fields.List(fields.Nested(IncidentSchema), metadata=_open(_l("Incidents")))
    interventions = fields.List(
        fields.Nested(InterventionSchema), metadata=_open(_l("Support given"))
    )
