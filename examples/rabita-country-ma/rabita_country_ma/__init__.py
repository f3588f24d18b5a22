"""Morocco, as an example of a country plugin kept in its own distribution: the Arabic names
and spellings of some regions and cities, and Moroccan phone numbers to scrub.

Rabita finds it through the ``rabita.plugins`` entry point ``country_ma`` (pyproject.toml)
once it is installed and the node's config names it in ``PLUGINS``. Like the country plugins
shipped with Rabita, it is data and a few lines of hooks.
"""

from __future__ import annotations

from pathlib import Path

from core import countries
from core.hookspecs import hookimpl

DATA = Path(__file__).parent / "data"
COUNTRY = "MA"


@hookimpl
def register_places():
    return countries.places(DATA)


@hookimpl
def register_phone_regions():
    return [COUNTRY]
