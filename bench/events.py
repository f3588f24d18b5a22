"""The events pages at 10,000 events and 100,000 registrations, in-app (Flask's test client,
one process, SQLite), one request at a time.

    python -m bench.events [--events 10000] [--registrations 100000]

The node (made once, then kept under .bench/) holds events spread over ten years (2022-2031,
about 83 a month, a third of them public and approved for the hub, one in eight a weekly
series of 4 to 12), each with its registrations (members' ids and outsiders' names sealed,
as the pages write them).
For each page 5 warm-up then 50 timed requests; prints p50 and p95 in ms, and what the page
held. Baseline of the same run: her account page. Target: month view and feeds p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from core import clock, keystore, records, users
from core.app import create_app
from core.extensions import db
from core.models import Approval, User
from core.testing import RabitaClient, signed_in_client

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".bench"
PASSPHRASE = "benchmark node passphrase, local only"  # noqa: S105 - a throw-away local node
WARM_UP, TIMED = 5, 50
KINDS = ("training", "workshop", "advocacy-campaign", "coalition-meeting", "safe-space")
ZONES = ("Africa/Tunis", "Africa/Cairo", "Asia/Beirut", "Europe/Paris", "Asia/Amman")


def node(events: int, registrations: int):
    folder = STATE / f"events-{events}-{registrations}"
    fresh = not (folder / "ready").exists()
    if fresh and folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    (folder / "config.py").write_text(
        "NODE_NAME = 'bench'\nSECRET_KEY = 'bench-only-not-secret-0123456789abcdef'\n"
        "PLUGINS = ['plugins.events']\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{folder / 'rabita.db'}'\n"
        f"PASSPHRASE_FILE = {str(folder / 'passphrase')!r}\nKEY_SHARE_DIR = None\n")
    if fresh:
        keystore.create_keyring(folder / keystore.KEYRING_FILE, PASSPHRASE)
    app = create_app({"INSTANCE_PATH": str(folder)})
    with app.test_request_context():
        if fresh:
            db.create_all()
            fill(events, registrations)
            (folder / "ready").write_text("ok\n")
        if not db.session.scalar(select(func.count()).select_from(Approval)):
            approve_public()
        organiser = db.session.scalar(select(User.id).limit(1))
    return app, organiser


def approve_public() -> None:
    """The public events approved for the hub (the public feed holds only those), as rows:
    a benchmark of the feed, not of review."""
    from plugins.events.models import Event  # noqa: PLC0415 -- the plugin's model, once its app registered it

    public = db.session.scalars(select(Event.uuid).where(Event.audience == "public")).all()
    db.session.add_all(Approval(record_type=Event.__record_type__, record_uuid=uuid,
                                audience="hub", version=1, payload_hash="0" * 64,
                                policy_hash="0" * 64) for uuid in public)
    db.session.commit()


def fill(count: int, registrations: int) -> None:
    from plugins.events.models import Event, Organiser, Registration  # noqa: PLC0415 -- the plugin's models, once its app registered them

    rng = random.Random(16)
    salma = users.create("salma", "benchmark password 2026", "documenter")
    members = [users.create(f"member{n}", "benchmark password 2026", "member") for n in range(50)]
    db.session.commit()
    first = datetime(2022, 1, 1, tzinfo=UTC)
    per_event = registrations // count
    for start in range(0, count, 500):
        batch = []
        for number in range(start, min(count, start + 500)):
            event = records.new(Event, salma)
            begins = first + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60 // 30) * 30)
            event.title, event.kind = f"Event {number}", rng.choice(KINDS)
            event.starts_at, event.ends_at = begins, begins + timedelta(hours=2)
            event.timezone = rng.choice(ZONES)
            event.recurrence = f"FREQ=WEEKLY;COUNT={rng.randint(4, 12)}" \
                if rng.random() < 0.125 else None
            event.audience = rng.choice(("members", "coalition", "public"))
            event.city, event.location_visibility = "Tunis", rng.choice(("exact", "secret"))
            event.capacity, event.registration_open, event.languages = 40, True, ["ar"]
            records.set_identifying(event, event, "location", f"Secret house {number}")
            event.organisers.append(Organiser(user_id=salma.id))
            batch.append(event)
        records.save_new(batch, salma, action="bench.events")
        rows = []
        for event in batch:
            for seat in range(per_event):
                row = Registration(event_id=event.id, registered_at=clock.now(),
                                   age_band="18-29", role="participant")
                if seat % 3:
                    records.set_identifying(event, row, "member", members[seat % 50].id)
                else:
                    records.set_identifying(event, row, "name", f"Outsider {seat}")
                rows.append(row)
        db.session.add_all(rows)
        db.session.commit()
        print(f"  {start + len(batch):,} events written", flush=True)


def timed(client, url: str) -> tuple[float, float, str]:
    for _ in range(WARM_UP):
        client.get(url)
    spent = []
    for _ in range(TIMED):
        began = time.perf_counter()
        answer = client.get(url)
        spent.append((time.perf_counter() - began) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)
    body = answer.get_data()
    held = f"{body.count(b'BEGIN:VEVENT')} VEVENTs" if url.endswith(".ics") else \
        f"{body.count(b'/events/e/')} event links, {len(body) // 1024} KiB"
    spent.sort()
    return statistics.median(spent), spent[int(len(spent) * 0.95) - 1], held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--registrations", type=int, default=100_000)
    options = parser.parse_args()
    app, organiser = node(options.events, options.registrations)
    app.test_client_class = RabitaClient
    client = signed_in_client(app, organiser)
    with app.test_request_context():
        from plugins.events.models import Event, Registration  # noqa: PLC0415 -- after the app

        held = (db.session.scalar(select(func.count()).select_from(Event)),
                db.session.scalar(select(func.count()).select_from(Registration)))
    token = client.post("/events/feed", data={"action": "new", "csrf_token": client.csrf_token(
        "/events/feed")}).get_data(as_text=True).split("/events/feed/")[1].split(".ics")[0]
    today = clock.now().date()
    pages = {
        "baseline: her account page": "/account/",
        "month view (this month)": f"/events/?view=month&on={today.replace(day=1)}",
        "week view": f"/events/?view=week&on={today}",
        "agenda (60 days)": f"/events/?view=agenda&on={today}",
        "month view, filtered (type, audience)":
            f"/events/?view=month&on={today.replace(day=1)}&kind=training&audience=public",
        "public feed (past year and next)": "/events/feed.ics",
        "member's feed (past year and next)": f"/events/feed/{token}.ics",
    }
    print(f"events: {held[0]:,}, registrations: {held[1]:,} (SQLite, in-app)")
    print(f"  {'page':<40} {'p50 ms':>8} {'p95 ms':>8}  held")
    for label, url in pages.items():
        p50, p95, shown = timed(client, url)
        print(f"  {label:<40} {p50:>8.1f} {p95:>8.1f}  {shown}")


if __name__ == "__main__":
    main()
