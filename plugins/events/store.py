"""Writing events and their attendees: checks first (times, zone, recurrence, capacity,
registration), then one save, so that bad input changes nothing; and what an organiser may
share of who came (counts, small ones hidden)."""

from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit, clock, keystore, records
from core.extensions import db
from core.models import User
from core.permissions import ADMIN

from . import schedule
from .forms import AGE_BAND_LABELS, KIND_LABELS, LANGUAGE_LABELS, ROLE_LABELS
from .models import REACHES, Event, Instant, Organiser, Registration
from .permissions import ORGANISE

SMALLEST_SHOWN = 5  # a count below this is hidden in what is shared: it could name someone


class EventError(ValueError):
    """The event or registration cannot be kept as asked; the message says why."""


def write(event: Event | None, data: dict, user) -> Event:
    """A new event (``event`` None) or a new version of one, from the form's ``data`` (local
    times in ``data['timezone']``); checks everything before anything is changed."""
    starts_at, ends_at = _checked(data)
    chosen = _chosen_organisers(data, user)
    fresh = event is None
    event = records.new(Event, user) if fresh else event
    event.title, event.description = data["title"], data.get("description") or ""
    event.kind, event.timezone = data["kind"], data["timezone"]
    event.starts_at, event.ends_at = Instant.of(starts_at), Instant.of(ends_at)
    event.recurrence = schedule.normalised_rule(data.get("recurrence"))
    event.city = data.get("city") or ""
    event.location_visibility, event.audience = data["location_visibility"], data["audience"]
    event.capacity, event.registration_open = data.get("capacity"), bool(
        data.get("registration_open"))
    event.languages = [code for code in LANGUAGE_LABELS if code in (data.get("languages") or [])]
    records.set_identifying(event, event, "location", data.get("location") or None)
    records.set_identifying(event, event, "online_link", data.get("online_link") or None)
    if chosen is not None:
        _set_organisers(event, chosen, user)
    elif fresh:  # its creator organises it unless she chose others
        event.organisers.append(Organiser(user_id=user.id))
    db.session.add(event)
    records.save(event, user)
    return event


# -- organisers -----------------------------------------------------------------------------


def organiser_choices() -> dict[int, str]:
    """Who may be chosen to organise an event: the node's active users who hold the
    organise permission, by id, their username."""
    users = db.session.scalars(select(User).where(User.disabled_at.is_(None))
                               .order_by(User.username))
    return {u.id: u.username for u in users if u.can(ORGANISE)}


def _chosen_organisers(data: dict, user) -> set[int] | None:
    """The organisers ``data`` names (None: it names none, they stay as they are; a new
    event's creator is its one organiser). Ids that are no one's to choose are refused."""
    if not data.get("organisers"):
        return None
    try:
        chosen = {int(value) for value in data["organisers"]}
    except (TypeError, ValueError):
        raise EventError(_l("Not a valid choice.")) from None
    if chosen - set(organiser_choices()):
        raise EventError(_l("Not a valid choice."))
    return chosen


def _set_organisers(event: Event, chosen: set[int], user) -> None:
    kept = [o for o in event.organisers if o.user_id in chosen]
    added = sorted(chosen - {o.user_id for o in kept})
    if added or len(kept) != len(event.organisers):
        event.organisers = kept + [Organiser(user_id=user_id) for user_id in added]
        audit.record("events.organisers_changed", actor=user,
                     target_type=Event.__record_type__, target_id=event.uuid,
                     organisers=len(chosen))


def may_manage(event: Event, user) -> bool:
    """Whether ``user`` may manage ``event`` (edit it, see who registered, check people in,
    write the report): its organisers and the node's administrators, no one else."""
    return user.can(ORGANISE) and (user.role == ADMIN or is_organiser(event, user))


def _checked(data: dict):
    if data.get("kind") not in KIND_LABELS:
        raise EventError(_l("Choose a type from the list."))
    if data.get("audience") not in REACHES:
        raise EventError(_l("Choose an audience from the list."))
    try:
        starts_at = schedule.to_utc(data["starts_at"], data.get("timezone") or "")
        ends_at = schedule.to_utc(data["ends_at"], data["timezone"])
        schedule.check_times(starts_at, ends_at)
        schedule.check_rule(data.get("recurrence"), starts_at, data["timezone"])
    except schedule.ScheduleError as error:
        raise EventError(str(error)) from error
    return starts_at, ends_at


# -- attendees ------------------------------------------------------------------------------


def member_key(user) -> str:
    return keystore.blind_index("events.event.member", str(user.id))


def registration_of(event: Event, user) -> Registration | None:
    return db.session.scalar(select(Registration).where(
        Registration.event_id == event.id, Registration.member_index == member_key(user)))


def is_organiser(event: Event, user) -> bool:
    return any(organiser.user_id == user.id for organiser in event.organisers)


def register(event: Event, user) -> Registration:
    """She registers herself (once); refused while closed or full. Commits."""
    existing = registration_of(event, user)
    if existing is not None:
        return existing
    registration = _new_registration(event)
    records.set_identifying(event, registration, "member", user.id)
    return _keep(event, registration, user)


def add_outsider(event: Event, name: str, contact: str | None, age_band: str, role: str,
                 organiser) -> Registration:
    """An organiser registers someone from outside the node: a name, maybe a way to reach
    her, her age band and role, nothing more. Commits."""
    if not (name or "").strip():
        raise EventError(_l("Give the person's name."))
    if age_band not in AGE_BAND_LABELS or role not in ROLE_LABELS:
        raise EventError(_l("Choose an age band and a role from the lists."))
    registration = _new_registration(event)
    registration.age_band, registration.role = age_band, role
    records.set_identifying(event, registration, "name", name.strip())
    records.set_identifying(event, registration, "contact", (contact or "").strip() or None)
    return _keep(event, registration, organiser)


def _new_registration(event: Event) -> Registration:
    if not event.registration_open:
        raise EventError(_l("Registration for this event is closed. Nothing was saved."))
    if event.capacity is not None and count(event) >= event.capacity:
        raise EventError(_l("This event is full. Nothing was saved."))
    return Registration(event_id=event.id, registered_at=clock.now())


def _keep(event: Event, registration: Registration, user) -> Registration:
    db.session.add(registration)
    db.session.flush()
    audit.record("events.registered", actor=user, target_type=Event.__record_type__,
                 target_id=event.uuid)
    db.session.commit()
    return registration


def cancel(event: Event, registration: Registration, user) -> None:
    """A registration ends (she cancels her own, or an organiser removes it) and its place
    frees up. Commits."""
    own = registration.member_index is not None and registration.member_index == member_key(
        user)
    db.session.delete(registration)
    audit.record("events.registration_cancelled", actor=user,
                 target_type=Event.__record_type__, target_id=event.uuid,
                 by="attendee" if own else "organiser")
    db.session.commit()


def count(event: Event) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration)
                             .where(Registration.event_id == event.id))


def attendees(event: Event) -> list[Registration]:
    return list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)
                                   .order_by(Registration.id)))


def check_in(event: Event, present: set[str], organiser) -> int:
    """Tick who came (registration ids in ``present``); unknown ids change nothing. Commits."""
    changed = 0
    for registration in attendees(event):
        came = registration.uuid in present
        if registration.checked_in != came:
            registration.checked_in, changed = came, changed + 1
    audit.record("events.checked_in", actor=organiser, target_type=Event.__record_type__,
                 target_id=event.uuid, changed=changed)
    db.session.commit()
    return changed


def participation(event: Event) -> dict:
    """Who came, in counts only: in all, by age band and by role; a count below
    SMALLEST_SHOWN is given as None (hidden), and so is the total if it is that small."""
    came = [r for r in attendees(event) if r.checked_in]
    return {"count": _shown(len(came)),
            "by_age_band": {k: _shown(v) for k, v in sorted(Counter(r.age_band for r in came)
                                                            .items())},
            "by_role": {k: _shown(v) for k, v in sorted(Counter(r.role for r in came).items())}}


def _shown(number: int) -> int | None:
    return number if number >= SMALLEST_SHOWN else None


def report(event: Event, outcomes: str, follow_ups: str, user) -> Event:
    """The after-event report: outcomes (open, scrubbed), follow-ups (kept here) and the
    participation as counted now. A new version: review applies before it leaves."""
    event.outcomes = outcomes or ""
    records.set_identifying(event, event, "follow_ups", follow_ups or None)
    event.participation = participation(event)
    records.save(event, user)
    return event
