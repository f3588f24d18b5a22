"""Numbers as people write them in narratives, for the country plugins' scrubbing tables:
grouped with spaces, dashes or dots, with an international prefix or a trunk zero, in
Western, Arabic-Indic (٠-٩) or Eastern Arabic-Indic (۰-۹) digits. Written from how numbers
are typed, not from the patterns that find them."""

from __future__ import annotations

import re

from core.scrub import Scrubber, Secrets

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
WESTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def arabic_indic(text: str) -> str:
    return text.translate(ARABIC_INDIC)


def eastern(text: str) -> str:
    return text.translate(EASTERN)


def grouped(digits: str, sizes: tuple[int, ...], separator: str = " ") -> str:
    """``digits`` cut into groups of ``sizes`` (the rest in a last group)."""
    parts, position = [], 0
    for size in sizes:
        parts.append(digits[position:position + size])
        position += size
    if position < len(digits):
        parts.append(digits[position:])
    return separator.join(parts)


def digits_in(text: str) -> str:
    return re.sub(r"[^0-9]", "", text.translate(WESTERN))


def assert_taken_out(scrubber: Scrubber, sentence: str, number: str) -> None:
    """``number`` written in ``sentence`` (``{}`` marks where) leaves no digit behind; the
    sentence's other digits stay."""
    text = sentence.format(number)
    scrubbed = scrubber.scrub(text, Secrets([]))
    assert "[redacted]" in scrubbed, text
    assert digits_in(scrubbed) == digits_in(sentence.format("")), (text, scrubbed)


def assert_left_alone(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(text, Secrets([])) == text
