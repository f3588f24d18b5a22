"""Canary testing for redaction: does any identifying value survive into a payload?

For any record schema, ``canary_records(schema)`` is a Hypothesis strategy of records whose
every `never` field holds canaries — invented names and numbers in Latin and Arabic script —
and whose `open` texts quote those canaries the way people write: other letter case,
Arabic diacritics and tatweel, hamza/alef variants, taa marbuta and alef maqsura swapped,
a prefix such as و or ال attached, Arabic-Indic digits, digits split by spaces or dashes.
``leaks(payload, canaries)`` lists the canaries still found in a payload.

Used by core's tests, by ``make leakcheck``, and by plugin authors for their own schemas.
(Needs Hypothesis, a test dependency.)
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from hypothesis import strategies as st
from marshmallow import Schema, fields

from core.redaction import (
    GENERALISE,
    NEVER,
    OPEN,
    SCRUB_VALUE,
    SCRUB_WORDS,
    _nested_schema,
    sharing_of,
)
from core.scrub import ARABIC_PREFIXES, ARABIC_SUFFIXES, PLACEHOLDER
from core.text import fold

LATIN = "bcdfghjklmnpqrstvwxz"  # consonants only: no canary hides inside an ordinary word
ARABIC = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
DIACRITICS = "\u064e\u064f\u0650\u0651\u0652\u064b"
TATWEEL = "\u0640"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
STORY = (
    "the police came to her home and took her phone . she was questioned about her work "
    "with the association ; her lawyer was not allowed in . "
    "la police est venue chez elle ; elle a été interrogée sur son travail . "
    "جاءت الشرطة إلى منزلها وأخذت هاتفها . استجوبت حول عملها مع الجمعية ."
)
FILLER = tuple(STORY.split())
WORD = re.compile(r"[^\W_]+")


@dataclass
class CanaryRecord:
    values: dict
    canaries: list[str] = field(default_factory=list)  # every canary word, as written
    # Free-text `never` values (scrub "value"): quoted whole, so checked whole.
    whole: list[str] = field(default_factory=list)


latin_word = st.text(LATIN, min_size=3, max_size=8)
arabic_word = st.text(ARABIC, min_size=3, max_size=8)
digit_run = st.text("0123456789", min_size=6, max_size=10)
canary_word = st.one_of(latin_word, arabic_word)


@st.composite
def canary_value(draw) -> list[str]:
    """One identifying value as its words: a name, an address, or a number."""
    if draw(st.booleans()):
        return [draw(digit_run)]
    return draw(st.lists(canary_word, min_size=1, max_size=3))


def disguised(rng, word: str, prefix: bool = True) -> str:
    """``word`` as someone might type it in a narrative (``rng``: a seeded random.Random)."""
    if word.isdigit():
        text = word
        if rng.random() < 0.5:
            cut = rng.randint(1, len(word) - 1)
            text = word[:cut] + rng.choice([" ", "-", ".", "/"]) + word[cut:]
        return text.translate(rng.choice([{}, ARABIC_INDIC, EASTERN_INDIC]))
    if word[0] in LATIN:
        return rng.choice([word, word.upper(), word.title()])
    letters = [
        letter + (rng.choice(DIACRITICS + TATWEEL) if rng.random() < 0.25 else "")
        for letter in word
    ]
    text = "".join(letters)
    text = text.replace("ي", rng.choice(["ي", "ى"]), 1)
    text = text.replace("ه", rng.choice(["ه", "ة"]), 1)
    return (rng.choice(["", "", "و", "ب", "ل", "ال", "وال"]) if prefix else "") + text


def narrative(rng, canary_words: list[str], whole: list[str] = ()) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(3, 30))]
    for word in canary_words:
        if rng.random() < 0.5:
            words.insert(rng.randint(0, len(words)), disguised(rng, word))
    for value in whole:
        if rng.random() < 0.5:
            first, *rest = value.split()  # a quote: only its first word takes a prefix
            quoted = " ".join([disguised(rng, first), *(disguised(rng, w, False) for w in rest)])
            words.insert(rng.randint(0, len(words)), quoted)
    return " ".join(words)


@st.composite
def canary_records(draw, schema: Schema, typical: Mapping[str, st.SearchStrategy] | None = None):
    """A record of ``schema`` full of canaries; ``typical`` gives values for named fields."""
    canaries: list[str] = []
    whole: list[str] = []
    values = _skeleton(draw, schema, canaries, whole)
    # One seed per record: the disguises are many small choices, cheaper made by random.Random.
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    _complete(draw, rng, schema, values, canaries, whole, typical or {})
    return CanaryRecord(values, canaries, whole)


def _skeleton(draw, schema: Schema, canaries: list[str], whole: list[str]) -> dict:
    """First the `never` values (and the parts that hold them), collecting their words."""
    values = {}
    for name, schema_field in schema.fields.items():
        nested = _nested_schema(schema_field)
        if nested is not None:
            values[name] = [_skeleton(draw, nested, canaries, whole)
                            for _ in range(draw(st.integers(0, 2)))]
        elif sharing_of(schema_field) == NEVER:
            words = draw(canary_value())
            value = words[0] if words[0].isdigit() else " ".join(words)
            if schema_field.metadata.get("scrub", SCRUB_WORDS) == SCRUB_VALUE and len(words) > 1:
                whole.append(value)
            else:
                canaries.extend(words)
            values[name] = value
    return values


def _complete(draw, rng, schema, values, canaries, whole, typical, prefix=""):
    """Then every other field, its texts quoting the canaries."""
    for name, schema_field in schema.fields.items():
        path = f"{prefix}{name}"
        nested = _nested_schema(schema_field)
        if path in typical:
            values[name] = draw(typical[path])
        elif nested is not None:
            for item in values[name]:
                _complete(draw, rng, nested, item, canaries, whole, typical, f"{path}.")
        elif sharing_of(schema_field) in (OPEN, GENERALISE):
            values[name] = _ordinary(rng, schema_field, canaries, whole)


def _ordinary(rng, schema_field, canaries, whole):
    if isinstance(schema_field, fields.List):
        return [narrative(rng, canaries, whole) for _ in range(rng.randint(0, 3))]
    if isinstance(schema_field, fields.Date):
        return date.fromordinal(rng.randint(date(1990, 1, 1).toordinal(),
                                            date(2026, 1, 1).toordinal())).isoformat()
    if isinstance(schema_field, fields.Integer):
        return rng.randint(0, 100)
    if isinstance(schema_field, fields.Boolean):
        return rng.random() < 0.5
    return narrative(rng, canaries, whole)


def leaks(payload, canaries: Iterable[str], whole: Iterable[str] = ()) -> list[str]:
    """The canaries still present in ``payload`` (any nesting), however they are written;
    ``whole`` values (free text) count only when quoted whole."""
    texts = [fold(text.replace(PLACEHOLDER, " ")) for text in _strings(payload)]
    found = {value for value in set(whole) if _quoted_whole(value, texts)}
    short = {}
    for canary in set(canaries):
        folded = fold(canary)
        if canary.isdigit():
            if any(folded in re.sub(r"\D", "", text) for text in texts):
                found.add(canary)
        elif len(folded) >= 5:
            if any(folded in text for text in texts):
                found.add(canary)
        else:
            short[folded] = canary
    if short:
        for text in texts:
            for word in WORD.findall(text):
                found.update(canary for folded, canary in short.items()
                             if _within(word, folded))
    return sorted(found)


def _quoted_whole(value: str, texts: list[str]) -> bool:
    compact = "".join(WORD.findall(fold(value)))
    return any(compact in "".join(WORD.findall(text)) for text in texts)


def _within(word: str, folded: str) -> bool:
    """``folded`` is the word, or the word with an Arabic prefix or suffix attached."""
    position = word.find(folded)
    while position >= 0:
        prefix, suffix = word[:position], word[position + len(folded):]
        if prefix in ARABIC_PREFIXES and suffix in ARABIC_SUFFIXES:
            return True
        position = word.find(folded, position + 1)
    return False


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
