"""The events pages: the calendar (month, week, agenda, with filters), an event's page, the
organiser's page (registrations, check-in, the report), calendar files and feeds, and the
calendar of events other nodes shared with this one (a hub's)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import load_only

from core import audit, clock, exports, keystore, records
from core.access import public, require_permission
from core.extensions import db
from core.forms import ConfirmForm
from core.models import Approval, User
from core.read_only import reads_only

from . import ical, schedule, shared, store
from .forms import (
    AGE_BAND_LABELS,
    AUDIENCE_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    VISIBILITY_LABELS,
    EventForm,
    OutsiderForm,
    ReportForm,
)
from .models import PUBLIC, Event, FeedToken, Organiser
from .permissions import ORGANISE, VIEW

blueprint = Blueprint("events", __name__, url_prefix="/events", template_folder="templates",
                      static_folder="static")
VIEWS = ("agenda", "month", "week")
FEED_HISTORY = FEED_AHEAD = timedelta(days=366)  # a feed: the past year and the next one
LABELS = {"kind": KIND_LABELS, "audience": AUDIENCE_LABELS, "visibility": VISIBILITY_LABELS,
          "language": LANGUAGE_LABELS, "age_band": AGE_BAND_LABELS, "role": ROLE_LABELS}


# -- the calendar ---------------------------------------------------------------------------


@blueprint.context_processor
def _zones():
    return {"zone": schedule.zone}


@blueprint.route("/")
@reads_only
@require_permission(VIEW)
def index():
    """The calendar: ``view`` agenda (from today, 60 days), month or week, ``on`` a day of
    it, filtered by ``kind``, ``audience`` and ``organiser``, times in ``tz``."""
    view = request.args.get("view") if request.args.get("view") in VIEWS else "agenda"
    zone_name = _reader_zone()
    on = _day(request.args.get("on")) or clock.now().astimezone(schedule.zone(zone_name)).date()
    first, last = _bounds(view, on, zone_name)
    filters = _filters()
    found = occurrences_between(first, last, filters)
    return render_template("events/calendar.html", view=view, on=on, zone_name=zone_name,
                           occurrences=found, weeks=_weeks(view, on, found, zone_name),
                           filters=filters, labels=LABELS, organisers=_organiser_names(),
                           step=_step(view, on), writable=current_user.can(ORGANISE))


def _reader_zone() -> str:
    """The zone she asked for (``tz``), else the node's, else UTC (a misspelt setting)."""
    for name in (request.args.get("tz"), current_app.config["EVENTS_TIMEZONE"]):
        try:
            schedule.zone(name or "")
            return name
        except schedule.ScheduleError:
            continue
    return "UTC"


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _bounds(view: str, on: date, zone_name: str) -> tuple[datetime, datetime]:
    if view == "month":
        return schedule.month_bounds(on, zone_name)
    if view == "week":
        return schedule.week_bounds(on, zone_name)
    start = schedule.to_utc(datetime(on.year, on.month, on.day), zone_name)
    return start, start + timedelta(days=60)


def _step(view: str, on: date) -> dict[str, date]:
    if view == "month":
        before = (on.replace(day=1) - timedelta(days=1)).replace(day=1)
        return {"before": before, "after": (on.replace(day=28) + timedelta(days=4)).replace(day=1)}
    days = 7 if view == "week" else 60
    return {"before": on - timedelta(days=days), "after": on + timedelta(days=days)}


def _filters() -> dict[str, str]:
    asked = {name: request.args.get(name, "") for name in ("kind", "audience", "organiser")}
    return {"kind": asked["kind"] if asked["kind"] in KIND_LABELS else "",
            "audience": asked["audience"] if asked["audience"] in AUDIENCE_LABELS else "",
            "organiser": asked["organiser"] if _an_id(asked["organiser"]) else ""}


def _an_id(text: str) -> bool:
    """A user id as the database holds one: ASCII digits ('²' is a digit too), under 2**31
    (an INTEGER column on PostgreSQL)."""
    return text.isascii() and text.isdigit() and int(text) < 2**31


def occurrences_between(first: datetime, last: datetime, filters: dict | None = None,
                        ) -> list[schedule.Occurrence]:
    """The occurrences of this node's events in [first, last), earliest first."""
    found = []
    for query in (
        # single events: by the start, within the longest an event may last (index range)
        select(Event).where(Event.recurrence.is_(None), Event.starts_at < last,
                            Event.starts_at > first - schedule.LONGEST),
        # series: those that start before the range ends and end after it starts
        select(Event).where(Event.recurrence.is_not(None), Event.starts_at < last,
                            Event.last_ends_at > first),
    ):
        shown = query.options(load_only(*CALENDAR_COLUMNS))  # not the sealed texts
        for event in db.session.scalars(_filtered(shown, filters or {})):
            found += schedule.occurrences(event, first, last)
    return sorted(found, key=lambda o: o.starts_at)


CALENDAR_COLUMNS = (Event.uuid, Event.version, Event.title, Event.kind, Event.starts_at,
                    Event.ends_at, Event.last_ends_at, Event.timezone, Event.recurrence)


def _filtered(query, filters: dict):
    if filters.get("kind"):
        query = query.where(Event.kind == filters["kind"])
    if filters.get("audience"):
        query = query.where(Event.audience == filters["audience"])
    if filters.get("organiser"):
        query = query.where(Event.id.in_(select(Organiser.event_id).where(
            Organiser.user_id == int(filters["organiser"]))))
    return query


def _weeks(view: str, on: date, found, zone_name: str) -> list[list[tuple[date, list]]]:
    """The month's (or week's) days, Monday first, each with its occurrences."""
    if view == "agenda":
        return []
    first = on.replace(day=1) if view == "month" else on
    start = first - timedelta(days=first.weekday())
    days = 7 if view == "week" else 42
    by_day: dict[date, list] = {}
    for occurrence in found:
        by_day.setdefault(occurrence.starts_at.astimezone(schedule.zone(zone_name)).date(),
                          []).append(occurrence)
    cells = [(start + timedelta(days=n), by_day.get(start + timedelta(days=n), []))
             for n in range(days)]
    weeks = [cells[n:n + 7] for n in range(0, days, 7)]
    if view == "month":
        weeks = [w for w in weeks if any(d.month == on.month for d, _e in w)]
    return weeks


def _organiser_names() -> dict[int, str]:
    """The node's people who organise events: by user id, their username."""
    rows = db.session.execute(select(User.id, User.username).where(
        User.id.in_(select(Organiser.user_id).distinct()))).all()
    return dict(rows)


# -- one event ------------------------------------------------------------------------------


@blueprint.route("/new", methods=["GET", "POST"])
@require_permission(ORGANISE)
def new():
    keystore.keystore().keyring()  # a locked node cannot seal: say so before the form
    form = _with_organisers(EventForm())
    if request.method == "GET":
        form.organisers.data = [str(current_user.id)]  # she organises it unless she says
    if form.validate_on_submit():
        try:
            event = store.write(None, form.data, current_user)
        except store.EventError as error:
            db.session.rollback()
            flash(str(error), "error")
            return render_template("events/form.html", form=form, event=None), 400
        flash(_("The event is saved."), "success")
        return redirect(url_for(".detail", event_uuid=event.uuid))
    status = 400 if request.method == "POST" else 200
    return render_template("events/form.html", form=form, event=None), status


@blueprint.route("/e/<event_uuid>")
@require_permission(VIEW)
def detail(event_uuid: str):
    event = records.find(Event.__record_type__, event_uuid, current_user)
    registration = store.registration_of(event, current_user) if _unlocked() else None
    organiser = store.may_manage(event, current_user)
    place, link = _where(event, registration is not None or organiser)
    return render_template(
        "events/detail.html", event=event, shown=records.texts_for(event, None),
        labels=LABELS, registration=registration, organiser=organiser, place=place,
        link=link, taken=store.count(event), confirm_form=ConfirmForm(),
        series=schedule.occurrences(event)[:12], event_zone=event.timezone,
        reader_zone=_reader_zone())


def _managed(event_uuid: str) -> Event:
    """The event if she may manage it (its organisers, the node's administrators);
    otherwise the 404 a missing event gets: who organises what is need to know."""
    event = records.find(Event.__record_type__, event_uuid, current_user)
    if not store.may_manage(event, current_user):
        abort(404)
    return event


def _with_organisers(form: EventForm) -> EventForm:
    form.organisers.choices = [(str(user_id), name)
                               for user_id, name in store.organiser_choices().items()]
    return form


def _unlocked() -> bool:
    return keystore.keystore().unlocked


def _where(event: Event, attending: bool) -> tuple[str | None, str | None]:
    """The place and online link she may see: an exact place to members, a secret one and
    the link only to registered attendees and organisers; a city-only place to no one here."""
    if not _unlocked():
        return None, None
    shows_place = event.location_visibility == "exact" or (
        event.location_visibility == "secret" and attending)
    place = records.identifying_value(event, event, "location") if shows_place else None
    link = records.identifying_value(event, event, "online_link") if attending else None
    if place or link:
        audit.record("events.place_viewed", actor=current_user,
                     target_type=Event.__record_type__, target_id=event.uuid)
        db.session.commit()
    return place, link


@blueprint.route("/e/<event_uuid>/edit", methods=["GET", "POST"])
@require_permission(ORGANISE)
def edit(event_uuid: str):
    event = _managed(event_uuid)
    form = _with_organisers(EventForm(data=None if request.method == "POST"
                                      else _form_data(event)))
    if form.validate_on_submit():
        try:
            store.write(event, form.data, current_user)
        except store.EventError as error:
            db.session.rollback()
            flash(str(error), "error")
            return render_template("events/form.html", form=form, event=event), 400
        flash(_("The event is saved."), "success")
        return redirect(url_for(".detail", event_uuid=event.uuid))
    status = 400 if request.method == "POST" else 200
    return render_template("events/form.html", form=form, event=event), status


def _form_data(event: Event) -> dict:
    written = records.values(event, identifying=True)
    return {**written, "starts_at": schedule.local(event.starts_at, event.timezone)
            .replace(tzinfo=None),
            "ends_at": schedule.local(event.ends_at, event.timezone).replace(tzinfo=None),
            "organisers": [str(o.user_id) for o in event.organisers]}


@blueprint.route("/e/<event_uuid>/register", methods=["POST"])
@require_permission(VIEW)
def register(event_uuid: str):
    event = records.find(Event.__record_type__, event_uuid, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        store.register(event, current_user)
    except store.EventError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".detail", event_uuid=event.uuid)), 303
    flash(_("You are registered."), "success")
    return redirect(url_for(".detail", event_uuid=event.uuid)), 303


@blueprint.route("/e/<event_uuid>/cancel", methods=["POST"])
@require_permission(VIEW)
def cancel(event_uuid: str):
    """She cancels her own registration; her place frees up."""
    event = records.find(Event.__record_type__, event_uuid, current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    registration = store.registration_of(event, current_user)
    if registration is None:
        flash(_("You are not registered for this event."), "error")
    else:
        store.cancel(event, registration, current_user)
        flash(_("Your registration is cancelled."), "success")
    return redirect(url_for(".detail", event_uuid=event.uuid)), 303


@blueprint.route("/e/<event_uuid>.ics")
@require_permission(VIEW)
def download(event_uuid: str):
    event = records.find(Event.__record_type__, event_uuid, current_user)
    return _ics(ical.calendar([ical.Listed(event.uuid, event.version, event.timezone)],
                              records.texts_for(event, None)(event, "title")),
                f"event-{event.uuid[:8]}.ics")


# -- the organiser's page -------------------------------------------------------------------


@blueprint.route("/e/<event_uuid>/organise")
@require_permission(ORGANISE)
def organise(event_uuid: str):
    event = _managed(event_uuid)
    return _organiser_page(event, OutsiderForm())


def _organiser_page(event: Event, form: OutsiderForm, status: int = 200):
    keystore.keystore().keyring()  # names are sealed: a locked node cannot show them
    people = [(r, _attendee_name(event, r)) for r in store.attendees(event)]
    audit.record("events.attendees_viewed", actor=current_user,
                 target_type=Event.__record_type__, target_id=event.uuid)
    db.session.commit()
    return render_template("events/organise.html", event=event, people=people, form=form,
                           shown=records.texts_for(event, None), labels=LABELS,
                           confirm_form=ConfirmForm()), status


def _attendee_name(event: Event, registration) -> str:
    member = records.identifying_value(event, registration, "member")
    if member is not None:
        user = db.session.get(User, member)
        return user.username if user is not None else "—"
    return records.identifying_value(event, registration, "name") or "—"


@blueprint.route("/e/<event_uuid>/attendees", methods=["POST"])
@require_permission(ORGANISE)
def add_attendee(event_uuid: str):
    event = _managed(event_uuid)
    form = OutsiderForm()
    if not form.validate_on_submit():
        return _organiser_page(event, form, 400)
    try:
        store.add_outsider(event, form.name.data, form.contact.data, form.age_band.data,
                           form.role.data, current_user)
    except store.EventError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _organiser_page(event, form, 400)
    flash(_("Registered."), "success")
    return redirect(url_for(".organise", event_uuid=event.uuid)), 303


@blueprint.route("/e/<event_uuid>/attendees/remove", methods=["POST"])
@require_permission(ORGANISE)
def remove_attendee(event_uuid: str):
    """An organiser removes one registration (``registration``: its id); its place frees
    up. An id not on this event's list changes nothing."""
    event = _managed(event_uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    asked = request.form.get("registration", "")
    registration = next((r for r in store.attendees(event) if r.uuid == asked), None)
    if registration is None:
        flash(_("Someone on the list is not registered for this event. Nothing was saved."),
              "error")
        return _organiser_page(event, OutsiderForm(formdata=None), 400)
    store.cancel(event, registration, current_user)
    flash(_("The registration is removed."), "success")
    return redirect(url_for(".organise", event_uuid=event.uuid)), 303


@blueprint.route("/e/<event_uuid>/check-in", methods=["POST"])
@require_permission(ORGANISE)
def check_in(event_uuid: str):
    event = _managed(event_uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    present = set(request.form.getlist("present"))
    known = {r.uuid for r in store.attendees(event)}
    if present - known:
        flash(_("Someone on the list is not registered for this event. Nothing was saved."),
              "error")
        return _organiser_page(event, OutsiderForm(formdata=None), 400)
    store.check_in(event, present, current_user)
    flash(_("The check-in list is saved."), "success")
    return redirect(url_for(".organise", event_uuid=event.uuid)), 303


@blueprint.route("/e/<event_uuid>/report", methods=["GET", "POST"])
@require_permission(ORGANISE)
def report(event_uuid: str):
    event = _managed(event_uuid)
    keystore.keystore().keyring()
    form = ReportForm(data=None if request.method == "POST" else {
        "outcomes": records.original_text(event, event, "outcomes"),
        "follow_ups": records.identifying_value(event, event, "follow_ups")})
    if form.validate_on_submit():
        store.report(event, form.outcomes.data, form.follow_ups.data, current_user)
        flash(_("The report is saved."), "success")
        return redirect(url_for(".detail", event_uuid=event.uuid)), 303
    return render_template("events/report.html", event=event, form=form,
                           participation=store.participation(event),
                           shown=records.texts_for(event, None), labels=LABELS)


@blueprint.route("/export.<fmt>")
@require_permission(ORGANISE)
def export(fmt: str):
    """CSV or JSON, made by core from the schema: no place, link or follow-up."""
    if fmt not in exports.FORMATS:
        abort(404)
    return exports.response(records.record_types().get(Event.__record_type__),
                            select(Event).order_by(Event.id), fmt,
                            exports.audience_for(False), current_user)


# -- feeds ----------------------------------------------------------------------------------


@blueprint.route("/feed.ics")
@public
def public_feed():
    """The public events of this node, of the past year and the next (RFC 5545): those a
    reviewer approved for the hub as they are now (review applies to publishing too)."""
    return _ics(ical.calendar(feed_events(PUBLIC, reviewed=True),
                              current_app.config["NODE_NAME"]), "events.ics")


@blueprint.route("/feed/<token>.ics")
@public
def member_feed(token: str):
    """A member's feed: every event of this node (never a place or a link), of the past
    year and the next. Found by the hash of its secret token; a revoked token is a 404."""
    if _feed_owner(token) is None:
        abort(404)
    return _ics(ical.calendar(feed_events(), current_app.config["NODE_NAME"]), "events.ics")


def feed_events(audience: str | None = None, reviewed: bool = False) -> list[ical.Listed]:
    """The events of a feed: those of the past year and the next (of ``audience`` only;
    ``reviewed``: only those whose approval for the hub still stands — an edit that changes
    the payload revokes it), as id, version and zone; ``ical.calendar`` loads a row only to
    make its text."""
    now = clock.now()
    query = select(Event.uuid, Event.version, Event.timezone).where(
        Event.last_ends_at > now - FEED_HISTORY, Event.starts_at < now + FEED_AHEAD,
    ).order_by(Event.starts_at)
    if audience is not None:
        query = query.where(Event.audience == audience)
    if reviewed:
        query = query.where(Event.uuid.in_(select(Approval.record_uuid).where(
            Approval.record_type == Event.__record_type__, Approval.audience == "hub",
            Approval.revoked_at.is_(None))))
    return [ical.Listed(*row) for row in db.session.execute(query)]


def _feed_owner(token: str) -> int | None:
    if not 20 <= len(token) <= 64:
        return None
    return db.session.scalar(select(FeedToken.user_id).where(
        FeedToken.token_hash == token_hash(token), FeedToken.revoked_at.is_(None)))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@blueprint.route("/feed", methods=["GET", "POST"])
@require_permission(VIEW)
def feed():
    """Her private feed: make a new address (revoking the old one), or revoke it."""
    made = None
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        _revoke_feeds(current_user)
        if request.form.get("action") != "revoke":
            made = secrets.token_urlsafe(32)
            db.session.add(FeedToken(user_id=current_user.id, token_hash=token_hash(made),
                                     created_at=clock.now()))
        audit.record("events.feed_changed", actor=current_user)
        db.session.commit()
    active = db.session.scalar(select(FeedToken.id).where(
        FeedToken.user_id == current_user.id, FeedToken.revoked_at.is_(None))) is not None
    return render_template("events/feed.html", made=made, active=active, form=form)


def _revoke_feeds(user) -> None:
    for token in db.session.scalars(select(FeedToken).where(
            FeedToken.user_id == user.id, FeedToken.revoked_at.is_(None))):
        token.revoked_at = clock.now()


def _ics(body: bytes, filename: str) -> Response:
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


# -- what other nodes shared ----------------------------------------------------------------


@blueprint.route("/shared")
@reads_only
@require_permission(VIEW)
def shared_calendar():
    """The calendar of events partner nodes shared (on a hub: the coalition's), by month."""
    zone_name = _reader_zone()
    on = _day(request.args.get("on")) or clock.now().date()
    first, last = schedule.month_bounds(on, zone_name)
    return render_template("events/shared.html", on=on, zone_name=zone_name,
                           occurrences=shared.in_range(first, last), labels=LABELS,
                           step=_step("month", on))
