"""Arabic-aware text folding, so a search (or a scrubber) finds a word however it was typed.

Folding: Unicode compatibility forms (presentation forms, ligatures), case, diacritics
(Arabic harakat and Latin accents), tatweel, hamza and alef forms (أ إ آ ٱ → ا, ؤ → و,
ئ → ي), taa marbuta (ة → ه), alef maqsura (ى → ي), Persian letter forms, and
Arabic-Indic and Eastern Arabic-Indic digits (٠-٩, ۰-۹ → 0-9).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

TATWEEL = "\u0640"
_LETTERS = {
    "\u0671": "\u0627",  # alef wasla → alef
    "\u0629": "\u0647",  # taa marbuta → haa
    "\u0649": "\u064a",  # alef maqsura → yaa
    "\u06cc": "\u064a",  # Farsi yeh → yaa
    "\u06a9": "\u0643",  # keheh → kaf
    "\u0621": "",  # a lone hamza is spelled inconsistently: drop it
    TATWEEL: "",
}
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {
    chr(0x06F0 + i): str(i) for i in range(10)
}


def _fold_char(char: str) -> str:
    if char in _DIGITS:
        return _DIGITS[char]
    folded = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.category(part) == "Mn":  # harakat, hamza above/below, accents
            continue
        part = _LETTERS.get(part, part)
        folded.append(_DIGITS.get(part, part))
    return "".join(folded).casefold()


def _words_only(folded: str, line_end: str = " ") -> str:
    """``folded`` with what is neither a letter nor a digit made a space (a line end made
    ``line_end``)."""
    return "".join(line_end if char == "\n" else char if char.isalnum() else " "
                   for char in folded)


class _FoldTable(dict):
    """Each character's folded form, computed the first time it is seen: for one character,
    and for the rare texts with one beyond the BMP."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


class _WordTable(dict):
    """Each character's folded form with whatever is neither a letter nor a digit made a
    space (line ends stay), computed the first time it is seen (beyond the BMP)."""

    def __missing__(self, codepoint: int) -> str:
        folded = _words_only(_FOLD_TABLE[codepoint], line_end="\n")
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()
_WORD_TABLE = _WordTable()
_BMP = 0x10000
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
_SPACE_RUNS = re.compile("  +")
_ASCII_WORDS = bytes(c if chr(c).isalnum() or c == 10 else 32 for c in range(256))
_ASCII_SPACED = bytes(c if chr(c).isalnum() else 32 for c in range(256))


@dataclass(frozen=True)
class _Tables:
    """Folding for every character of the BMP, as ``str.translate`` tables (indexed by code
    point: a code point, None for nothing, or a string of several) and as the characters
    whose folded form is not exactly one character, which offsets must account for."""

    folded: list  # fold()
    words: list  # fold_words(): neither letter nor digit made a space, line ends kept
    spaced: list  # fold_words_with_offsets(): line ends made spaces too
    dropped: re.Pattern  # a run of characters that fold to nothing
    slow: re.Pattern  # a character that folds to several, or one beyond the BMP


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Built once per process from ``_fold_char`` (about a tenth of a second), so that
    folding a text is one ``str.translate`` in C instead of a loop per character."""
    codes = list(range(_BMP))  # one int object per code point, shared by the three tables

    def entry(result: str) -> int | str | None:
        if len(result) == 1 and ord(result) < _BMP:
            return codes[ord(result)]
        return result or None  # none, several, or one beyond the BMP (a CJK ideograph)

    folded, words, spaced, dropped, several = [], [], [], [], []
    for code in range(_BMP):
        if 0xD800 <= code <= 0xDFFF:  # a lone surrogate stays itself
            result = chr(code)
        else:
            result = _FOLD_TABLE[code] if code in _FOLD_TABLE else _fold_char(chr(code))
        folded.append(entry(result))
        words.append(entry(_words_only(result, line_end="\n")))
        spaced.append(entry(_words_only(result)))
        if not result:
            dropped.append(code)
        elif len(result) > 1:
            several.append(code)
    dropped_class = _character_class(dropped)  # a class first: `re` then skips ahead fast
    return _Tables(folded, words, spaced,
                   dropped=re.compile(dropped_class + dropped_class + "*"),
                   slow=re.compile(_character_class(several) + "|" + _BEYOND_BMP.pattern))


def _character_class(codes: list[int]) -> str:
    """A regular expression's class of ``codes`` (ascending, in the BMP: then ``re`` tests
    a character against it in one step), written as ranges."""
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    parts = [f"\\u{first:04x}-\\u{last:04x}" if last > first else f"\\u{first:04x}"
             for first, last in ranges]
    return "[" + "".join(parts) + "]"


class _Offsets(Sequence[int]):
    """For each character of a text made from ``source`` by taking out every match of
    ``taken`` but its first ``keep`` characters: its index in ``source`` (or, through
    ``within``, in the text ``source`` was made from). That index is the character's position
    plus the length taken out before it, so only the positions where that length grows are
    kept, searched by bisection; they are found the first time an offset is asked for (most
    texts are scrubbed without asking)."""

    def __init__(self, length: int, source: str, taken: re.Pattern, keep: int = 0,
                 within: Sequence[int] | None = None):
        self._length, self._source, self._taken, self._keep = length, source, taken, keep
        self._within = within
        self._starts: list[int] = []
        self._shifts: list[int] = []

    def _find_shifts(self) -> None:
        starts, shifts, total = [0], [0], 0
        for match in self._taken.finditer(self._source):
            total += match.end() - match.start() - self._keep
            position = match.end() - total  # of the first character after the match
            if position == starts[-1]:  # at the start, or right after the last match
                shifts[-1] = total
            else:
                starts.append(position)
                shifts.append(total)
        self._shifts = shifts
        self._starts = starts  # last: a non-empty list says the shifts are there

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(self._length))]
        if position < 0:
            position += self._length
        if not 0 <= position < self._length:
            raise IndexError("no character at that position")
        if not self._starts:
            self._find_shifts()
        index = position + self._shifts[bisect_right(self._starts, position) - 1]
        return index if self._within is None else self._within[index]


def fold(text: str) -> str:
    """Return ``text`` in the form searches and scrubbers compare."""
    if text.isascii():
        return text.lower()
    if _BEYOND_BMP.search(text):
        return text.translate(_FOLD_TABLE)
    return text.translate(_tables().folded)


def fold_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``."""
    if text.isascii():
        return text.lower(), range(len(text))
    tables = _tables()
    if tables.slow.search(text):
        return _fold_slowly(text)
    folded = text.translate(tables.folded)
    return folded, _Offsets(len(folded), text, tables.dropped)


def fold_words(text: str) -> str:
    """``fold(text)`` with every character that is neither a letter nor a digit (nor a line
    end) turned into a space, so ``str.split()`` gives its words. One ``str.translate`` in C:
    for the short values a record's secrets are made of, faster than a regular expression
    (a fifth of a microsecond an Arabic character)."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_WORDS).decode("ascii")
    if _BEYOND_BMP.search(text):
        return text.translate(_WORD_TABLE)
    return text.translate(_tables().words)


def folds_to_nothing(char: str) -> bool:
    """True for a character that folding drops (a diacritic, tatweel, a lone hamza)."""
    return not _FOLD_TABLE[ord(char)]


def _fold_slowly(text: str) -> tuple[str, list[int]]:
    """Character by character: for the rare texts with ligatures or beyond the BMP."""
    parts = [_FOLD_TABLE[ord(char)] for char in text]
    offsets = [index for index, part in enumerate(parts) for _ in range(len(part))]
    return "".join(parts), offsets


_ARABIC_DIGITS_RE = re.compile("[" + "".join(_DIGITS) + "]")


def western_digits(text: str) -> str:
    """Replace Arabic-Indic digits by 0-9, one character for one (offsets stay valid)."""
    if text.isascii():
        return text
    return _ARABIC_DIGITS_RE.sub(lambda match: _DIGITS[match.group()], text)


@dataclass(frozen=True)
class Query:
    """What a user typed in a search box, and its folded form for matching."""

    text: str

    @property
    def folded(self) -> str:
        return fold(self.text.strip())

    @property
    def terms(self) -> list[str]:
        return self.folded.split()


# -- one folding for values and texts, punctuation included --------------------------------


def fold_words_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """``fold(text)`` with every run of characters that are neither letters nor digits
    (punctuation, dashes, line ends, ``٫``…) made one space, and for each character its index
    in ``text``. Values and texts are compared in this one form, so "Ben-Ali", "Ben Ali" and
    "Ben\\nAli", or "(AHPE)" and "AHPE", are the same words.

    Two passes in C: one ``str.translate`` (each character folded, or made a space), then
    runs of spaces made one; the offsets are worked out only when asked for (``_Offsets``)."""
    if text.isascii():
        spaced = text.lower().encode("ascii").translate(_ASCII_SPACED).decode("ascii")
        within = None
    else:
        tables = _tables()
        if tables.slow.search(text):
            return _fold_words_slowly(*_fold_slowly(text))
        spaced = text.translate(tables.spaced)
        within = _Offsets(len(spaced), text, tables.dropped)
    words = _SPACE_RUNS.sub(" ", spaced)
    return words, _Offsets(len(words), spaced, _SPACE_RUNS, keep=1, within=within)


def fold_values(values: Sequence[str]) -> list[str]:
    """Each of ``values`` folded as ``fold_for_matching`` folds it (words one space apart,
    no space at either end), all in one ``str.translate``: a record's values are short and
    many."""
    if not values:
        return []
    lines = fold_words("\n".join(value.replace("\n", " ") for value in values)).split("\n")
    return [" ".join(line.split()) for line in lines]


def fold_for_matching(text: str) -> str:
    """The words of ``text`` folded, one space between them (see fold_words_with_offsets)."""
    return fold_words_with_offsets(text)[0]


def _fold_words_slowly(folded: str, offsets: Sequence[int]) -> tuple[str, list[int]]:
    out, kept, previous_alnum = [], [], True
    for char, index in zip(folded, offsets, strict=True):
        if char.isalnum():
            out.append(char)
            kept.append(index)
            previous_alnum = True
        elif previous_alnum:
            out.append(" ")
            kept.append(index)
            previous_alnum = False
    return "".join(out), kept


# -- a name's consonant skeleton, the same in Arabic and Latin letters ----------------------

# Latin spellings of one Arabic sound, made one class letter (capitals never occur in folded
# text, so a replaced digraph is not read again). Order matters: "dj" before "j".
_DIGRAPHS = (("dj", "J"), ("sh", "S"), ("ch", "S"), ("sch", "S"), ("kh", "K"), ("gh", "K"),
             ("th", "T"), ("dh", "D"), ("ph", "F"), ("ck", "K"), ("qu", "K"), ("ce", "Se"),
             ("ci", "Si"), ("cy", "Sy"), ("x", "KS"))
# Each consonant to its class; vowels, w, y, alef, waw, yaa, ayn and hamza to nothing (they
# are the letters transliterations disagree on). Close sounds share a class: ت ط ث / t th;
# د ض ذ ظ ز / d dh z; س ص ش / s sh ch; ك ق خ غ / k q kh gh g c; ح ه / h; ب / b p; ف / f v ph.
_KEY_CLASSES = {
    "B": "bpب", "T": "tتطث", "D": "dzدضذظز", "S": "sسصش", "K": "kqgcكقخغ", "J": "jج",
    "H": "hحه", "F": "fvف", "L": "lل", "M": "mم", "N": "nن", "R": "rر",
}
_KEY_DROPPED = "aeiouywاويعىءئؤ"
_KEY_TABLE = str.maketrans(
    {char: key for key, chars in _KEY_CLASSES.items() for char in chars}
    | {char: None for char in _KEY_DROPPED + "0123456789"}
)
# A final h after a vowel is a vowel's (Fatimah), and a final ه a taa marbuta's (فاطمه).
_FINAL_H = tuple((vowel + "h ", vowel + " ") for vowel in "aeiou") + (("ه ", " "),)


def name_keys(words: str) -> str:
    """The consonant skeleton of each word of ``words`` (folded, one space between words):
    as many space-separated keys as words, a key possibly empty. "Salma", "Selma" and
    "سلمى" are all ``SLM``; "Trabelsi", "Ettrabelsi" and "طرابلسي" are ``TRBLS``.
    Made of ``str.replace`` and ``str.translate`` passes (in C): a text's every word is keyed."""
    keyed = words + " "
    for final, vowel in _FINAL_H:
        if final in keyed:
            keyed = keyed.replace(final, vowel)
    for digraph, key in _DIGRAPHS:
        if digraph in keyed:
            keyed = keyed.replace(digraph, key)
    keyed = keyed.translate(_KEY_TABLE)
    for letter in _KEY_CLASSES:  # a doubled consonant is one (Hammami, Ettrabelsi)
        double = letter + letter
        while double in keyed:
            keyed = keyed.replace(double, letter)
    return keyed[:-1]
