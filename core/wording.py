"""Words and directions on the pages: the Jinja filters every template uses to name a stored
code in the reader's language (an audience, a purpose, how a consent ended, why a record
cannot leave yet) and to isolate text whose direction may differ from the page's — values
that are always left to right (phone numbers, e-mail addresses, references, ids, dates) and
what people wrote, in its own direction, with the numbers and addresses inside it isolated.

Without isolation, "+216 98 123 456" in an Arabic page reads "456 123 98 216+", and an
Arabic sentence in a French page takes the punctuation around it along (Unicode's
bidirectional algorithm, UAX #9: numbers and spaces are weak or neutral).
"""

from __future__ import annotations

import json
import re

from flask import Flask
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from core import readable
from core.declaration import nested_schema
from core.forms import AUDIENCE_LABELS, PURPOSE_LABELS
from core.permissions import ROLE_LABELS, ROLES
from core.records import record_types

ENDED_LABELS = {
    "withdrawn": _l("withdrawn"),
    "expired": _l("expired"),
    "superseded": _l("replaced by a newer consent"),
}
# Why a record cannot leave for an audience yet (core.review.shareable's codes).
SHAREABILITY_SENTENCES = {
    "shareable": _l("ready to share"),
    "no-consent": _l("no consent to share with them"),
    "locked": _l("the node is locked: nothing can be checked or sent"),
    "blocked": _l("a sharing rule keeps it here"),
    "not-approved": _l("waiting for a reviewer's approval"),
}

# Inside what people write: what must read left to right whatever surrounds it — a phone
# number (digits with spaces, dots, dashes or brackets, an optional +), an e-mail address,
# a case reference (C-00041) or any latin code with digits.
LEFT_TO_RIGHT = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\+?\(?\d[\d\s().\-/]{5,}\d"
    r"|\b[A-Z]{1,4}-(?=[0-9A-Z-]*\d)[0-9A-Z]+(?:-[0-9A-Z]+)*\b"
)


# A list page calls the two filters below a hundred times: they join escaped strings and
# make one Markup, rather than format through Markup's % (a few µs each). Every kind of
# LEFT_TO_RIGHT value holds a digit or an "@": a text with neither is not searched for one.
_MAY_HOLD_LEFT_TO_RIGHT = re.compile(r"[\d@]").search


def ltr(value) -> Markup:
    """A value that is always left to right (phone, e-mail, reference, id, date, code),
    isolated from the text around it."""
    if value is None or value == "":
        return Markup("")
    return Markup(f'<bdi dir="ltr">{escape(value)}</bdi>')  # noqa: S704 - escaped here


def bidi(value) -> Markup:
    """What someone wrote, in its own direction (``dir="auto"``: from its first strong
    letter), with the phone numbers, e-mail addresses and references inside it left to
    right. ``None`` and "" stay empty."""
    if value is None or value == "":
        return Markup("")
    text = str(value)
    if _MAY_HOLD_LEFT_TO_RIGHT(text) is None:  # most titles and names: nothing to isolate
        return Markup(f'<bdi dir="auto">{escape(text)}</bdi>')  # noqa: S704 - escaped here
    pieces, start = ['<bdi dir="auto">'], 0
    for found in LEFT_TO_RIGHT.finditer(text):
        pieces += [escape(text[start:found.start()]), '<bdi dir="ltr">', escape(found.group()),
                   "</bdi>"]
        start = found.end()
    pieces += [escape(text[start:]), "</bdi>"]
    return Markup("".join(pieces))  # noqa: S704 - every piece escaped or a fixed tag


def audience(code: str) -> str:
    return str(AUDIENCE_LABELS.get(code, code))


def audiences(codes) -> str:
    """Audiences ("peers hub" as stored, or a list) in words, separated by commas."""
    return _listed(codes, AUDIENCE_LABELS)


def purposes(codes) -> str:
    return _listed(codes, PURPOSE_LABELS)


def consent_end(code: str | None) -> str:
    return str(ENDED_LABELS.get(code, code or ""))


def shareability(state) -> str:
    """Why a record may or may not leave for an audience, as a sentence (core.review)."""
    code = getattr(state, "reason", state)
    return str(SHAREABILITY_SENTENCES.get(code, code))


def _listed(codes, labels: dict) -> str:
    items = codes.split() if isinstance(codes, str) else list(codes or ())
    locale = get_locale()
    comma = "، " if locale is not None and locale.language == "ar" else ", "
    return comma.join(str(labels.get(code, code)) for code in items)


FILTERS = {
    "ltr": ltr, "bidi": bidi, "audience": audience, "audiences": audiences,
    "purposes": purposes, "consent_end": consent_end, "shareability": shareability,
}


def _late_filters() -> dict:
    return {"audit_action": audit_action, "audit_details": audit_details,
            "record_type_label": record_type_label, "change_field": change_field,
            "change_value": change_value}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.filters.update(_late_filters())


# -- the glossary (/help) -------------------------------------------------------------------

MARK_MEANINGS = {
    "never": _l("Identifying: encrypted on this node and never sent anywhere, whatever the "
                "consent says (a real name, contacts, an exact address, sources)."),
    "generalise": _l("Sent only coarsened, and only with consent: a month instead of a date, "
                     "a governorate instead of a town, an age band instead of an age."),
    "open": _l("May be sent with consent, after a reviewer approves it, with names and "
               "numbers taken out of the text."),
}
AUDIENCE_MEANINGS = {
    "peers": _l("Other nodes of the coalition that this node is paired with."),
    "hub": _l("The coalition's regional node, which gathers what members share."),
    "public-aggregate": _l("Counts only, never a record: they may be published."),
}
PURPOSE_MEANINGS = {
    "advocacy": _l("To speak out about violations, in reports and campaigns."),
    "urgent-appeal": _l("To ask for urgent action when she is in danger."),
    "statistics": _l("To be counted in the coalition's figures."),
    "referral": _l("To put her in touch with legal, medical or other support."),
}
ROLE_MEANINGS = {
    "admin": _l("Manages the node: people, keys, partner nodes; unlocks the node."),
    "reviewer": _l("Reads what would leave and approves it before it is shared."),
    "documenter": _l("Writes cases and records consent."),
    "member": _l("Takes part in activities; sees no identifying information."),
}


def glossary() -> dict:
    """What the glossary page lists: (label, meaning) pairs by section."""
    return {
        "marks": [(code, MARK_MEANINGS[code]) for code in ("never", "generalise", "open")],
        "audiences": [(AUDIENCE_LABELS[c], m) for c, m in AUDIENCE_MEANINGS.items()],
        "purposes": [(PURPOSE_LABELS[c], m) for c, m in PURPOSE_MEANINGS.items()],
        "roles": [(ROLE_LABELS[r], ROLE_MEANINGS[r]) for r in ROLES if r in ROLE_MEANINGS],
    }


# -- the audit log in words ----------------------------------------------------------------

AUDIT_AREAS = {
    "access": _l("Access"), "auth": _l("Sign-in"), "user": _l("People"),
    "keys": _l("Node key"), "consent": _l("Consent"), "record": _l("Records"),
    "records": _l("Records"), "cases": _l("Cases"), "events": _l("Events"),
    "knowledge": _l("Library"), "federation": _l("Partner nodes"),
}
AUDIT_VERBS = {
    "denied": _l("refused"), "failed": _l("failed"), "throttled": _l("slowed down"),
    "signed_in": _l("signed in"), "signed_out": _l("signed out"),
    "enrolment_failed": _l("second factor not set up"),
    "second_factor_enrolled": _l("second factor set up"),
    "second_factor_reset": _l("second factor reset"),
    "held_account_opened": _l("held account opened with password and code"),
    "recovery_code_used": _l("recovery code used"), "recovery_codes_made": _l("new recovery codes"),
    "created": _l("created"), "updated": _l("changed"), "deleted": _l("deleted"),
    "disabled": _l("disabled"), "enabled": _l("enabled"), "invited": _l("invited"),
    "invite_revoked": _l("invitation revoked"), "password_changed": _l("password changed"),
    "role_changed": _l("role changed"),
    "locked": _l("locked"), "unlocked": _l("unlocked"), "unlock_failed": _l("unlock refused"),
    "rotated": _l("replaced"), "passphrase_changed": _l("passphrase changed"),
    "recorded": _l("recorded"), "withdrawn": _l("withdrawn"), "expired": _l("expired"),
    "superseded": _l("replaced by a newer consent"),
    "approved": _l("approved for sharing"), "approval_revoked": _l("approval withdrawn"),
    "exported": _l("exported"), "identifying_viewed": _l("identifying information viewed"),
    "identifying_searched": _l("searched by name"), "type_upgraded": _l("record type upgraded"),
    "file_added": _l("file added"), "task_added": _l("task added"),
    "task_reopened": _l("task marked not done"), "sent_back": _l("sent back to the documenter"),
    "merged": _l("merged"), "draft_kept": _l("draft kept"),
    "evidence_added": _l("evidence of consent kept"),
    "shared": _l("shared"), "receipt": _l("receipt received"), "tombstoned": _l("deletion sent"),
    "withheld": _l("withheld"), "sealed": _l("sealed"), "released": _l("released"),
    "quarantined": _l("quarantined"), "tallied": _l("counted"),
    "sync_started": _l("synchronisation started"), "peer_approved": _l("partner approved"),
    "peer_removed": _l("partner removed"), "pair_requested": _l("pairing requested"),
    "pair_requests_refused": _l("pairing requests refused"),
    "key_rotated": _l("key replaced"), "key_revoked": _l("key revoked"),
    "encryption_key": _l("encryption key published"),
    "encryption_key_revoked": _l("encryption key revoked"),
    "bundle_exported": _l("bundle exported"), "bundle_imported": _l("bundle imported"),
    "direction_set": _l("direction set"),
    "registered": _l("registration"), "registration_cancelled": _l("registration cancelled"),
    "checked_in": _l("checked in"), "attendees_viewed": _l("attendees viewed"),
    "place_viewed": _l("exact place viewed"), "organisers_changed": _l("organisers changed"),
    "feed_changed": _l("calendar feed changed"),
}
AUDIT_DETAILS = {
    "step": _l("step"), "limit": _l("limit"), "reason": _l("reason"), "role": _l("role"),
    "audience": _l("audience"), "purpose": _l("purpose"), "found": _l("found"),
    "left": _l("codes left"), "consent": _l("consent no."), "version": _l("version"),
    "format": _l("format"), "count": _l("count"), "records": _l("records"),
    "permission": _l("permission"), "identifying": _l("with identifying fields"),
}


def audit_action(code: str) -> str:
    """An audit entry's action in words ("Sign-in: failed"); the code if it has none."""
    area, _, verb = code.partition(".")
    if area in AUDIT_AREAS and verb in AUDIT_VERBS:
        return f"{AUDIT_AREAS[area]}: {AUDIT_VERBS[verb]}"
    return code


def audit_details(details: str) -> list[tuple[str, str]]:
    """An entry's details (JSON of codes) as (label, value) pairs, codes named when known."""
    try:
        values = json.loads(details or "{}")
    except ValueError:
        return [("", details)]
    shown = []
    for key, value in values.items():
        if isinstance(value, bool):
            value = gettext("yes") if value else gettext("no")
        elif isinstance(value, str):
            value = (AUDIENCE_LABELS.get(value) or PURPOSE_LABELS.get(value)
                     or ENDED_LABELS.get(value) or ROLE_LABELS.get(value) or value)
        shown.append((str(AUDIT_DETAILS.get(key, key)), str(value)))
    return shown


def record_type_label(name: str) -> str:
    """A record type ("cases.case") by its label; other targets ("peer", "user") in words."""
    registry = record_types()
    known = registry.get(name) if name in registry else None
    if known is not None and known.label:
        return str(known.label)
    return str(AUDIT_TARGETS.get(name, name))


AUDIT_TARGETS = {"user": _l("person"), "peer": _l("partner node"), "invite": _l("invitation"),
                 "node": _l("node"), "key": _l("key")}


# -- the review's "what changed since it was approved" -------------------------------------


def change_field(path: str, schema) -> str:
    """A payload path ("incidents.1.violation") in words: "Incidents 1 › Violation"."""
    words = []
    for field, label in _walk(path, schema):
        if field is None and words:  # a part's number: "Incidents 1"
            words[-1] = f"{words[-1]} {label}"
        else:
            words.append(label)
    return " › ".join(words) or path


def change_value(value, path: str, schema):
    """A changed payload value in words: a code by its label, a list item by item."""
    steps = [field for field, _label in _walk(path, schema) if field is not None]
    field = steps[-1] if steps else None
    if value is None or field is None:
        return value
    shown = readable.value_in_words(value, field, str(get_locale() or "en").split("_")[0])
    if isinstance(shown, list) and all(isinstance(item, str) for item in shown):
        return ", ".join(shown)
    return shown


def _walk(path: str, schema):
    """(field, label) along ``path``; a part's number joins its list's label."""
    fields_ = schema().fields if isinstance(schema, type) else schema.fields
    for segment in path.split("."):
        if segment.isdigit():
            yield None, segment
            continue
        field = fields_.get(segment) if fields_ is not None else None
        yield field, readable.label_of(field, segment)
        inner = nested_schema(field) if field is not None else None
        fields_ = inner.fields if inner is not None else None
