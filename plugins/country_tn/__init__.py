"""Tunisia: governorates and places, phone numbers and national ID numbers to scrub."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from core.hookspecs import hookimpl
from core.places import Place
from core.scrub import ScrubPattern

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def _places() -> tuple[Place, ...]:
    raw = json.loads((DATA / "places.json").read_text(encoding="utf-8"))
    return tuple(
        Place(code=p["code"], kind=p["kind"], names=p["names"], parent=p.get("parent"))
        for p in raw
    )


@hookimpl
def register_places():
    return list(_places())


@hookimpl
def register_phone_regions():
    return ["TN"]


@hookimpl
def register_scrub_patterns():
    # Carte d'identité nationale: 8 digits.
    return [ScrubPattern("country_tn.national-id", r"(?<!\d)\d{8}(?!\d)")]
