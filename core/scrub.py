"""Free-text scrubbing: what is taken out of `open` text before it leaves a node.

Replaced by a visible placeholder: e-mail addresses; phone numbers (the ``phonenumbers``
library, for the regions country plugins declare, in Western or Arabic-Indic digits);
national ID numbers (patterns country plugins declare); and every value of the record's own
`never` fields wherever it appears — in any case, with or without Arabic diacritics,
tatweel or hamza/alef variants, and with common Arabic prefixes (و ف ب ل ك ال) attached.
When in doubt, scrubbing takes more rather than less.

All the texts of one record are scrubbed together, folded once (``core.text``): finding
that a text holds nothing to take out costs a few scans in C, not a loop per character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from core.text import (
    fold,
    fold_with_offsets,
    fold_words,
    fold_words_with_offsets,
    folds_to_nothing,
)

PLACEHOLDER = "[redacted]"
SCRUBBER_VERSION = 2
SCRUB_WORDS = "words"  # how a value is looked for: word by word (the default), or whole
MIN_VALUE = 2  # folded characters: shorter values cannot be found safely
MIN_TOKEN = 3  # a word of a longer value, matched on its own
SUBSTRING_TOKEN = 5  # from this length a word is matched even inside another word
MIN_DIGITS = 6  # a value's digits, this many or more, are matched across separators
ALWAYS_SCRUBBED_DIGITS = 9  # a run of this many digits is taken out, whatever it is
PHONE_DIGITS = (7, 8)  # shorter runs are never numbers; longer ones are always taken
# Words of a longer value that are never looked for alone (folded): they name no one.
STOPWORDS = frozenset(fold(" ".join([
    "the and with for from that this was were her his she him their about into over after",
    "street road avenue building floor apartment flat house village city town district near",
    "les des une que qui dans pour par sur avec sans chez elle ils rue avenue route cite",
    "quartier immeuble etage appartement maison village ville pres",
    "في من على إلى عن مع هذا هذه التي الذي كان كانت عند بعد قبل شارع نهج طريق حي عمارة",
    "الطابق شقة منزل قرية مدينة قرب",
])).split())

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
DATE_LIKE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
DIGIT_CHARS = "0123456789"
DIGITS = re.compile(r"[0-9]+")
NOT_DIGIT = re.compile(r"\D")
DIGIT_RUN = re.compile(r"\+?[0-9](?:[ \t().\-/]{0,2}[0-9])*")
DIGIT_LEAD = re.compile(r"[+0-9]")  # where a run can start: found by a fast scan in C

ARABIC = re.compile(r"[\u0600-\u06ff]")
WORD = re.compile(r"[^\W_]+")
YEAR = re.compile(r"(?:19|20)\d\d")
ARABIC_PREFIXES = frozenset(
    {"", "و", "ف", "ب", "ل", "ك", "ال", "وال", "بال", "فال", "كال", "لل", "ولل"}
)
ARABIC_SUFFIXES = frozenset(
    {"", "ه", "ها", "هم", "هما", "هن", "ي", "نا", "ك", "كم", "ين", "ون", "ان", "ات"}
)


@dataclass(frozen=True)
class ScrubPattern:
    """A national ID (or similar) format a country plugin declares. It is matched against
    each run of digits in a text (0-9, with the separators inside the run)."""

    name: str
    regex: str


class Secrets:
    """The `never` values of one record, prepared once for finding them in its texts.

    A value is given as a string (looked for word by word) or as ``(text, "value")`` (a
    free-text value, looked for only as a whole). Long words, whole values and digit runs
    are matched anywhere; short words only as whole words, with an Arabic prefix or suffix
    attached. Very common words are never looked for alone.
    """

    def __init__(self, values: Iterable[str | tuple[str, str]]):
        needles: set[str] = set()
        short: set[str] = set()
        digits: set[str] = set()
        words_of_names: list[str] = []
        items = [(item, SCRUB_WORDS) if isinstance(item, str) else item for item in values]
        # Fold them all at once and cut them into words (both in C): one line per value.
        joined = fold_words("\n".join(value.replace("\n", " ") for value, _ in items))
        for (_value, mode), line in zip(items, joined.split("\n") if items else [],
                                        strict=True):
            words = line.split()
            if len(words) > 1:
                needles.add(" ".join(words))
                if mode == SCRUB_WORDS:
                    words_of_names += words
            elif words and len(words[0]) >= MIN_VALUE:
                (short if len(words[0]) < SUBSTRING_TOKEN else needles).add(words[0])
            if not line.replace(" ", "").isalpha():  # it holds digits
                run = "".join(DIGITS.findall(line))
                if len(run) >= MIN_DIGITS:
                    digits.add(run)
        # Each word of a name or an address, on its own; never "rue", "street" or "في",
        # which are in every text and name no one.
        for word in set(words_of_names) - STOPWORDS:
            if len(word) >= SUBSTRING_TOKEN:
                needles.add(word)
            elif len(word) >= MIN_TOKEN:
                short.add(word)
        self._needles = tuple(sorted(needles, key=len, reverse=True))
        self._short = frozenset(short)
        self.digit_runs = frozenset(digits)

    def __bool__(self) -> bool:
        return bool(self._needles or self._short or self.digit_runs)

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """Where the values stand in a folded text (positions in the folded text)."""
        found = []
        for needle in self._needles:
            start = folded.find(needle)
            while start >= 0:
                found.append((start, start + len(needle)))
                start = folded.find(needle, start + 1)
        for token in self._short:
            start = folded.find(token)
            while start >= 0:
                if _stands_alone(folded, start, start + len(token)):
                    found.append((start, start + len(token)))
                start = folded.find(token, start + 1)
        return found


class Scrubber:
    """Scrubs text for one node's policy: its phone regions and national ID patterns."""

    def __init__(self, phone_regions: Iterable[str] = (), patterns: Iterable[ScrubPattern] = ()):
        self.phone_regions = tuple(sorted(set(phone_regions)))
        self.patterns = tuple(sorted(patterns, key=lambda p: p.name))
        self._compiled = [re.compile(p.regex) for p in self.patterns]

    def scrub(self, text: str, secrets: Secrets) -> str:
        return self.scrub_many([text], secrets)[0]

    def scrub_many(self, texts: Sequence[str], secrets: Secrets) -> list[str]:
        """Scrub the texts of one record, all at once."""
        joined = "\n".join(texts)
        folded, offsets = fold_with_offsets(joined)
        spans = [_to_original(joined, offsets, start, end)
                 for start, end in _merged(secrets.spans(folded)
                                           + self._number_spans(folded, secrets))]
        if "@" in joined:
            spans += [m.span() for m in EMAIL.finditer(joined)]
        if not spans:
            return list(texts)
        return _replace_each(texts, spans)

    def fingerprint(self) -> dict:
        """What this scrubber does, for the policy hash."""
        return {
            "version": SCRUBBER_VERSION,
            "phone_regions": list(self.phone_regions),
            "patterns": [[p.name, p.regex] for p in self.patterns],
        }

    def _number_spans(self, folded: str, secrets: Secrets) -> list[tuple[int, int]]:
        spans = []
        for start, end in _digit_runs(folded):
            run = folded[start:end]
            digits = NOT_DIGIT.sub("", run) if len(run) > 1 else run
            if (
                len(digits) >= ALWAYS_SCRUBBED_DIGITS
                or any(secret in digits for secret in secrets.digit_runs)
                or (PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]
                    and not DATE_LIKE.match(run) and self._is_phone(run))
            ):
                spans.append((start, end))
                continue
            for pattern in self._compiled:
                spans += [(start + m.start(), start + m.end()) for m in pattern.finditer(run)]
        return spans

    def _is_phone(self, candidate: str) -> bool:
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


def _digit_runs(folded: str) -> list[tuple[int, int]]:
    """Runs of digits in a folded text (digits there are 0-9), with up to two separators
    (space, dot, dash, slash, brackets) between digits and a leading "+"."""
    if not any(digit in folded for digit in DIGIT_CHARS):
        return []
    # As DIGIT_RUN.finditer, which tries the whole pattern at every position of the text:
    # try it only where a "+" or a digit stands.
    runs, position = [], 0
    while (lead := DIGIT_LEAD.search(folded, position)) is not None:
        run = DIGIT_RUN.match(folded, lead.start())
        if run is None:
            position = lead.start() + 1
            continue
        runs.append(run.span())
        position = run.end()
    return runs


def _stands_alone(folded: str, start: int, end: int) -> bool:
    """True if folded[start:end] is a whole word, or an Arabic word with a prefix (و، ال…)
    or a pronoun suffix attached."""
    word_start = start
    while word_start > 0 and folded[word_start - 1].isalnum():
        word_start -= 1
    word_end = end
    while word_end < len(folded) and folded[word_end].isalnum():
        word_end += 1
    prefix, suffix = folded[word_start:start], folded[end:word_end]
    if not prefix and not suffix:
        return True
    return (ARABIC.match(folded[start]) is not None and prefix in ARABIC_PREFIXES
            and suffix in ARABIC_SUFFIXES)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans sorted, those that overlap or touch made one (a name's words lie inside the
    whole name: one placeholder, and less work mapping them back to the original text)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _to_original(text: str, offsets: Sequence[int], start: int, end: int) -> tuple[int, int]:
    first, last = offsets[start], offsets[end - 1] + 1
    # Take along marks that fold to nothing (diacritics, tatweel) on either side.
    while last < len(text) and not text[last].isascii() and folds_to_nothing(text[last]):
        last += 1
    while first > 0 and not text[first - 1].isascii() and folds_to_nothing(text[first - 1]):
        first -= 1
    return first, last


def _replace_each(texts: Sequence[str], spans: list[tuple[int, int]]) -> list[str]:
    """Apply spans of the joined text (texts + "\n" between them) to each text, in one sweep;
    a span that runs over a boundary is cut in two."""
    spans = _merged(spans)
    scrubbed, base, index = [], 0, 0
    for text in texts:
        end_of_text = base + len(text)
        pieces, position = [], 0
        while index < len(spans) and spans[index][0] < end_of_text:
            start, stop = spans[index]
            cut_start, cut_stop = max(start, base) - base, min(stop, end_of_text) - base
            if cut_stop > cut_start:
                pieces += (text[position:cut_start], PLACEHOLDER)
                position = cut_stop
            if stop > end_of_text:
                break  # it goes on into the next text
            index += 1
        scrubbed.append("".join(pieces) + text[position:] if pieces else text)
        base = end_of_text + 1
    return scrubbed


# -- what still looks identifying, for the reviewer's eye ------------------------------------

NAME, NUMBER, DATE = "name", "number", "date"


@dataclass(frozen=True)
class Span:
    """A stretch of an outgoing text that still looks like a name, a number or a date:
    ``text[start:end]``, of ``kind`` NAME, NUMBER or DATE."""

    start: int
    end: int
    kind: str


def suspicious_spans(text: str) -> list[Span]:
    """Where ``text`` (an outgoing, already scrubbed text) still looks like a name, a number
    or a date, so a reviewer's eye is drawn to it. Stable interface for the review page:
    positions index ``text`` itself, spans are sorted and do not overlap, and the
    placeholder scrubbing leaves is never marked. It marks more than scrubbing takes out
    (any capitalised word that is not an ordinary word, any word after a title or a
    kinship word, any run of two or more digits, any month name next to a number): it is
    a pointer for a person, not a rule."""
    from core.lexicon import NAME_CUES, ORDINARY, month_names

    words, offsets = fold_words_with_offsets(text.replace(PLACEHOLDER, " " * len(PLACEHOLDER)))
    months = month_names()
    found: list[tuple[int, int, str]] = []
    tokens = [(match.start(), match.end(), match.group()) for match in WORD.finditer(words)]
    index = 0
    while index < len(tokens):
        start, end, word = tokens[index]
        before = tokens[index - 1][2] if index else ""
        if word.isdigit():
            last = index  # a run of numbers, one separator apart: one number or one date
            while last + 1 < len(tokens) and tokens[last + 1][2].isdigit() \
                    and tokens[last + 1][0] == tokens[last][1] + 1:
                last += 1
            run = [token[2] for token in tokens[index:last + 1]]
            after = tokens[last + 1][2] if last + 1 < len(tokens) else ""
            near_month = before in months or after in months
            if near_month or _looks_like_a_date(run):
                found.append((start, tokens[last][1], DATE))
            elif len("".join(run)) >= 2:
                found.append((start, tokens[last][1], NUMBER))
            index = last + 1
            continue
        original = text[offsets[start]:offsets[end - 1] + 1]
        after = tokens[index + 1][2] if index + 1 < len(tokens) else ""
        if word in months and (before.isdigit() or after.isdigit()):
            found.append((start, end, DATE))
        elif word not in ORDINARY and (
            before in NAME_CUES or (original[:1].isupper() and not original.isupper())
            or (original.isupper() and len(original) >= 2)
            or (after in ("بن", "بنت", "ben", "bent", "bint") and ARABIC.match(word))
        ):
            found.append((start, end, NAME))
        index += 1
    if "@" in text:
        found += [(m.start(), m.end(), NAME) for m in EMAIL.finditer(words)]
    return _to_spans(text, offsets, found)


def _looks_like_a_date(run: list[str]) -> bool:
    """A year alone, or day and month (and year) in either order: 14 11, 2024 11 14."""
    if len(run) == 1:
        return YEAR.fullmatch(run[0]) is not None
    numbers = [int(part) for part in run]
    if len(run) == 2:
        return all(len(part) <= 2 for part in run) and 1 <= min(numbers) <= 12 \
            and max(numbers) <= 31
    if len(run) == 3:
        day_first = numbers[0] <= 31 and numbers[1] <= 12 and len(run[2]) in (2, 4)
        year_first = len(run[0]) == 4 and numbers[1] <= 12 and numbers[2] <= 31
        month_first = numbers[0] <= 12 and numbers[1] <= 31 and len(run[2]) in (2, 4)
        return day_first or year_first or month_first
    return False


def _to_spans(text: str, offsets: Sequence[int], found) -> list[Span]:
    spans: list[Span] = []
    for start, end, kind in sorted(found):
        first, last = offsets[start], offsets[end - 1] + 1
        joined = spans and kind == spans[-1].kind != NAME \
            and not text[spans[-1].end:first].strip(" \t\n,./-\u2013\u066b")
        if spans and (first <= spans[-1].end or joined):
            previous = spans.pop()
            kind = previous.kind if previous.kind == DATE or kind == NAME else kind
            first, last = previous.start, max(last, previous.end)
        spans.append(Span(first, last, kind))
    return spans
