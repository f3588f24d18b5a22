"""Egypt's national number (الرقم القومي): fourteen digits that say who she is —

    C YYMMDD GG SSSS K
    3 040315 21 0123 7

C, the century of birth (2: 1900-1999, 3: 2000-2099); YYMMDD, the date of birth; GG, the
governorate of birth, by the civil registry's own codes (01 Cairo … 35 South Sinai, 88 born
abroad: ``national_id_code`` in data/places.json); SSSS, a serial whose last digit is odd for
a man and even for a woman; K, a check digit whose rule is not published (so any digit).

The pattern is built from the governorate codes, so an ordinary fourteen-digit number that
cannot be an ID is told apart in tests; scrubbing takes out any run of nine digits or more
anyway (``core.scrub.ALWAYS_SCRUBBED_DIGITS``).
"""

from __future__ import annotations

from pathlib import Path

from core import countries
from core.scrub import ScrubPattern

BORN_ABROAD = "88"
CENTURY, MONTH, DAY = "[23]", "(?:0[1-9]|1[0-2])", "(?:0[1-9]|[12][0-9]|3[01])"


def governorate_codes(data: Path) -> list[str]:
    codes = {place["national_id_code"] for place in countries.read(data, "places.json")
             if "national_id_code" in place}
    return sorted(codes | {BORN_ABROAD})


def national_number(data: Path) -> ScrubPattern:
    governorates = "|".join(governorate_codes(data))
    return ScrubPattern(
        "country_eg.national-id",
        rf"(?<![0-9]){CENTURY}[0-9]{{2}}{MONTH}{DAY}(?:{governorates})[0-9]{{5}}(?![0-9])")
