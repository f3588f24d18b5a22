"""Free-text scrubbing: what is taken out of `open` text before it leaves a node.

Replaced by a visible placeholder: e-mail addresses; phone numbers (the ``phonenumbers``
library, for the regions country plugins declare, in Western or Arabic-Indic digits);
national ID numbers (patterns country plugins declare); and every value of the record's own
`never` fields wherever it appears — in any case, with or without Arabic diacritics,
tatweel or hamza/alef variants, and with common Arabic prefixes (و ف ب ل ك ال) attached.
When in doubt, scrubbing takes more rather than less.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from core.text import fold, fold_with_offsets, western_digits

PLACEHOLDER = "[redacted]"
SCRUBBER_VERSION = 1
MIN_VALUE = 2  # folded characters: shorter values cannot be found safely
MIN_TOKEN = 3  # a word of a longer value, matched on its own
SUBSTRING_TOKEN = 5  # from this length a word is matched even inside another word
MIN_DIGITS = 6  # values with this many digits are also matched across separators

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
PHONE_CANDIDATE = re.compile(r"\+?\d[\d \t().\-/]{5,}\d")
DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
ALWAYS_SCRUBBED_DIGITS = 9
WORD = re.compile(r"\w+")
ARABIC = re.compile(r"[\u0600-\u06ff]")
ARABIC_PREFIXES = frozenset(
    {"", "و", "ف", "ب", "ل", "ك", "ال", "وال", "بال", "فال", "كال", "لل", "ولل"}
)
ARABIC_SUFFIXES = frozenset(
    {"", "ه", "ها", "هم", "هما", "هن", "ي", "نا", "ك", "كم", "ين", "ون", "ان", "ات"}
)
SEPARATORS = r"[\W_]*"


@dataclass(frozen=True)
class ScrubPattern:
    """A national ID (or similar) pattern a country plugin declares; matched on 0-9 digits."""

    name: str
    regex: str


class Secrets:
    """The `never` values of one record, prepared once for finding them in its texts."""

    def __init__(self, values: Iterable[str]):
        substrings: list[str] = []
        bounded: list[str] = []
        for value in values:
            words = WORD.findall(fold(value))
            if not words or sum(map(len, words)) < MIN_VALUE:
                continue
            if len(words) == 1:
                (bounded if len(words[0]) < SUBSTRING_TOKEN else substrings).append(
                    re.escape(words[0])
                )
            else:
                substrings.append(SEPARATORS.join(map(re.escape, words)))
                for word in words:
                    if len(word) >= SUBSTRING_TOKEN:
                        substrings.append(re.escape(word))
                    elif len(word) >= MIN_TOKEN:
                        bounded.append(re.escape(word))
            digits = re.sub(r"\D", "", western_digits(value))
            if len(digits) >= MIN_DIGITS:
                substrings.append(SEPARATORS.join(digits))
        self._substrings = _alternation(substrings)
        self._bounded = _alternation(bounded)

    def __bool__(self) -> bool:
        return self._substrings is not None or self._bounded is not None

    def spans(self, text: str) -> list[tuple[int, int]]:
        if not self:
            return []
        folded = fold(text)
        if not self._found_in(folded):
            return []
        folded, offsets = fold_with_offsets(text)
        found = []
        if self._substrings is not None:
            found += [m.span() for m in self._substrings.finditer(folded)]
        if self._bounded is not None:
            found += [m.span() for m in _overlapping(self._bounded, folded)
                      if _stands_alone(folded, *m.span())]
        return [_to_original(text, offsets, start, end) for start, end in found if end > start]

    def _found_in(self, folded: str) -> bool:
        return any(p is not None and p.search(folded) for p in (self._substrings, self._bounded))


class Scrubber:
    """Scrubs text for one node's policy: its phone regions and national ID patterns."""

    def __init__(self, phone_regions: Iterable[str] = (), patterns: Iterable[ScrubPattern] = ()):
        self.phone_regions = tuple(sorted(set(phone_regions)))
        self.patterns = tuple(sorted(patterns, key=lambda p: p.name))
        self._compiled = [re.compile(p.regex) for p in self.patterns]

    def scrub(self, text: str, secrets: Secrets) -> str:
        spans = secrets.spans(text)
        spans += [m.span() for m in EMAIL.finditer(text)]
        digits = western_digits(text)
        spans += self._phone_spans(digits)
        for pattern in self._compiled:
            spans += [m.span() for m in pattern.finditer(digits)]
        return _replace(text, spans) if spans else text

    def fingerprint(self) -> dict:
        """What this scrubber does, for the policy hash."""
        return {
            "version": SCRUBBER_VERSION,
            "phone_regions": list(self.phone_regions),
            "patterns": [[p.name, p.regex] for p in self.patterns],
        }

    def _phone_spans(self, digits_text: str) -> list[tuple[int, int]]:
        spans = []
        for match in PHONE_CANDIDATE.finditer(digits_text):
            candidate = match.group(0)
            if DATE_LIKE.match(candidate.strip()):
                continue
            if self._is_phone(candidate):
                spans.append(match.span())
        return spans

    def _is_phone(self, candidate: str) -> bool:
        count = sum(char.isdigit() for char in candidate)
        if count >= ALWAYS_SCRUBBED_DIGITS:
            return True
        for region in (*self.phone_regions, None):
            if region is None and not candidate.startswith("+"):
                continue
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number):
                return True
        return False


def _alternation(patterns: list[str]) -> re.Pattern | None:
    if not patterns:
        return None
    # Longest first, so a whole name wins over one of its words.
    unique = sorted(set(patterns), key=len, reverse=True)
    return re.compile("|".join(unique))


def _overlapping(pattern: re.Pattern, text: str):
    position = 0
    while True:
        match = pattern.search(text, position)
        if match is None:
            return
        yield match
        position = match.start() + 1


def _stands_alone(folded: str, start: int, end: int) -> bool:
    """True if the match is a whole word, or an Arabic word with a prefix or suffix attached."""
    word_start = start
    while word_start > 0 and folded[word_start - 1].isalnum():
        word_start -= 1
    word_end = end
    while word_end < len(folded) and folded[word_end].isalnum():
        word_end += 1
    prefix, suffix = folded[word_start:start], folded[end:word_end]
    if not prefix and not suffix:
        return True
    arabic = ARABIC.search(folded[start:end]) is not None
    return arabic and prefix in ARABIC_PREFIXES and suffix in ARABIC_SUFFIXES


def _to_original(text: str, offsets: list[int], start: int, end: int) -> tuple[int, int]:
    first, last = offsets[start], offsets[end - 1] + 1
    # Take along marks that fold to nothing (diacritics, tatweel) on either side.
    while last < len(text) and not fold(text[last]):
        last += 1
    while first > 0 and not fold(text[first - 1]):
        first -= 1
    return first, last


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, position = [], 0
    for start, end in merged:
        pieces.append(text[position:start])
        pieces.append(PLACEHOLDER)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
