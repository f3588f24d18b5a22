"""Free-text scrubbing: what is taken out of `open` text before it leaves a node.

Replaced by a visible placeholder:

- e-mail addresses, written plainly or spelled out ("salma at example dot org");
- phone numbers (the ``phonenumbers`` library, for the regions country plugins declare, in
  Western or Arabic-Indic digits) and national ID numbers (patterns country plugins
  declare), their groups joined across any separator: spaces, dots, slashes, " - ", an en
  dash, the Arabic decimal separator ``٫``, a line end. Not taken for a phone number: a
  law's or a case's number and year written with a slash or right after the law's name
  ("175/2018", "loi n° 2018-175", "القانون 94/2015", ``core.lexicon.LEGAL_CUES``), a date
  with its time of day, a round sum in thousands ("2 500 000") that no phone region of the
  node allows;
- every value of the record's own `never` fields wherever it appears. Values and texts are
  folded the same way (``core.text.fold_words_with_offsets``: case, diacritics, tatweel,
  hamza/alef forms, punctuation), so "Ben-Ali", "BEN ALI" and "بن علي" quoted with other
  punctuation or across a line end are found. A name's, an address's or a contact's every
  word is a secret of its own (not the ordinary words of ``core.lexicon``), with Arabic
  clitics attached (و ف ب ل ك ال…); a free-text value (``scrub="value"``: an organisation,
  an exact place, sources, notes) is a secret as a whole, and so is each of its name-like
  words (capitalised, an acronym, an Arabic word that is not an ordinary one) and the
  acronym of its capitalised words;
- other spellings of those names: each name word is also matched by its consonant
  skeleton (``core.text.name_keys``), so "Salma", "Selma" and "سلمى" or "Trabelsi" and
  "الطرابلسي" are one; names too short for a skeleton get the spellings
  ``core.spellings`` proposes;
- the exact value of the record's `generalise` fields quoted in a text, coarsened there as
  in the field: the day of a date (and its month, for a year rule) written in digits or
  with a month name of the region (``core.lexicon.MONTHS``), an age or the birth year it
  gives, the name of an exact place.

When in doubt, scrubbing takes more rather than less. What it cannot know — a name never
recorded, in a spelling no rule links — is left for the reviewer, whose page marks it:

    suspicious_spans(text) -> list[Span(start, end, kind)]

takes an outgoing (already scrubbed) text and returns where it still looks like a name, a
number or a date (``kind``: NAME, NUMBER or DATE), as positions in ``text`` itself, sorted
and apart; the placeholder is never marked. This interface is stable: the review page
relies on it. Recorded other spellings of a name (``core.spellings.propose_spellings``
proposes them) are held in a `never` field of their own, a list beside the name, and
scrubbed like the name.

All the texts of one record are scrubbed together, folded once: finding that a text holds
nothing to take out costs a few scans in C, not a loop per character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import accumulate, chain

import phonenumbers

from core.lexicon import LEGAL_CUES, NAME_CUES, ORDINARY, month_names
from core.spellings import word_spellings
from core.text import fold_values, fold_words_with_offsets, folds_to_nothing, name_keys

PLACEHOLDER = "[redacted]"
SCRUBBER_VERSION = 5  # 5: a scrubbed street takes its house number with it
SCRUB_WORDS = "words"  # how a value is looked for: word by word (the default), or whole
SCRUB_VALUE = "value"
MIN_VALUE = 2  # folded characters: shorter values cannot be found safely
MIN_TOKEN = 3  # a word of a longer value, matched on its own
SUBSTRING_TOKEN = 5  # from this length a word is matched even inside another word
MIN_DIGITS = 6  # a value's digits, this many or more, are matched across separators
ALWAYS_SCRUBBED_DIGITS = 9  # a run of this many digits is taken out, whatever it is
PHONE_DIGITS = (7, 8)  # shorter runs are never numbers; longer ones are always taken
MIN_KEY = 2  # consonants of a name's skeleton, for it to be matched by skeleton

EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# An address spelled out, in the folded words: "salma benali at example dot org". It starts
# where a word does (the lookbehind finds nothing more: a match inside a word would also
# match from the word's start; it spares trying every letter of every word).
SPELLED_EMAIL = re.compile(
    r"(?<![a-z0-9])(?:[a-z0-9]+ (?:dot|point|punto|underscore|tiret) )*[a-z0-9]+"
    r" (?:at|arobase|chez)"
    r" [a-z0-9]+ (?:(?:dot|point|punto) [a-z0-9]+ )*(?:dot|point|punto) [a-z]{2,6}\b")
WORD = re.compile(r"[^\W_]+")
YEAR = re.compile(r"(?:19|20)\d\d")
LATIN_VOWEL_GROUP = re.compile(r"[aeiouy]+(?:w(?![aeiouy]))?")
GLUED_ARTICLES = ("el", "al", "la", "le")
HAS_DIGIT = re.compile(r"[0-9]")
GLIDE = re.compile(r"^(?:ou|o|u)(?=[aei])")
NUMBER_RUN = re.compile(r"[0-9]+(?: [0-9]+)*")  # in folded words: groups, any separator
ARABIC = re.compile(r"[\u0600-\u06ff]")
ARABIC_PREFIXES = frozenset(
    {"", "و", "ف", "ب", "ل", "ك", "ال", "وال", "بال", "فال", "كال", "لل", "ولل", "وب", "ول",
     "وك", "فب", "فل", "فك"}
)
ARABIC_SUFFIXES = frozenset(
    {"", "ه", "ها", "هم", "هما", "هن", "ي", "نا", "ك", "كم", "ين", "ون", "ان", "ات"}
)
# Words that say a number follows: "n° 54", "رقم 175", "عدد 54".
NUMBER_WORDS = frozenset({"n", "no", "nr", "num", "numero", "number", "رقم", "عدد"})
# Words beside which a number is a house number.
STREET_CUES = frozenset(fold_words_with_offsets(
    "rue avenue av bd boulevard street st road rd route impasse lane nahj no n° numéro number"
    " bis ter نهج شارع زنقة طريق عدد رقم")[0].split())
# Articles and small words an acronym leaves out.
ACRONYM_SKIPPED = frozenset({"des", "les", "the", "aux", "and"})
# How one vowel sound of a name is written in Latin letters (for names too short for a key).
_VOWEL_SETS = (("a", "e", "aa"), ("i", "y", "ee", "ie", "ey"), ("ou", "u", "o", "oo"))
VOWEL_SPELLINGS = {spelling: list(group) for group in _VOWEL_SETS for spelling in group}
# The same clitics as consonant keys (alef and waw have none): ب ل ك ف, ال, بال, لل…
KEY_PREFIXES = ("", "L", "B", "BL", "K", "KL", "F", "FL")
NAME_PARTICLES = frozenset({"ben", "bent", "bint", "bin", "ibn", "el", "al", "bou", "abou",
                            "abu", "oum", "umm", "بن", "بنت", "ابن", "ابو", "ام"})

_MONTHS = month_names()
_MONTH_WORDS = "|".join(sorted((re.escape(name) for name in _MONTHS), key=len, reverse=True))
# A date written with a month name, in folded words: "14 november", "le 14 de novembre",
# "14 من شهر نوفمبر", "november 14th". Found from its day: a number the record's dates hold,
# then the month name after it (or before it). Its day (and month) is what coarsening takes.
DAY = re.compile(r"(?<![0-9])([0-3]?[0-9])(?![0-9])(?:st|nd|rd|th|er|eme|e)?(?![^\W_])")
MONTH_AFTER = re.compile(rf" (?:(?:de|of|the|من|شهر) ){{0,2}}({_MONTH_WORDS})(?![^\W_])")
MONTH_BEFORE = re.compile(rf"(?<![^\W_])({_MONTH_WORDS}) (?:the )?$")


@dataclass(frozen=True)
class ScrubPattern:
    """A national ID (or similar) format a country plugin declares. It is matched against
    the digits of each run of numbers in a text (the groups joined, separators dropped)."""

    name: str
    regex: str


@dataclass(frozen=True)
class QuotedDate:
    """The exact value of a `generalise` date field, and what its rule keeps ("month" or
    "year"): a text quoting the date loses what the field lost."""

    value: date
    keeps: str = "month"


class Secrets:
    """What one record's texts must not repeat, prepared once for finding it in them.

    ``values``: the strings of the record's `never` fields, each given as a string (looked
    for word by word: a name, an address, a contact) or as ``(text, mode)`` with mode
    SCRUB_WORDS or SCRUB_VALUE (free text: looked for as a whole and by its name-like
    words). ``dates``, ``ages`` and ``places``: the exact values of its `generalise` fields
    (QuotedDate, int, and for each exact place the tuple of its names, looked for word by
    word), coarsened where a text quotes them.
    """

    def __init__(self, values: Iterable[str | tuple[str, str]] = (), *,
                 dates: Iterable[QuotedDate] = (), ages: Iterable[int] = (),
                 places: Iterable[tuple[str, ...]] = ()):
        self._needles: set[str] = set()  # found anywhere (clitics attached)
        self._short: set[str] = set()  # found as whole words, Arabic clitics allowed
        self._keys: set[str] = set()  # consonant skeletons of name words
        # Skeletons of one or two consonants, with the vowels each name word writes.
        self.short_keys: dict[str, list[tuple[bool, tuple[str, ...]]]] = {}
        self.digit_runs: set[str] = set()
        self.house_numbers: set[str] = set()  # short numbers of an address, and its words
        self.address_words: set[str] = set(STREET_CUES)
        items = [(item, SCRUB_WORDS) if isinstance(item, str) else item for item in values]
        for (value, mode), folded in zip(items, fold_values([value for value, _ in items]),
                                         strict=True):
            if folded:
                self._add(value, folded, mode)
        for names in places:
            self._take(_place_secrets(tuple(names)))
        self.dates = {(d.value.day, d.value.month, d.value.year): d.keeps for d in dates}
        self.numbers = _age_numbers(ages, [d[2] for d in self.dates])
        self.needles = tuple(sorted(self._needles, key=len, reverse=True))
        self.short = frozenset(self._short)
        # A short word in Latin letters is found only as a whole word: among the text's
        # words, without a search through it; an Arabic one may carry clitics.
        self.short_arabic = frozenset(token for token in self.short if ARABIC.match(token))
        self.short_latin = self.short - self.short_arabic
        # Skeletons of three consonants or more match any word (an Arabic one with its
        # clitics); of two, only a capitalised Latin word: "Omar", not "عمارة" or "more".
        self.keys = frozenset(key for key in self._keys if len(key) > MIN_KEY)
        self.clitic_keys = frozenset(chain.from_iterable(map(_with_clitics, self.keys)))

    def __bool__(self) -> bool:
        return bool(self.needles or self.short or self.digit_runs or self.keys
                    or self.dates or self.numbers)

    def _take(self, other: Secrets) -> None:
        """Add what ``other`` holds (not yet its sorted and derived forms)."""
        self._needles |= other._needles
        self._short |= other._short
        self._keys |= other._keys
        for key, vowels in other.short_keys.items():
            self.short_keys.setdefault(key, []).extend(vowels)
        self.digit_runs |= other.digit_runs
        self.house_numbers |= other.house_numbers
        self.address_words |= other.address_words

    def _add(self, value: str, folded: str, mode: str) -> None:
        words = folded.split(" ")
        if len(words) > 1 or len(words[0]) >= SUBSTRING_TOKEN:
            self._needles.add(folded)
        elif len(words[0]) >= MIN_VALUE and not words[0].isdigit():
            self._short.add(words[0])  # a one-word value is a secret, ordinary or not
        if HAS_DIGIT.search(folded):
            self._add_numbers(words)
        if mode == SCRUB_VALUE:
            originals = WORD.findall(value)
            named = [word for word, original in zip(words, originals, strict=False)
                     if _name_like(word, original)]
            named += _acronyms(originals)
        else:
            named = [word for word in words if word not in ORDINARY]
        # An e-mail address's words are secrets, but not names to match by their skeleton.
        keyed = "@" not in value and "www" not in words
        for word in named:
            self._add_word(word, keyed)

    def _add_word(self, word: str, keyed: bool = True) -> None:
        if word.isdigit() or len(word) < MIN_TOKEN:
            return
        if len(word) >= SUBSTRING_TOKEN:
            self._needles.add(word)
        else:
            self._short.add(word)
        if word in NAME_PARTICLES or not keyed:
            return
        keys, vowels, spellings = _name_word(word)
        for key in keys:
            if len(key) > MIN_KEY:
                self._keys.add(key)
            elif key:
                self.short_keys.setdefault(key, []).append((bool(ARABIC.match(word)), vowels))
        if spellings:
            self._short.update(spellings)

    def _add_numbers(self, words: list[str]) -> None:
        joined = " ".join(words)
        for run in NUMBER_RUN.findall(joined):
            digits = run.replace(" ", "")
            if len(digits) >= MIN_DIGITS:
                self.digit_runs.add(digits)
            elif len(digits) <= 4:  # a house number: a secret beside its street's words
                self.house_numbers.add(digits)
                self.address_words.update(word for word in words if not word.isdigit())

    def spans(self, folded: str, original: str = "", offsets: Sequence[int] = (),
              numbers: Sequence[re.Match] | None = None) -> list[tuple[int, int]]:
        """Where the values stand in a folded text (positions in the folded text);
        ``original`` and ``offsets`` (from fold_words_with_offsets) tell capitals apart;
        ``numbers``: the text's NUMBER_RUN matches, when the caller has them."""
        found = []
        for needle in self.needles:
            start = folded.find(needle)
            while start >= 0:
                found.append((start, start + len(needle)))
                start = folded.find(needle, start + 1)
        words = folded.split(" ")
        for token in self.short_arabic | self.short_latin.intersection(words):
            start = folded.find(token)
            while start >= 0:
                if _stands_alone(folded, start, start + len(token)):
                    found.append((start, start + len(token)))
                start = folded.find(token, start + 1)
        if self.keys or self.short_keys:
            found += _key_spans(folded, words, self, original, offsets)
        if self.dates:
            numbers = list(NUMBER_RUN.finditer(folded)) if numbers is None else numbers
            found += _date_spans(folded, self.dates, numbers)
        return found


@lru_cache(maxsize=4096)
def _place_secrets(names: tuple[str, ...]) -> Secrets:
    """What a place's names make, looked for word by word. They are the gazetteer's, public
    and the same for every record that quotes the place (with the aliases, half the values
    of a record's secrets), so they are prepared once per place, not per record; no
    record's own value is kept here."""
    return Secrets(names)


@lru_cache(maxsize=65536)
def _name_word(word: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A name word's consonant skeletons, its vowels, and — when the skeleton is too short
    to match Arabic text by (two consonants or fewer) — its other spellings, folded. Names
    recur from record to record: worked out once per word."""
    # The article is a clitic, not part of the name: الحمامي and Hammami are one.
    bare = _without_article(word)
    key = name_keys(bare)
    keys = (key, *_other_readings(bare, key))
    spellings: tuple[str, ...] = ()
    if len(key) <= MIN_KEY:
        written = word_spellings(word)
        candidates = [*written, *(variant for latin in [word, *written]
                                  for variant in _vowel_variants(latin.lower()))]
        spellings = tuple(folded for folded in fold_values(candidates)
                          if len(folded) >= MIN_TOKEN and folded not in ORDINARY
                          and " " not in folded)
    return keys, _vowels(bare), spellings


def _other_readings(word: str, key: str) -> tuple[str, ...]:
    """Skeletons of the other readings of a name: a Latin "th", "sh", "kh", "dh" may be two
    letters (Fethi is فتحي: t and h), and a "c" before a or o a soft one (Faycal, Fayçal);
    in Arabic, ت ح or س ه side by side are what a Latin digraph writes as one."""
    if ARABIC.match(word):  # and a final ح or ه may not be written (Salah, Salaa)
        merged = re.sub(r"([TSKD])H", r"\1", key)
        return tuple({merged, key[:-1] if key.endswith("H") else key} - {key})
    # A digit between the two letters keeps them apart, and the skeleton drops digits.
    readings = {name_keys(word.replace(digraph, digraph[0] + "0" + digraph[1]))
                for digraph in ("th", "sh", "kh", "dh") if digraph in word}
    if "c" in word:
        readings |= {name_keys(word.replace("c", "s")), name_keys(word.replace("c", "k"))}
    if word.endswith("h"):  # a final h after a vowel may be a letter: Salah is صلاح
        readings.add(name_keys(word + "0"))
    return tuple(readings - {key})


def _name_like(word: str, original: str) -> bool:
    """A word of a free-text value that may name someone or something: capitalised or an
    acronym in Latin letters, or any Arabic word, and not an ordinary word."""
    if word in ORDINARY or word.isdigit() or len(word) < 2:
        return False
    return bool(ARABIC.match(word)) or original[:1].isupper()


def _acronyms(originals: list[str]) -> list[str]:
    """The acronyms of a value's words: of its capitalised words ("Association Tunisienne
    des Femmes Démocrates" → "atfd"), and of all but its articles ("Association Horizons
    pour l'Égalité" → "ahpe")."""
    latin = [word for word in originals if not ARABIC.match(word) and not word.isdigit()]
    if len(latin) < 3:
        return []
    capitals = "".join(word[0] for word in latin if word[:1].isupper() and not word.isupper())
    significant = "".join(word[0] for word in latin
                          if len(word) > 2 and word.lower() not in ACRONYM_SKIPPED)
    initials = [letters for letters in {capitals, significant} if len(letters) >= 3]
    if all(letters.isascii() for letters in initials):
        return [letters.lower() for letters in initials]
    return fold_values(initials)


def _vowel_variants(word: str) -> list[str]:
    """A short Latin name with its vowels written the other usual ways: Aly, Ali, Alee."""
    if ARABIC.match(word):
        return []
    parts = re.split(r"([aeiouy]+)", word)
    options = [VOWEL_SPELLINGS.get(part, [part]) if index % 2 else [part]
               for index, part in enumerate(parts)]
    variants = [""]
    for choices in options:
        variants = [variant + choice for variant in variants for choice in choices][:64]
    return variants


@lru_cache(maxsize=65536)
def _with_clitics(key: str) -> tuple[str, ...]:
    """``key`` with the consonant keys of Arabic clitics before it (بسلمى, الطرابلسي); a
    clitic's last consonant and the name's first, when the same, are one (لل + ل…)."""
    return tuple(prefix[:-1] + key if prefix and prefix[-1] == key[0] else prefix + key
                 for prefix in KEY_PREFIXES)


def _age_numbers(ages: Iterable[int], years: list[int]) -> frozenset[str]:
    """An age as written, and the birth years it gives with the record's own dates."""
    numbers = set()
    for age in ages:
        numbers.add(str(age))
        for year in years:
            numbers.update({str(year - age), str(year - age - 1)})
    return frozenset(numbers)


def _key_spans(folded: str, words: list[str], secrets: Secrets, original: str, offsets
               ) -> list[tuple[int, int]]:
    """Words (``folded.split(" ")``) whose consonant skeleton is a name's (not ordinary
    words)."""
    # Each distinct word keyed once, ordinary and short ones not at all: "C'était" is no name.
    candidates = [word for word in set(words) - ORDINARY if len(word) >= MIN_TOKEN]
    if not candidates:
        return []
    key_of = dict(zip(candidates, name_keys(" ".join(candidates)).split(" "), strict=True))
    present = set(key_of.values())
    short = secrets.short_keys.keys()
    hits = secrets.clitic_keys.intersection(present) | (short & present) | {
        key for key in present if key[:1] == "L" and (key[1:] in short or key[1:] in secrets.keys)}
    named = {word for word, key in key_of.items() if key in hits}
    if not named:
        return []
    ends = list(accumulate(map(len, words)))  # a word starts after those before it and spaces
    found = []
    for index in [index for index, word in enumerate(words) if word in named]:
        word = words[index]
        key = key_of[word]
        position = (ends[index - 1] if index else 0) + index
        # An article written as one with the name: الحمامي, Laarayedh, Elgharbi.
        glued = key[:1] == "L" and (word.startswith("ال") or word[:2] in GLUED_ARTICLES)
        if any(_key_fits(word, candidate, secrets, original, offsets, position)
               for candidate in ((key, key[1:]) if glued else (key,))):
            found.append((position, position + len(word)))
    return found


def _key_fits(word: str, key: str, secrets: Secrets, original: str, offsets,
              position: int) -> bool:
    return (key in secrets.keys
            or (key in secrets.clitic_keys and ARABIC.match(word) is not None)
            or (key in secrets.short_keys and _short_name_fits(
                word, key, secrets.short_keys[key], original, offsets, position)))


def _short_name_fits(word: str, key: str, names: list[tuple[bool, tuple[str, ...]]],
                     original: str, offsets, position: int) -> bool:
    """A word with the skeleton of a short name is that name if its vowels fit: Arabic
    writes only long vowels, so they must be among the Latin spelling's ("بلال" and
    "Bilel", "Ayari" and "العياري"); in Latin letters it must be capitalised, and in Arabic
    hold a long vowel (a skeleton of two consonants is too common otherwise)."""
    forms = _vowels(_without_article(word))
    if ARABIC.match(word):  # one consonant is too little to go on: Ali is found by spelling
        vowels = forms[0]
        return bool(vowels.strip("*")) and len(key) == MIN_KEY and any(
            not arabic and _among(vowels, latin) for arabic, known in names for latin in known)
    if not _capitalised(original, offsets, position):
        return False
    return any(_among(name, form) if arabic else (_among(form, name) or _among(name, form))
               for arabic, known in names for name in known for form in forms)


_VOWEL_CLASSES = str.maketrans({"a": "A", "e": "E", "i": "I", "y": "I", "o": "U", "u": "U",
                                "w": "U", "ا": "A", "و": "U", "ي": "I", "ع": "E"})


@lru_cache(maxsize=65536)
def _vowels(word: str) -> tuple[str, ...]:
    """The vowels a name word writes, as classes: A, I, U (E: a Latin "e" or an Arabic ayn,
    any of them — Moez is معز, Kaabi الكعبي; *: a final Arabic yaa, which may be alef
    maqsura). An Arabic word's first letter is a consonant or a hamza seat, not a vowel; a
    Latin "w" after a vowel is one (Chawki is شوقي)."""
    if ARABIC.match(word):
        body = word[1:]
        # و and ي before a vowel letter are consonants (w, y): زواري is z-a-w-a-r-i.
        vowels = "".join(char for char, following in zip(body[:-1], body[1:], strict=True)
                         if char in "اويع" and not (char in "وي" and following in "اوي"))
        last = body[-1:]
        return ((vowels + ("*" if last == "ي" else last if last in "اع" else "")
                 ).translate(_VOWEL_CLASSES),)
    word = word[1:] if word[:1] in "yw" else word  # a first y or w is a consonant
    # "ou" before another vowel may be a w (Zouari is Zawari) or a long u (Bouazizi is
    # بوعزيزي): both readings. A doubled vowel is one.
    groups = LATIN_VOWEL_GROUP.findall(word)
    return tuple({"".join(re.sub(r"(.)\1+", r"\1", (GLIDE.sub("", group) if glide else group)
                                 .translate(_VOWEL_CLASSES)) for group in groups)
                  for glide in (False, True)})


def _among(fewer: str, more: str) -> bool:
    """``fewer`` is a subsequence of ``more`` (E, a Latin "e", matches any vowel; *, a final
    Arabic yaa, matches A, I or E)."""
    position = 0
    for vowel in fewer:
        while position < len(more) and not _same_vowel(vowel, more[position]):
            position += 1
        if position == len(more):
            return False
        position += 1
    return True


def _same_vowel(one: str, other: str) -> bool:
    return one == other or "*" in (one, other) or "E" in (one, other)


def _without_article(word: str) -> str:
    return word[2:] if word.startswith("ال") and len(word) > 4 else word


def _capitalised(original: str, offsets, position: int) -> bool:
    """The word at ``position`` of the folded text starts with a capital (a name, in Latin
    letters); unknown without the original text, so taken as one."""
    return not original or original[offsets[position]].isupper()


def _date_spans(folded: str, dates: dict, numbers: Sequence[re.Match]) -> list[tuple[int, int]]:
    """A date of the record quoted with its day: the day (and month, for a year rule) with a
    month name; the whole date when written in numbers. ``numbers``: the text's NUMBER_RUN
    matches (a day is one of their groups: DAY reads it where it starts)."""
    found = []
    days = {day for day, _month, _year in dates}
    wanted = {(day, month): keeps for (day, month, _year), keeps in dates.items()}
    for run in numbers:
        groups = run.group().split(" ")
        start = run.start()
        for group in groups:
            if len(group) <= 2 and int(group) in days:
                found += _day_span(folded, DAY.match(folded, start), wanted)
            start += len(group) + 1
        numbers_of = [int(group) for group in groups]
        if any(_is_numeric_date(numbers_of[i:i + 3], dates) for i in range(len(groups) - 1)):
            found.append(run.span())
    return found


def _day_span(folded: str, match: re.Match | None, wanted: dict) -> list[tuple[int, int]]:
    """The day DAY matched, if a month name beside it makes it a date of the record
    (``wanted``: what each of its (day, month) keeps): the day (and month, for a year
    rule)."""
    if match is None:
        return []
    named = MONTH_AFTER.match(folded, match.end()) or MONTH_BEFORE.search(
        folded, max(0, match.start() - 40), match.start())
    keeps = wanted.get((int(match.group(1)), _MONTHS[named.group(1)])) if named else None
    if keeps == "month":
        return [match.span(1)]
    if keeps is not None:  # a year rule: the month goes too
        return [(min(match.start(1), named.start(1)), max(match.end(1), named.end(1)))]
    return []


def _is_numeric_date(groups: list[int], dates: dict) -> bool:
    """Two or three numbers that spell a date of the record: 14 11, 14 11 2024, 2024 11 14,
    11 14 24."""
    for d, m, y in dates:
        years = (y, y % 100)
        if groups[:2] in ([d, m], [m, d]) and (len(groups) == 2 or groups[2] in years):
            return True
        if len(groups) == 3 and groups[0] in years and groups[1:] == [m, d]:
            return True
    return False


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
        folded, offsets = fold_words_with_offsets(joined)
        # Digit runs found once, for dates, the record's numbers, phones and IDs.
        numbers = list(NUMBER_RUN.finditer(folded))
        found = secrets.spans(folded, joined, offsets, numbers) if secrets else []
        if numbers:
            found = _merged(found + self._number_spans(folded, numbers, secrets, joined,
                                                       offsets))
            found += _house_numbers(folded, found)
        if " at " in folded or " arobase " in folded or " chez " in folded:
            found += [m.span() for m in SPELLED_EMAIL.finditer(folded)]
        spans = [_to_original(joined, offsets, start, end) for start, end in _merged(found)]
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

    def _number_spans(self, folded: str, numbers: Sequence[re.Match], secrets: Secrets,
                      original: str = "", offsets: Sequence[int] = ()
                      ) -> list[tuple[int, int]]:
        spans = []
        for match in numbers:
            groups = match.group().split(" ")
            digits = "".join(groups)
            law = _law_number(groups) and (
                _cited(folded, match.start())
                or _slashed(original, offsets, match.start() + len(groups[0])))
            if self._identifies(groups, digits, secrets, law):
                spans.append(match.span())
            elif secrets.numbers or secrets.house_numbers:
                spans += _short_numbers(folded, match, groups, secrets)
        return spans

    def _identifies(self, groups: list[str], digits: str, secrets: Secrets,
                    law: bool = False) -> bool:
        """The run is one of the record's numbers, a long number, a phone number or an ID
        (``law``: it is a law's number and year)."""
        trimmed = digits.lstrip("0")
        if any(secret in digits or (len(trimmed) >= MIN_DIGITS and trimmed in secret)
               for secret in secrets.digit_runs):
            return True
        if len(digits) < PHONE_DIGITS[0] or _years_or_date(groups) \
                or _date_and_time(groups) or law \
                or self._round_amount(groups):
            return any(pattern.fullmatch(group) for pattern in self._compiled
                       for group in groups)
        if len(digits) >= ALWAYS_SCRUBBED_DIGITS:
            return True
        if len(digits) <= PHONE_DIGITS[1] and self._is_phone(" ".join(groups)):
            return True
        return any(pattern.search(digits) for pattern in self._compiled)

    def _round_amount(self, groups: list[str]) -> bool:
        """A sum or a count in thousands ("2 500 000", "1.500.000") that no phone region of
        the node takes for a real number."""
        return (len(groups) >= 3 and 1 <= len(groups[0]) <= 3 and groups[-1] == "000"
                and all(len(group) == 3 for group in groups[1:])
                and not self._is_phone(" ".join(groups), valid=True))

    def _is_phone(self, candidate: str, valid: bool = False) -> bool:
        """A possible number of one of the node's regions (``valid``: one its plan allows)."""
        for region in self.phone_regions:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if (phonenumbers.is_valid_number if valid else phonenumbers.is_possible_number)(
                    number):
                return True
        return False


def _short_numbers(folded: str, match, groups: list[str], secrets: Secrets) -> list:
    """An age or a birth year of the record, standing alone; a house number of its address
    beside a word of the address or a street word ("17 rue", "عدد 17")."""
    before = folded[max(0, match.start() - 40):match.start()].split()[-1:]
    after = folded[match.end():match.end() + 40].split()[:1]
    beside_address = bool(secrets.address_words.intersection(before + after))
    spans, start = [], match.start()
    for group in groups:
        if group in secrets.numbers or (beside_address and group in secrets.house_numbers):
            spans.append((start, start + len(group)))
        start += len(group) + 1
    return spans


_CUE = "|".join(sorted(map(re.escape, STREET_CUES), key=len, reverse=True))
# A house number before a street ("17 rue …", "17 bis, rue …") or after it ("… n° 17").
_NUMBER_BEFORE = re.compile(rf"(?<!\S)(\d{{1,4}}(?: (?:bis|ter))?) (?:(?:{_CUE}) )*$")
_NUMBER_AFTER = re.compile(rf" (?:(?:{_CUE}) )*(\d{{1,4}}(?: (?:bis|ter))?)(?!\S)")


def _house_numbers(folded: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The house number of a scrubbed street goes with it: a number of at most four digits
    just before or after a scrubbed span that names a street ("17 rue [Ibn Khaldoun]",
    "[نهج ابن خلدون] عدد 17"), whether or not the record holds that number."""
    found = []
    for start, end in spans:
        # The word just before, then the span's own words: most spans name no street.
        if STREET_CUES.isdisjoint(folded[max(0, start - 40):start].rsplit(None, 1)[-1:]) and \
                STREET_CUES.isdisjoint(folded[start:end].split()):
            continue
        number = _NUMBER_BEFORE.search(folded, max(0, start - 40), start)
        if number is not None:
            found.append((number.start(1), start))
        number = _NUMBER_AFTER.match(folded, end)
        if number is not None:
            found.append((end, number.end(1)))
    return found


def _cited(folded: str, start: int) -> bool:
    """A law, a decree, a code or an article is named just before ``start``, or before a
    word that says a number follows ("loi n° 107/2013", "بالقانون رقم 175/2018")."""
    words = folded[max(0, start - 60):start].split()[-3:]
    while words and words[-1] in NUMBER_WORDS:
        words.pop()
    return bool(words) and _legal_cue(words[-1])


def _slashed(original: str, offsets: Sequence[int], between: int) -> bool:
    """The two groups of a number meet at ``between`` (in the folded text) across a slash in
    the text as written: "175/2018", "١٧٥/٢٠١٨", the way laws and cases are numbered."""
    if not offsets or between + 1 >= len(offsets):
        return False
    return "/" in original[offsets[between - 1] + 1:offsets[between + 1]]


def _legal_cue(word: str) -> bool:
    return word in LEGAL_CUES or (ARABIC.match(word) is not None and any(
        word.startswith(prefix) and word[len(prefix):] in LEGAL_CUES
        for prefix in ARABIC_PREFIXES if prefix))


def _law_number(groups: list[str]) -> bool:
    """A law's number and year, either way round: 175 2018, 2022 54."""
    if len(groups) != 2:
        return False
    return any(YEAR.fullmatch(year) is not None and 1 <= len(number) <= 4
               for year, number in (groups, groups[::-1]))


def _date_and_time(groups: list[str]) -> bool:
    """A date and the time of day after it: 13 09 2022 14 30."""
    if len(groups) not in (4, 5) or not _years_or_date(groups[:3]):
        return False
    hour, *minutes = groups[3:]
    return len(hour) <= 2 and int(hour) <= 23 and all(
        len(minute) == 2 and int(minute) <= 59 for minute in minutes)


def _years_or_date(groups: list[str]) -> bool:
    """Numbers that read as years ("2019 2020") or as a date ("14 11 2024"): not a phone."""
    if all(YEAR.fullmatch(group) for group in groups):
        return True
    if not 2 <= len(groups) <= 3 or not all(len(group) <= 4 for group in groups):
        return False
    from_words = [int(group) for group in groups]
    day_month = from_words[0] <= 31 and from_words[1] <= 12
    return (day_month or (len(groups[0]) == 4 and from_words[1] <= 12)) and (
        len(groups) == 2 or len(groups[2]) in (2, 4) or len(groups[0]) == 4)


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
    if first > 0 and text[first - 1] == "+":  # an international number's plus sign
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
    words, offsets = fold_words_with_offsets(text.replace(PLACEHOLDER, " " * len(PLACEHOLDER)))
    months = _MONTHS
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
