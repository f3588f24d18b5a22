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

import re

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from core.forms import AUDIENCE_LABELS, PURPOSE_LABELS
from core.permissions import ROLE_LABELS, ROLES

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


def ltr(value) -> Markup:
    """A value that is always left to right (phone, e-mail, reference, id, date, code),
    isolated from the text around it."""
    if value is None or value == "":
        return Markup("")
    return Markup('<bdi dir="ltr">%s</bdi>') % value


def bidi(value) -> Markup:
    """What someone wrote, in its own direction (``dir="auto"``: from its first strong
    letter), with the phone numbers, e-mail addresses and references inside it left to
    right. ``None`` and "" stay empty."""
    if value is None or value == "":
        return Markup("")
    text = str(value)
    pieces, start = [], 0
    for found in LEFT_TO_RIGHT.finditer(text):
        pieces += [escape(text[start:found.start()]), ltr(found.group())]
        start = found.end()
    pieces.append(escape(text[start:]))
    return Markup('<bdi dir="auto">%s</bdi>') % Markup("").join(pieces)


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


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)


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
