"""Events's tables (each named ``events_...``): the record type ``events.event``, who
organises and who registered for each (sealed, never shared), members' calendar feeds, and
the events other nodes shared with this one (derived from their payloads)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.columns import UTCDateTime
from core.extensions import db
from core.records import (
    RecordMixin,
    RecordPartMixin,
    blind_index_column,
    original_column,
    sealed_column,
)

from . import schedule


class Instant(datetime):
    """A moment whose ISO form is UTC ending in ``Z`` (``2026-03-20T17:00:00Z``): a payload
    keeps it as a code, where ``+00:00`` would make core scrub it as free text."""

    def isoformat(self, sep: str = "T", timespec: str = "seconds") -> str:
        return self.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @classmethod
    def of(cls, moment: datetime) -> Instant:
        utc = moment.astimezone(UTC)
        return cls(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, tzinfo=UTC)


class InstantColumn(UTCDateTime):
    """A UTC timestamp column read back as an ``Instant``."""

    cache_ok = True

    def process_result_value(self, value, dialect):
        return None if value is None else Instant(value.year, value.month, value.day,
                                                  value.hour, value.minute, value.second,
                                                  tzinfo=UTC)


# Who an event is for, and the federation audiences each choice lets it reach.
MEMBERS, COALITION, PUBLIC = "members", "coalition", "public"
REACHES = {MEMBERS: (), COALITION: ("peers", "hub"), PUBLIC: ("peers", "hub")}


class Event(RecordMixin, db.Model):
    """One event (a training, a gathering...): when, where (its place sealed), for whom."""

    __tablename__ = "events_event"
    __record_type__ = "events.event"
    # Series are few: the calendar finds those overlapping a range by their last end alone.
    __table_args__ = (Index("ix_events_event_series_end", "last_ends_at",
                            sqlite_where=text("recurrence IS NOT NULL"),
                            postgresql_where=text("recurrence IS NOT NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    title_original = original_column()
    description: Mapped[str] = mapped_column(Text, default="")
    description_original = original_column()
    kind: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(InstantColumn, index=True)
    ends_at: Mapped[datetime] = mapped_column(InstantColumn)
    # The end of its last occurrence (a series'), so a range of days finds it by index;
    # worked out on every write (``_last_end``).
    last_ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    recurrence: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(120), default="")
    city_original = original_column()
    location_visibility: Mapped[str] = mapped_column(String(8), default="exact")
    location = sealed_column()  # identifying: ciphertext only
    online_link = sealed_column()
    audience: Mapped[str] = mapped_column(String(12), default=MEMBERS, index=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=True)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    outcomes: Mapped[str] = mapped_column(Text, default="")
    outcomes_original = original_column()
    follow_ups = sealed_column()
    participation: Mapped[dict | None] = mapped_column(JSON)

    organisers: Mapped[list[Organiser]] = relationship(cascade="all, delete-orphan")

    def chosen_audiences(self) -> tuple[str, ...]:
        """Where the organiser's chosen audience lets it go (core.consent.authors_choice)."""
        return REACHES.get(self.audience, ())


@event.listens_for(Event, "before_insert")
@event.listens_for(Event, "before_update")
def _last_end(_mapper, _connection, row: Event) -> None:
    try:
        row.last_ends_at = schedule.occurrences(row)[-1].ends_at
    except (schedule.ScheduleError, IndexError):  # written without the form's checks
        row.last_ends_at = row.ends_at


class Organiser(db.Model):
    """A member of this node who organises an event (kept here, never shared)."""

    __tablename__ = "events_organiser"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_events_organiser"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events_event.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)


class Registration(RecordPartMixin, db.Model):
    """One attendee of an event: a member (her id sealed, found by its blind index) or a
    person from outside the node (a name and a way to reach her, sealed). Never shared:
    only the aggregate participation of the after-event report may leave."""

    __tablename__ = "events_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events_event.id"), index=True)
    member = sealed_column()
    member_index = blind_index_column()
    name = sealed_column()
    contact = sealed_column()
    age_band: Mapped[str] = mapped_column(String(8), default="unknown")
    role: Mapped[str] = mapped_column(String(16), default="participant")
    checked_in: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedToken(db.Model):
    """A member's private calendar feed: only the hash of its secret token is kept."""

    __tablename__ = "events_feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SharedEvent(db.Model):
    """An event another node shared with this one (a hub's calendar), from its payload."""

    __tablename__ = "events_shared"
    __table_args__ = (UniqueConstraint("origin", "record_id", name="uq_events_shared"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(120), default="")
    audience: Mapped[str] = mapped_column(String(12))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    recurrence: Mapped[str | None] = mapped_column(String(200))
