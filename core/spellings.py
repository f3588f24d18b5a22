"""Other spellings of a name, proposed for the documenter to confirm: the Latin form of an
Arabic name and the reverse, in French and English transliteration habits.

    propose_spellings("سلمى الطرابلسي")  →  ["Salma Ettrabelsi", "Salma Al-Trabelsi", …]

Proposals are guesses (short vowels are not written in Arabic, and transliterations differ
by country): the documenter keeps those she recognises, and every kept spelling is scrubbed
like the name itself. Scrubbing does not rely on them alone: it also matches names by their
consonant skeleton (``core.text.name_keys``). ``anyascii`` (a maintained transliteration
table) handles Latin letters with accents and other scripts.
"""

from __future__ import annotations

import itertools
import re

from anyascii import anyascii

from core.text import fold

MAX_PROPOSALS = 8
# A single a, e, o or u inside a Latin name is a short vowel, not written in Arabic.
_SHORT_VOWELS = re.compile(r"(?<![aeiou])[aeou](?![aeiouy])")
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
SUN_LETTERS = "تثدذرزسشصضطظلن"

# Each Arabic consonant: (French habit, English habit).
_TO_LATIN = {
    "ب": ("b", "b"), "ت": ("t", "t"), "ث": ("th", "th"), "ج": ("dj", "j"), "ح": ("h", "h"),
    "خ": ("kh", "kh"), "د": ("d", "d"), "ذ": ("dh", "dh"), "ر": ("r", "r"), "ز": ("z", "z"),
    "س": ("s", "s"), "ش": ("ch", "sh"), "ص": ("s", "s"), "ض": ("dh", "d"), "ط": ("t", "t"),
    "ظ": ("dh", "z"), "غ": ("gh", "gh"), "ف": ("f", "f"), "ق": ("k", "q"), "ك": ("k", "k"),
    "ل": ("l", "l"), "م": ("m", "m"), "ن": ("n", "n"), "ه": ("h", "h"),
}
# Letters that are vowels in a name (or carry one): (French habit, English habit).
_VOWEL_LETTERS = {"ا": ("a", "a"), "و": ("ou", "u"), "ي": ("i", "i"), "ى": ("a", "a"),
                  "ة": ("a", "a"), "ء": ("", ""), "ئ": ("i", "i"),
                  "ؤ": ("ou", "u")}

# Latin spellings to Arabic letters, longest first.
_TO_ARABIC = (("sch", "ش"), ("dj", "ج"), ("kh", "خ"), ("gh", "غ"), ("sh", "ش"), ("ch", "ش"),
              ("th", "ث"), ("dh", "ذ"), ("ph", "ف"), ("ou", "و"), ("oo", "و"), ("ee", "ي"),
              ("b", "ب"), ("t", "ت"), ("d", "د"), ("r", "ر"), ("z", "ز"), ("s", "س"),
              ("f", "ف"), ("q", "ق"), ("k", "ك"), ("c", "ك"), ("l", "ل"), ("m", "م"),
              ("n", "ن"), ("h", "ه"), ("j", "ج"), ("g", "ج"), ("w", "و"), ("y", "ي"),
              ("p", "ب"), ("v", "ف"), ("x", "كس"), ("i", "ي"), ("o", "و"), ("u", "و"),
              ("a", "ا"), ("e", ""))


def propose_spellings(name: str) -> list[str]:
    """Other spellings of ``name`` to offer the documenter (never the name itself), the
    likeliest first, at most MAX_PROPOSALS."""
    words = name.split()
    if not words:
        return []
    options = [word_spellings(word) or [word] for word in words]
    proposals: list[str] = []
    for combination in itertools.islice(itertools.product(*options), MAX_PROPOSALS * 4):
        proposal = " ".join(combination)
        if fold(proposal) != fold(name) and proposal not in proposals:
            proposals.append(proposal)
    return proposals[:MAX_PROPOSALS]


def word_spellings(word: str) -> list[str]:
    """Spellings of one word of a name in the other script (Latin for Arabic, Arabic for
    Latin), the likeliest first."""
    if ARABIC_LETTER.search(word):
        return _latin_forms(_plain_arabic(word))
    return _arabic_forms(anyascii(word).lower())


def _plain_arabic(word: str) -> str:
    """Without harakat and tatweel, hamza seats made alef (not folded: ى, ة and ي differ)."""
    word = "".join(char for char in word if not "\u064b" <= char <= "\u0652" and char != "\u0640")
    return re.sub("[أإآٱ]", "ا", word)


def _latin_forms(word: str) -> list[str]:
    article = ""
    if word.startswith("ال") and len(word) > 3:
        word = word[2:]
        article = "al-"
    forms = []
    for habit in (0, 1):
        body = _romanise(word, habit)
        if article:
            sun = word[0] in SUN_LETTERS
            forms.append(("e" + body[0] + body if sun and habit == 0 else "el-" + body)
                         if habit == 0 else article + body)
        else:
            forms.append(body)
    return _unique([form[:1].upper() + form[1:] for form in forms if form])


def _romanise(word: str, habit: int) -> str:
    """Consonants as the habit writes them, long vowels as letters, and an "a" (French: "e"
    before the last consonant) where two consonants meet: short vowels are not written."""
    out = []
    for index, letter in enumerate(word):
        if letter in _VOWEL_LETTERS:
            vowel = _VOWEL_LETTERS[letter][habit]
            if letter in "وي" and (index == 0 or index + 1 < len(word)
                                   and word[index + 1] in _VOWEL_LETTERS):
                vowel = {"و": ("w", "w"), "ي": ("y", "y")}[letter][habit]  # a consonant
            out.append(vowel)
            continue
        if letter == "ع":
            out.append("a" if index == 0 else "")
            continue
        out.append(_TO_LATIN.get(letter, ("", ""))[habit])
        following = word[index + 1] if index + 1 < len(word) else ""
        # Two consonants meet after the first letter, or before the last: a short vowel.
        if following in _TO_LATIN and (index == 0 or index == len(word) - 2):
            out.append("a" if index == 0 or habit == 1 else "e")
    return "".join(out)


def _arabic_forms(word: str) -> list[str]:
    """Arabic spellings of a Latin word: long vowels written or not, a final "a" as ى, ة or ا."""
    prefix = ""
    for article in ("el-", "al-", "el ", "al "):
        if word.startswith(article):
            word, prefix = word[len(article):], "ال"
    letters = _letters(word)
    if not letters:
        return []
    full = prefix + "".join(letters)
    # Short vowels are not written: "Omar" → عمر, "Ahmed" → أحمد (long ones are: ou, ee, i).
    inner = _SHORT_VOWELS.sub("", word[1:-1])
    if word[:1] in "aeiou":
        consonantal = prefix + "ا" + "".join(_letters(inner + word[-1:]))
    else:
        consonantal = prefix + "".join(_letters(word[:1] + inner + word[-1:]))
    # Short "a"s inside the word are usually not written: سلمى, not سالما.
    inner = [letter for index, letter in enumerate(letters)
             if not (letter == "ا" and 0 < index < len(letters) - 1)]
    short = prefix + "".join(inner)
    forms = []
    for body in (short, full, consonantal):
        if body.endswith("ا") and len(body) > 2:
            forms += [body[:-1] + "ى", body[:-1] + "ة", body]
        else:
            forms.append(body)
    if not prefix:
        forms = [variant for form in forms for variant in _with_ayn(form)]
    # "h" is ه or ح: Ahmed is أحمد, Huda هدى.
    forms += [form[:-1].replace("ه", "ح") + form[-1] for form in forms if "ه" in form[:-1]]
    return _unique(forms)


def _letters(word: str) -> list[str]:
    letters, position = [], 0
    while position < len(word):
        for latin, arabic in _TO_ARABIC:
            if word.startswith(latin, position):
                if arabic and not (letters and letters[-1] == arabic and len(latin) == 1):
                    letters.append(arabic)  # a doubled consonant is written once
                position += len(latin)
                break
        else:
            position += 1  # a letter with no Arabic counterpart (an apostrophe, a digit)
    if letters and letters[0] in "يو" and word[:1] in "iuo":
        letters.insert(0, "ا")  # a name starting with a vowel starts with alef: Imen → إيمان
    return letters


def _with_ayn(form: str) -> list[str]:
    """A name starting with a vowel may start with ayn: Ali → علي, Aicha → عائشة."""
    return [form, "ع" + form[1:]] if form.startswith("ا") else [form]


def _unique(items) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
