"""Arabic-aware text folding, so a search (or a scrubber) finds a word however it was typed.

Folding: Unicode compatibility forms (presentation forms, ligatures), case, diacritics
(Arabic harakat and Latin accents), tatweel, hamza and alef forms (أ إ آ ٱ → ا, ؤ → و,
ئ → ي), taa marbuta (ة → ه), alef maqsura (ى → ي), Persian letter forms, and
Arabic-Indic and Eastern Arabic-Indic digits (٠-٩, ۰-۹ → 0-9).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

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
_DIGIT_TABLE = str.maketrans(_DIGITS)


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
    """A str.translate table that folds each character the first time it is seen."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Return ``text`` in the form searches and scrubbers compare."""
    return text.translate(_FOLD_TABLE)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` and return, for each folded character, its index in ``text``."""
    folded: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        part = char.translate(_FOLD_TABLE)
        folded.append(part)
        offsets.extend([index] * len(part))
    return "".join(folded), offsets


def western_digits(text: str) -> str:
    """Replace Arabic-Indic digits by 0-9, one character for one (offsets stay valid)."""
    return text.translate(_DIGIT_TABLE)


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
