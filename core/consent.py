"""Consent: for each record, what the defender agreed to — no consent, no sharing.

A record has a history of consents; the newest one that has not ended is current.
Recording a new consent supersedes the current one; withdrawal and expiry end it. Every
ending is announced to plugins (``consent_ended``) after it commits, so that federation
can turn it into a signed tombstone that every holder must act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import approvals, audit, clock, keystore
from core.extensions import db
from core.models import Approval, Consent
from core.plugins import plugin_manager
from core.records import record_types
from core.redaction import AUDIENCES

GIVERS = ("defender", "representative")
METHODS = ("written", "oral", "message", "recorded")
REPRESENTATIVES = ("family", "lawyer", "colleague", "organisation", "other")
PURPOSES = ("advocacy", "urgent-appeal", "statistics", "referral")
WITHDRAWAL_REASONS = ("defender-request", "safety", "recorded-in-error", "other")
WITHDRAWN, EXPIRED, SUPERSEDED = "withdrawn", "expired", "superseded"


class ConsentError(ValueError):
    """The consent cannot be recorded or changed as asked; the message says why (the first
    problem's; ``fields``: every problem, by the name of the form field it is about)."""

    def __init__(self, *messages, fields: dict | None = None):
        super().__init__(*messages)
        self.fields = fields or {}


def current(record) -> Consent | None:
    """The record's consent that has not ended (the newest), or None. Inside ``read_once``,
    read from the database once per record."""
    known, key = _read.get(), (record.__record_type__, record.uuid)
    if known is not None and key in known:
        return known[key]
    found = db.session.scalar(
        select(Consent)
        .where(Consent.record_type == record.__record_type__, Consent.record_uuid == record.uuid,
               Consent.ended_at.is_(None))
        .order_by(Consent.id.desc())
    )
    if known is not None:
        known[key] = found
    return found


# What ``current`` found inside ``read_once``, by (record type, record uuid); None outside.
_read: ContextVar[dict | None] = ContextVar("consents_read", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Within the block, each record's current consent is read from the database once: for
    a page that asks many questions of one consent (what it covers, whether the case waits
    for review, what may leave). It ends with the block (one request at most); recording or
    ending a consent in it forgets what was read of that record."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


def _forget(record_type: str, record_uuid: str) -> None:
    known = _read.get()
    if known is not None:
        known.pop((record_type, record_uuid), None)


def history(record) -> list[Consent]:
    return list(db.session.scalars(
        select(Consent)
        .where(Consent.record_type == record.__record_type__, Consent.record_uuid == record.uuid)
        .order_by(Consent.id.desc())
    ))


@dataclass(frozen=True)
class AuthorsChoice:
    """What covers a record about no person (``RecordType(data_subject=False)``, an event):
    the audiences its author chose, in the place of a consent. It never expires; ``id`` is
    None (no consent row); its purpose is the coalition's advocacy."""

    audience_list: tuple[str, ...]
    purpose_list: tuple[str, ...] = ("advocacy",)
    expires_on: date | None = None
    id: None = None


def has_data_subject(record) -> bool:
    """Whether ``record`` is about a person (the default; unknown types are too)."""
    name = record.__record_type__
    known = record_types()
    return name not in known or known.get(name).data_subject


def allows(record, audience: str, on: date | None = None) -> Consent | AuthorsChoice | None:
    """The current consent if it covers ``audience`` today, else None. A record type with no
    data subject has no consent: its author's choice covers it when it names ``audience``
    (deny by default: a model that does not say, ``chosen_audiences()``, goes nowhere)."""
    if not has_data_subject(record):
        return authors_choice(record, audience)
    consent = current(record)
    today = on or clock.now().date()
    if consent is None or audience not in consent.audience_list:
        return None
    if consent.obtained_on > today or (consent.expires_on and consent.expires_on <= today):
        return None
    return consent


def authors_choice(record, audience: str) -> AuthorsChoice | None:
    """The audiences the author of a record about no person chose, if they name ``audience``."""
    chosen = getattr(record, "chosen_audiences", None)
    audiences = tuple(a for a in (chosen() if chosen else ()) if a in AUDIENCES)
    return AuthorsChoice(audiences) if audience in audiences else None


def record(record, *, user, given_by: str, method: str, audiences: list[str],
           purposes: list[str], obtained_on: date, expires_on: date | None = None,
           representative: str | None = None) -> Consent:
    """Check, then store a new consent (superseding the current one); commits."""
    if not has_data_subject(record):
        raise ConsentError(_l("This record is about no person, so it takes no consent: the "
                              "audience its author chose says where it may go."))
    _check(given_by, method, representative, audiences, purposes, obtained_on, expires_on)
    previous = current(record)
    if previous is not None:
        _refuse_while_locked_if_shared(previous)
        narrower = narrows(previous, audiences, purposes, expires_on)
        _end(previous, SUPERSEDED, None, user,
             standing=frozenset(audiences) if narrower else frozenset())
    consent = Consent(
        record_type=record.__record_type__, record_uuid=record.uuid, given_by=given_by,
        method=method, representative=representative if given_by == "representative" else None,
        audiences=" ".join(a for a in AUDIENCES if a in audiences),
        purposes=" ".join(p for p in PURPOSES if p in purposes),
        obtained_on=obtained_on, expires_on=expires_on, recorded_by=user.id,
    )
    db.session.add(consent)
    db.session.flush()
    _forget(consent.record_type, consent.record_uuid)
    audit.record("consent.recorded", actor=user, target_type=record.__record_type__,
                 target_id=record.uuid, consent=consent.id)
    db.session.commit()
    if previous is not None:
        _announce(previous)
    plugin_manager().hook.consent_recorded(consent=consent)
    return consent


def narrows(previous: Consent, audiences: list[str], purposes: list[str],
            expires_on: date | None) -> bool:
    """Whether a new consent with these terms lets nothing leave that ``previous`` did not:
    no audience or purpose added, and it ends no later (or ends where ``previous`` did not).
    Then the approvals for the audiences it keeps stand — review checks what leaves, and a
    narrower consent makes nothing new leave; anything wider needs a new review."""
    if not set(audiences) <= set(previous.audience_list) or \
            not set(purposes) <= set(previous.purpose_list):
        return False
    if previous.expires_on is None:
        return True
    return expires_on is not None and expires_on <= previous.expires_on


def withdraw(consent: Consent, *, reason: str, user) -> None:
    if reason not in WITHDRAWAL_REASONS:
        raise ConsentError(_l("Choose a reason from the list."))
    if consent.ended_at is not None:
        raise ConsentError(_l("This consent has already ended."))
    _refuse_while_locked_if_shared(consent)
    _end(consent, WITHDRAWN, reason, user)
    db.session.commit()
    _announce(consent)


def expire_due(on: date | None = None) -> list[Consent]:
    """End every consent whose expiry date has come (``rabita consent expire``). While the
    node is locked, those of records approved to leave wait for the next run: their holders
    must be told, and that needs the unlocked node."""
    today = on or clock.now().date()
    # Each app server of a hub may run it at once (PostgreSQL): the consents another run is
    # ending now are locked by it, and left to it, so none is ended or announced twice.
    due = [consent for consent in db.session.scalars(
        select(Consent).where(Consent.ended_at.is_(None), Consent.expires_on <= today)
        .with_for_update(skip_locked=True)
    ) if not _must_reach_holders_while_locked(consent)]
    for consent in due:
        _end(consent, EXPIRED, None, None)
    db.session.commit()
    for consent in due:
        _announce(consent)
    return due


def _refuse_while_locked_if_shared(consent: Consent) -> None:
    """Ending the consent of a record that was approved to leave must reach every holder
    (plugins announce it with signed tombstones): on a locked node it would end here and
    nowhere else, so it is refused, and nothing changes, until an administrator unlocks."""
    if _must_reach_holders_while_locked(consent):
        raise ConsentError(_l(
            "The node is locked. This record was approved to leave, so ending its consent "
            "must reach every copy: ask an administrator to unlock the node, then try again. "
            "Nothing was changed."))


def _must_reach_holders_while_locked(consent: Consent) -> bool:
    if keystore.keystore().unlocked:
        return False
    return db.session.scalar(
        select(Approval.id).where(Approval.record_type == consent.record_type,
                                  Approval.record_uuid == consent.record_uuid).limit(1)
    ) is not None


def _end(consent: Consent, end: str, reason: str | None, user,
         standing: frozenset[str] = frozenset()) -> None:
    consent.ended_at = clock.now()
    _forget(consent.record_type, consent.record_uuid)
    consent.end = end
    consent.end_reason = reason
    consent.ended_by = getattr(user, "id", None)
    approvals.revoke_for_consent(consent, standing)
    audit.record(f"consent.{end}", actor=user, target_type=consent.record_type,
                 target_id=consent.record_uuid, consent=consent.id, reason=reason)


def _announce(consent: Consent) -> None:
    plugin_manager().hook.consent_ended(consent=consent, reason=consent.end)


def _check(given_by, method, representative, audiences, purposes, obtained_on, expires_on):
    """Raise one ConsentError naming every problem at once, each by its form field."""
    found = problems(given_by, method, representative, audiences, purposes, obtained_on,
                     expires_on)
    if found:
        raise ConsentError(*found.values(), fields=found)


def problems(given_by, method, representative, audiences, purposes, obtained_on,
             expires_on) -> dict:
    """What is wrong with these terms, by form field name (empty: nothing). A date not
    given (None: the form could not read it) is not checked here."""
    found = {}
    if given_by not in GIVERS:
        found["given_by"] = _l("Say who gave the consent.")
    if method not in METHODS:
        found["method"] = _l("Say how the consent was given.")
    if given_by == "representative" and representative not in REPRESENTATIVES:
        found["representative"] = _l("Say who gave the consent on her behalf.")
    unknown = [a for a in audiences if a not in AUDIENCES]
    if unknown:
        found["audiences"] = _l("Unknown audience: %(names)s.", names=", ".join(unknown))
    elif not audiences:
        found["audiences"] = _l("Choose at least one audience.")
    if not purposes or any(p not in PURPOSES for p in purposes):
        found["purposes"] = _l("Choose at least one purpose from the list.")
    if obtained_on is not None and obtained_on > clock.now().date():
        found["obtained_on"] = _l("The date consent was obtained cannot be in the future.")
    if obtained_on is not None and expires_on is not None and expires_on <= obtained_on:
        found["expires_on"] = _l("The expiry date must come after the date consent was obtained.")
    return found
