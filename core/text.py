"""Arabic-aware text folding, so a search (or a scrubber) finds a word however it was typed.

Folding: Unicode compatibility forms (presentation forms, ligatures), case, diacritics
(Arabic harakat and Latin accents), tatweel, hamza and alef forms (أ إ آ ٱ → ا, ؤ → و,
ئ → ي), taa marbuta (ة → ه), alef maqsura (ى → ي), Persian letter forms, and
Arabic-Indic and Eastern Arabic-Indic digits (٠-٩, ۰-۹ → 0-9).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

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


class _FoldTable(dict):
    """Each character's folded form, computed the first time it is seen."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()
_BMP = 0x10000
_ONE, _DROPPED, _SEVERAL = 0, 1, 2


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """For every BMP code point: the code it folds to (when one character of the BMP), and
    whether it folds to one such, none, or several characters (or one beyond the BMP). Built
    once per process (about half a second), so that folding a text is a few array
    operations in C instead of a loop per character."""
    folded = np.arange(_BMP, dtype=np.uint32)
    kind = np.zeros(_BMP, dtype=np.uint8)
    for code in range(_BMP):
        if 0xD800 <= code <= 0xDFFF:
            continue
        result = _FOLD_TABLE[code]
        if len(result) == 1 and ord(result) < _BMP:
            folded[code] = ord(result)
        else:  # none, several, or one beyond the BMP (a CJK compatibility ideograph)
            kind[code] = _DROPPED if not result else _SEVERAL
    return folded, kind


def fold(text: str) -> str:
    """Return ``text`` in the form searches and scrubbers compare."""
    return fold_with_offsets(text)[0]


def fold_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``."""
    if text.isascii():
        return text.lower(), range(len(text))
    folded = _folded_codes(text)
    if folded is None:
        return _fold_slowly(text)
    codes, kept = folded
    return _decode(codes), range(len(text)) if kept is None else kept


def _folded_codes(text: str) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The code points of ``text`` folded, and the index in ``text`` of each (None: one for
    one); None when a character folds to several or lies beyond the BMP."""
    if text.isascii():
        return np.frombuffer(text.lower().encode("ascii"), dtype=np.uint8), None
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if codes.max() >= _BMP:
        return None
    folded, kind = _tables()
    kinds = kind[codes]
    if not kinds.any():
        return folded[codes], None
    if (kinds == _SEVERAL).any():
        return None
    kept = np.flatnonzero(kinds == _ONE)
    return folded[codes[kept]], kept


_ASCII_SPACES = bytes(c if chr(c).isalnum() or c == 10 else 32 for c in range(256))


class _WordTable(dict):
    """Each character's folded form with whatever is neither a letter nor a digit made a
    space (line ends stay: they separate values), computed the first time it is seen."""

    def __missing__(self, codepoint: int) -> str:
        folded = "\n" if codepoint == 10 else "".join(
            char if char.isalnum() else " " for char in _FOLD_TABLE[codepoint])
        self[codepoint] = folded
        return folded


_WORD_TABLE = _WordTable()


def fold_words(text: str) -> str:
    """``fold(text)`` with every character that is neither a letter nor a digit (nor a line
    end) turned into a space, so ``str.split()`` gives its words. One ``str.translate`` in C:
    for the short values a record's secrets are made of, faster than a regular expression
    (a fifth of a microsecond an Arabic character) or numpy's fixed costs."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_SPACES).decode("ascii")
    return text.translate(_WORD_TABLE)


def folds_to_nothing(char: str) -> bool:
    """True for a character that folding drops (a diacritic, tatweel, a lone hamza)."""
    return not _FOLD_TABLE[ord(char)]


def _decode(codes: np.ndarray) -> str:
    return codes.astype(np.uint32).tobytes().decode("utf-32-le", "surrogatepass")


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

_ALNUM_TABLE: np.ndarray | None = None


def _alnum_table() -> np.ndarray:
    global _ALNUM_TABLE
    if _ALNUM_TABLE is None:
        _ALNUM_TABLE = np.array([chr(code).isalnum() if not 0xD800 <= code <= 0xDFFF else False
                                 for code in range(_BMP)], dtype=bool)
    return _ALNUM_TABLE


def fold_words_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """``fold(text)`` with every run of characters that are neither letters nor digits
    (punctuation, dashes, line ends, ``٫``…) made one space, and for each character its index
    in ``text``. Values and texts are compared in this one form, so "Ben-Ali", "Ben Ali" and
    "Ben\\nAli", or "(AHPE)" and "AHPE", are the same words."""
    folded = _folded_codes(text) or _folded_codes_slowly(text)
    if folded is None:
        return _fold_words_slowly(*_fold_slowly(text))
    codes, offsets = folded
    if not len(codes):
        return "", range(0)
    alnum = _alnum_table()[codes]
    after_alnum = np.empty_like(alnum)
    after_alnum[0] = True
    after_alnum[1:] = alnum[:-1]
    keep = alnum | after_alnum  # letters and digits, and the first of each run of others
    spaced = np.where(alnum, codes, 32)[keep]
    return _decode(spaced), np.flatnonzero(keep) if offsets is None else offsets[keep]


def fold_values(values: Sequence[str]) -> list[str]:
    """Each of ``values`` folded as ``fold_for_matching`` folds it (words one space apart,
    no space at either end), all in one ``str.translate``: a record's values are short and
    many, and numpy's fixed costs would outweigh the work."""
    if not values:
        return []
    lines = fold_words("\n".join(value.replace("\n", " ") for value in values)).split("\n")
    return [" ".join(line.split()) for line in lines]


def fold_for_matching(text: str) -> str:
    """The words of ``text`` folded, one space between them (see fold_words_with_offsets)."""
    return fold_words_with_offsets(text)[0]


def _folded_codes_slowly(text: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``_folded_codes`` for a text with a character that folds to several (a ligature);
    None beyond the BMP."""
    folded, offsets = _fold_slowly(text)
    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if len(codes) and codes.max() >= _BMP:
        return None
    return codes, np.asarray(offsets, dtype=np.intp)


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
