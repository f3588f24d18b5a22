"""Fictional sample events for the demo and tests: trainings, campaigns, visits and meetings in
the coming weeks, in Arabic, French and English, written through the store as the form would
write them (every check applies). Every place and link says it is invented."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from . import store
from .models import Event

TITLES = {
    "training": {"ar": "تدريب على السلامة الرقمية للمدافعات",
                 "fr": "Formation à la sécurité numérique des défenseuses",
                 "en": "Digital safety training for defenders"},
    "workshop": {"ar": "ورشة توثيق الانتهاكات", "fr": "Atelier de documentation des violations",
                 "en": "Workshop on documenting violations"},
    "advocacy-campaign": {"ar": "حملة مناصرة من أجل المدافعات المعتقلات",
                          "fr": "Campagne pour les défenseuses détenues",
                          "en": "Campaign for detained defenders"},
    "solidarity-visit": {"ar": "زيارة تضامنية", "fr": "Visite de solidarité",
                         "en": "Solidarity visit"},
    "trial-observation": {"ar": "مراقبة محاكمة", "fr": "Observation d'un procès",
                          "en": "Trial observation"},
    "coalition-meeting": {"ar": "اجتماع الائتلاف الشهري", "fr": "Réunion mensuelle de la coalition",
                          "en": "Monthly coalition meeting"},
}
DESCRIPTIONS = {
    "ar": "نشاط خيالي لغرض العرض فقط.",
    "fr": "Activité fictive, pour la démonstration seulement.",
    "en": "A fictional activity, for the demo only.",
}


def event_data(rng: random.Random, *, audience: str, timezone: str, city: str,
               today: date | None = None) -> dict:
    """What the event form would give for one fictional event in the next eight weeks."""
    kind = rng.choice(sorted(TITLES))
    language = rng.choice(["ar", "ar", "fr", "en"])
    day = (today or date.today()) + timedelta(days=rng.randint(3, 56))
    starts_at = datetime.combine(day, time(rng.choice([9, 10, 14, 17]), 0))
    return {
        "title": TITLES[kind][language], "description": DESCRIPTIONS[language], "kind": kind,
        "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=rng.choice([2, 3, 6])),
        "timezone": timezone, "recurrence": "", "city": city,
        "location_visibility": rng.choice(["exact", "city", "secret"]),
        "location": f"{rng.randint(1, 99)} rue de l'Exemple (fictive)",
        "online_link": "", "audience": audience, "capacity": rng.choice([None, 15, 30]),
        "registration_open": True,
        "languages": sorted({language, rng.choice(["ar", "fr", "en"])}),
    }


def create(author, audiences: list[str], *, seed: int | str = 0, timezone: str = "UTC",
           city: str = "") -> list[Event]:
    """One fictional event per audience in ``audiences`` (``members``, ``coalition`` or
    ``public``), organised by ``author``; each is committed as the form would commit it."""
    rng = random.Random(f"events-{seed}")
    return [store.write(None, event_data(rng, audience=audience, timezone=timezone, city=city),
                        author)
            for audience in audiences]
