"""Search of the library's catalogue (``knowledge_entry``), Arabic-aware, ranked, on SQLite and
PostgreSQL alike.

One pipeline makes the words of an entry and of a query, in Python, the same on both
databases (so both find the same entries):

1. ``core.text.fold_words``: the project's folding — hamza and alef forms, taa marbuta, alef
   maqsura, diacritics and tatweel (Arabic), case and accents (Latin), compatibility forms,
   Arabic-Indic digits; what is neither a letter nor a digit separates words.
2. Light stemming by the Snowball algorithms (``PyStemmer``, the C build of snowball.tartarus's
   stemmers, the same algorithms as PostgreSQL's ``arabic``/``french``/``english`` configs):
   an Arabic word by the Arabic stemmer (also once without a leading conjunction or article,
   و ف ب ل ك ال, as cases and the shared list strip them), a Latin word by the stemmer of the
   entry's language. A query's language is not known: a Latin word is looked for in its French
   and English stems and as typed, an Arabic one in its stems with and without a clitic.
   PostgreSQL's own configs are not used: they would tokenise, drop stop words and stem
   differently from SQLite's side, and a query would need every config anyway.
3. Filters (kind, language, tag, audience) are words of their own (``kind=guide``), in a
   column of their own (SQLite) or with characters no text word has (PostgreSQL), so a
   filtered search is one index lookup.

SQLite keeps the words in an FTS5 table (``knowledge_search``, rowid = the entry's id; a
trigger deletes its row with the entry) and ranks by bm25 (title weighs 10, summary, tags and
byline 4, body 1); PostgreSQL in a ``tsvector`` column with a GIN index (its row deleted by
the entry's foreign key) and ranks by ``ts_rank`` (weights A, B, C the same way, normalised
by length). Both are raw DDL made with the entry table, which core's schema checks leave alone.
A search ranks the newest ``RANK_CAP`` matching entries (a word in nearly every entry must not
score all of them), and counts up to ``COUNT_CAP``.

Snippets are made here, from the entry's text as written: the words that match are marked
``<mark>``, everything else escaped (``markupsafe``).

The library's code calls ``index_entry`` and ``remove_entry`` inside the transaction that
saves, receives or purges an entry, so the index never differs from the catalogue.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import Stemmer
from flask_babel import gettext
from markupsafe import Markup, escape
from sqlalchemy import DDL, event, select, text

from core.extensions import db
from core.migrating import declare_unmodelled_tables
from core.text import fold_words, fold_words_with_offsets

from .models import COALITION, KINDS, LANGUAGES, NODE, PUBLIC, Entry

AUDIENCES = (NODE, COALITION, PUBLIC)

MAX_QUERY_CHARS = 500  # longer: SearchError (a clear message), nothing searched
MAX_TERMS = 8  # words of a query beyond the eighth are not searched
MAX_WORD = 60  # longer "words" (a hash, a run of letters) are not indexed
MAX_WORDS = 60_000  # an entry's words beyond these are not indexed (about 400 KB of text)
MAX_POSITIONS = 32  # per word and entry (PostgreSQL): ranking saturates well before
MIN_PREFIX = 2  # "de*" is a prefix search; "d*" is the word "d"
RANK_CAP = 1000  # the newest matching entries ranked
COUNT_CAP = 1000  # a total above is shown as "more than COUNT_CAP"

# Snowball algorithm of each language an entry may be in; Latin words of an entry in another
# language (Arabic) are stemmed as French and as English.
STEMMED = {"ar": "arabic", "fr": "french", "en": "english", "es": "spanish", "de": "german",
           "it": "italian", "pt": "portuguese", "nl": "dutch", "tr": "turkish"}
LATIN_FALLBACK = ("fr", "en")
QUERY_LATIN = ("fr", "en")
CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
HAMZA_SEATS = str.maketrans({"ؤ": "ء", "ئ": "ء"})
ARABIC_WORD = re.compile(r"^[\u0600-\u06ff\u0750-\u077f]+$")
LATIN_WORD = re.compile(r"^[0-9a-z\u00c0-\u024f]+$")
QUERY_WORD = re.compile(r"([^\W_]+)(\*?)")
# Markdown and HTML that is not words: a link's address, a tag, a bare address.
NOT_WORDS = re.compile(r"\]\([^)\s]{0,2000}(?:\s+\"[^\"]{0,200}\")?\)|<[^<>]{0,300}>"
                       r"|https?://\S+|[#*_`>|~\[\]]+")

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_search USING fts5("
    "title, head, body, facets, "
    "tokenize = \"unicode61 remove_diacritics 0 tokenchars '=_'\")",
    "CREATE TRIGGER IF NOT EXISTS knowledge_search_forget AFTER DELETE ON knowledge_entry "
    "BEGIN DELETE FROM knowledge_search WHERE rowid = old.id; END",
]
POSTGRESQL_DDL = [
    "CREATE TABLE IF NOT EXISTS knowledge_search ("
    "entry_id INTEGER PRIMARY KEY REFERENCES knowledge_entry (id) ON DELETE CASCADE, "
    "document TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_knowledge_search_document ON knowledge_search "
    "USING GIN (document)",
]
DROP = ["DROP TABLE IF EXISTS knowledge_search"]
# The FTS5 table and its shadow tables (knowledge_search_data, ...) are not models.
declare_unmodelled_tables("knowledge_search")


def ddl(dialect: str) -> list[str]:
    return SQLITE_DDL if dialect == "sqlite" else POSTGRESQL_DDL


# Tests and `create_all` get the index with the entry table (migrations make it otherwise).
for _dialect in ("sqlite", "postgresql"):
    for _statement in ddl(_dialect):
        event.listen(Entry.__table__, "after_create",
                     DDL(_statement).execute_if(dialect=_dialect))
event.listen(Entry.__table__, "before_drop", DDL(DROP[0]))


class SearchError(ValueError):
    """A search that cannot be run as typed; ``str()`` is a message for the reader."""


@dataclass(frozen=True)
class Hit:
    entry: Entry
    snippet: Markup  # escaped text with <mark>…</mark> around the words found


# -- words ---------------------------------------------------------------------------------

_local = threading.local()  # a Stemmer object is not to be shared between threads


def _stemmer(language: str):
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        stemmers[language] = Stemmer.Stemmer(STEMMED[language])
    return stemmers[language]


@lru_cache(maxsize=32_768)
def _stem(word: str, language: str) -> str:
    return _stemmer(language).stemWord(word) or word


def _without_clitic(word: str) -> str | None:
    for clitic in CLITICS:  # longest first
        if word.startswith(clitic) and len(word) - len(clitic) >= 2:
            return word[len(clitic):]
    return None


@lru_cache(maxsize=32_768)
def forms(word: str, language: str) -> tuple[str, ...]:
    """What the index holds for ``word`` (folded) of an entry in ``language``."""
    if len(word) > MAX_WORD:
        return ()
    if ARABIC_WORD.match(word):
        # A word with a leading conjunction or article: the word as folded, and the stem of
        # what follows it (Snowball's Arabic stemmer, given "الشيون", makes it "الش"); the
        # clitic may be the word's own first letter ("وطن"), so both are kept.
        stripped = _without_clitic(word)
        if stripped:
            return tuple(dict.fromkeys((word, _stem(stripped, "ar"))))
        return (_stem(word, "ar"),)
    if LATIN_WORD.match(word) and not word.isdigit():
        languages = (language,) if language in STEMMED and language != "ar" else LATIN_FALLBACK
        return tuple(dict.fromkeys(_stem(word, lang) for lang in languages))
    return (word,)


@lru_cache(maxsize=4096)
def query_forms(word: str) -> tuple[str, ...]:
    """What a query's ``word`` (folded) is looked for as: its forms in any entry's language,
    and the word as typed."""
    if len(word) > MAX_WORD:
        return (word[:MAX_WORD],)  # matches nothing indexed, and says so honestly
    if ARABIC_WORD.match(word):
        return tuple(dict.fromkeys((*forms(word, "ar"), word)))
    if LATIN_WORD.match(word) and not word.isdigit():
        return tuple(dict.fromkeys((*(_stem(word, lang) for lang in QUERY_LATIN), word)))
    return (word,)


def plain(text: str | None) -> str:
    """A text's words without Markdown and HTML syntax (link addresses, tags, emphasis)."""
    return NOT_WORDS.sub(" ", text or "")


class _Forms(dict):
    """``forms(word, language)`` of each word met, for one language: looked up in C."""

    def __init__(self, language: str):
        super().__init__()
        self.language = language

    def __missing__(self, word: str) -> tuple[str, ...]:
        found = forms(word, self.language)
        if len(self) < 32_768:  # a worker's memory: a text's words are far fewer
            self[word] = found
        return found


_FORMS: dict[str, _Forms] = {}


def seatless(text: str) -> str | None:
    """``text`` with hamza on waw or yaa written as a lone hamza (which folding drops), if it
    has any: "مسؤولية" and "مسئولية" are both "مسولية" so. Folding alone makes them "مسوولية"
    and "مسيولية" (as most people type them without hamza), so a word written with a hamza
    seat is indexed and looked for both ways."""
    return text.translate(HAMZA_SEATS) if "ؤ" in text or "ئ" in text else None


def _seatless_words(text: str, words: list[str]) -> list[str]:
    """The folded words of ``text`` (``words``) that read otherwise without hamza seats, in
    that other reading."""
    other = seatless(text)
    if other is None:
        return []
    others = fold_words(other).split()[:MAX_WORDS]
    if len(others) != len(words):  # a word that was a lone seat: leave the rare text be
        return []
    return [b for a, b in zip(words, others, strict=True) if a != b]


def words_of(text: str | None, language: str) -> list[str]:
    """The index forms of ``text``'s words, in order (a word may give two; a word written
    with a hamza seat also gives the forms of its seatless reading, at the end)."""
    table = _FORMS.get(language)
    if table is None:
        table = _FORMS.setdefault(language, _Forms(language))
    shown = plain(text)
    words = fold_words(shown).split()[:MAX_WORDS]
    found = list(chain.from_iterable(map(table.__getitem__, words)))
    for word in _seatless_words(shown, words):
        found += table[word]
    return found


def _facet(name: str, value: str) -> str:
    return f"{name}=" + "_".join(fold_words(value or "").split())[:MAX_WORD]


def facets_of(entry) -> list[str]:
    return ([_facet("kind", entry.kind), _facet("lang", entry.language),
             _facet("aud", entry.audience)]
            + [_facet("tag", tag) for tag in dict.fromkeys(entry.tags or []) if tag])


def _columns(entry) -> dict[str, list[str]]:
    language = entry.language or ""
    head = " ".join([entry.summary or "", " ".join(str(t) for t in entry.tags or []),
                     entry.byline or ""])
    return {"title": words_of(entry.title, language), "head": words_of(head, language),
            "body": words_of(entry.body, language), "facets": facets_of(entry)}


# -- the index -----------------------------------------------------------------------------


def _sqlite_row(entry) -> dict:
    columns = _columns(entry)
    return {"id": entry.id, **{name: " ".join(words) for name, words in columns.items()}}


def _tsvector(entry) -> str:
    """The entry's ``tsvector`` as its literal: each word with its positions and weight
    (title A, summary/tags/byline B, body C), filters with none. Written by hand so that
    PostgreSQL's parser never splits or drops a word the SQLite side keeps."""
    columns = _columns(entry)
    kept: dict[str, list[str]] = {}
    position = 0
    for name, weight in (("title", "A"), ("head", "B"), ("body", "C")):
        for word in columns[name]:
            position += 1
            at = kept.get(word)
            if at is None:
                kept[word] = [f"{min(position, 16383)}{weight}"]
            elif len(at) < MAX_POSITIONS:
                at.append(f"{min(position, 16383)}{weight}")
        position += 1  # the fields do not run into one another
    # Words are letters and digits only (fold_words): nothing in them to quote.
    parts = [f"'{word}':{','.join(at)}" for word, at in kept.items()]
    parts += [f"'{_quoted(facet)}'" for facet in dict.fromkeys(columns["facets"])]
    return " ".join(parts)


def _quoted(word: str) -> str:
    return word.replace("\\", "\\\\").replace("'", "''")


_SQLITE_DELETE = text("DELETE FROM knowledge_search WHERE rowid = :id")
_SQLITE_INSERT = text("INSERT INTO knowledge_search (rowid, title, head, body, facets) "
                      "VALUES (:id, :title, :head, :body, :facets)")
_PG_UPSERT = text("INSERT INTO knowledge_search (entry_id, document) "
                  "VALUES (:id, CAST(:doc AS tsvector)) "
                  "ON CONFLICT (entry_id) DO UPDATE SET document = EXCLUDED.document")
_PG_DELETE = text("DELETE FROM knowledge_search WHERE entry_id = :id")


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def index_entry(entry) -> None:
    """Write (or rewrite) the entry's words, in the caller's transaction (``entry.id`` set)."""
    if entry.id is None:
        db.session.flush()
    if _sqlite():
        db.session.execute(_SQLITE_DELETE, {"id": entry.id})
        db.session.execute(_SQLITE_INSERT, _sqlite_row(entry))
    else:
        db.session.execute(_PG_UPSERT, {"id": entry.id, "doc": _tsvector(entry)})


def index_many(entries: Iterable) -> int:
    """Index entries not indexed yet (a rebuild, a benchmark), in the caller's transaction."""
    entries = list(entries)
    if not entries:
        return 0
    if _sqlite():
        db.session.execute(_SQLITE_INSERT, [_sqlite_row(entry) for entry in entries])
    else:
        db.session.execute(_PG_UPSERT, [{"id": e.id, "doc": _tsvector(e)} for e in entries])
    return len(entries)


def remove_entry(entry) -> None:
    """Delete the entry's words, in the caller's transaction (a deleted, erased or purged
    entry: the database would also do it when the entry's row goes)."""
    if entry.id is not None:
        db.session.execute(_SQLITE_DELETE if _sqlite() else _PG_DELETE, {"id": entry.id})


def rebuild(batch: int = 500) -> int:
    """Index every entry again (after an upgrade of the stemmers). The caller commits."""
    db.session.execute(text("DELETE FROM knowledge_search"))
    count, last = 0, 0
    while True:
        entries = db.session.scalars(select(Entry).where(Entry.id > last)
                                     .order_by(Entry.id).limit(batch)).all()
        if not entries:
            return count
        count += index_many(entries)
        last = entries[-1].id


# -- a query -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    forms: tuple[str, ...]
    prefix: bool = False


def parse(query: str) -> list[Term]:
    """The words of a query, folded, each with the forms it is looked for as (at most
    ``MAX_TERMS``; repeated words once). Nothing of a search syntax is passed on: quotes,
    brackets, operators and column names are not words, so they separate words; a word
    ending in * (two letters or more) is a prefix."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(gettext("The search is too long: at most %(count)s characters.",
                                  count=MAX_QUERY_CHARS))
    found: dict[tuple, Term] = {}
    folded = _folded_with_stars(query)
    matches = list(QUERY_WORD.finditer(folded))
    other = seatless(query)
    others = list(QUERY_WORD.finditer(_folded_with_stars(other))) if other else []
    if len(others) != len(matches):
        others = matches
    for match, seatless_match in zip(matches, others, strict=True):
        word, star = match.group(1), match.group(2)
        variants = query_forms(word)
        if seatless_match.group(1) != word:
            variants = tuple(dict.fromkeys((*variants, *query_forms(seatless_match.group(1)))))
        if star and len(word) >= MIN_PREFIX:
            term = Term(tuple(dict.fromkeys((word[:MAX_WORD], *variants))), True)
        else:
            term = Term(variants)
        found.setdefault((term.forms, term.prefix), term)
        if len(found) == MAX_TERMS:
            break
    return list(found.values())


def _folded_with_stars(query: str) -> str:
    """``fold_words`` keeps letters and digits only: a * right after a word is kept."""
    parts = re.split(r"(\*)", query)
    return "".join("*" if part == "*" else fold_words(part) for part in parts)


@dataclass(frozen=True)
class Filter:
    """Facet words of which an entry has one (or, ``left_out``, none)."""

    words: tuple[str, ...]
    left_out: bool = False


def _sqlite_match(terms: Sequence[Term], filters: Sequence[Filter]) -> str:
    def group(term: Term) -> str:
        star = "*" if term.prefix else ""
        return "(" + " OR ".join(f'"{form}"{star}' for form in term.forms) + ")"

    def facets(words) -> str:
        return "{facets} : (" + " OR ".join(f'"{word}"' for word in words) + ")"

    match = "{title head body} : (" + " AND ".join(group(term) for term in terms) + ")"
    match += "".join(f" AND {facets(f.words)}" for f in filters if not f.left_out)
    left_out = [f for f in filters if f.left_out]
    if left_out:
        match = f"({match}) NOT (" + " OR ".join(facets(f.words) for f in left_out) + ")"
    return match


def _tsquery(terms: Sequence[Term], filters: Sequence[Filter]) -> str:
    def group(term: Term) -> str:
        star = ":*" if term.prefix else ""
        return "(" + " | ".join(f"'{_quoted(form)}'{star}" for form in term.forms) + ")"

    parts = [group(term) for term in terms]
    for f in filters:
        either = "(" + " | ".join(f"'{_quoted(word)}'" for word in f.words) + ")"
        parts.append("!" + either if f.left_out else either)
    return " & ".join(parts)


def _filters(kinds, languages, tags, audiences) -> list[Filter]:
    """The filters as facet words. A filter naming every value there is filters nothing and
    is left out (a reader who may see every audience); one naming most of them is written
    as the few it leaves out (a member may read every kind but testimonies): stepping
    through the words of most entries would cost a search dearly. Every entry's kind,
    language and audience is one of those (the catalogue keeps no other)."""
    found = []
    for name, values, every in (("kind", kinds, KINDS), ("lang", languages, LANGUAGES),
                                ("tag", tags, None), ("aud", audiences, AUDIENCES)):
        values = [v for v in dict.fromkeys(values or ()) if isinstance(v, str)]
        if not values:
            continue
        others = [v for v in every or () if v not in values]
        if every and not others:
            continue
        if every and set(values) <= set(every) and len(others) < len(values):
            found.append(Filter(tuple(_facet(name, v) for v in others), left_out=True))
        else:
            found.append(Filter(tuple(_facet(name, value) for value in values)))
    return found


def _ranked(terms, filters) -> list[tuple[int, float]]:
    """(entry id, score), best first: the newest RANK_CAP + 1 matches, ranked."""
    if _sqlite():
        rows = db.session.execute(text(
            "SELECT rowid, bm25(knowledge_search, 10.0, 4.0, 1.0, 0.0) FROM knowledge_search "
            "WHERE knowledge_search MATCH :match ORDER BY rowid DESC LIMIT :cap"),
            {"match": _sqlite_match(terms, filters), "cap": RANK_CAP + 1}).all()
        return sorted(((row[0], -row[1]) for row in rows), key=lambda r: (-r[1], -r[0]))
    rows = db.session.execute(text(
        "SELECT entry_id, ts_rank('{0, 0.2, 0.4, 1.0}', document, query, 1) "
        "FROM (SELECT entry_id, document FROM knowledge_search "
        "      WHERE document @@ CAST(:query AS tsquery) "
        "      ORDER BY entry_id DESC LIMIT :cap) AS newest, "
        "     CAST(:query AS tsquery) AS query"),
        {"query": _tsquery(terms, filters), "cap": RANK_CAP + 1}).all()
    return sorted(((row[0], row[1]) for row in rows), key=lambda r: (-r[1], -r[0]))


def results(q: str, *, kinds: Sequence[str] = (), languages: Sequence[str] = (),
            tags: Sequence[str] = (), audiences: Sequence[str] = (), limit: int = 20,
            offset: int = 0) -> tuple[list[Hit], int]:
    """The entries matching every word of ``q`` and every filter (values of one filter: any),
    best first, ``limit`` from ``offset``; and how many match (above ``COUNT_CAP``: the
    count is ``COUNT_CAP + 1``, to be shown as "more than"). A query with no word: ([], 0).
    Raises SearchError for a query too long to search."""
    terms = parse(q or "")
    if not terms:
        return [], 0
    ranked = _ranked(terms, _filters(kinds, languages, tags, audiences))
    total = min(len(ranked), COUNT_CAP + 1)
    page = [entry_id for entry_id, _score in ranked[max(offset, 0):max(offset, 0) + limit]]
    if not page:
        return [], total
    entries = {entry.id: entry for entry in db.session.scalars(
        select(Entry).where(Entry.id.in_(page)))}
    return [Hit(entries[i], snippet(entries[i], terms)) for i in page if i in entries], total


# -- snippets ------------------------------------------------------------------------------

SNIPPET_CHARS = 240
_AROUND = 60  # characters shown before the first word found


@lru_cache(maxsize=256)
def _candidates(terms: tuple[Term, ...]) -> re.Pattern:
    """Where in a folded text a word that may match ``terms`` is: the start of one of their
    forms (a stem is not always a word's start: "happy" is "happi"); each word found so is
    then checked."""
    needles = sorted({form[:max(3, len(form) - 1)] for term in terms for form in term.forms},
                     key=len, reverse=True)
    return re.compile("|".join(map(re.escape, needles)))


def _spans(folded: str, pattern: re.Pattern, language: str, terms) -> list[tuple[int, int]]:
    """The words of ``folded`` (one space between words) that match ``terms``."""
    spans, after = [], -1
    for found in pattern.finditer(folded):
        if found.start() < after:
            continue  # in the word just checked
        first = folded.rfind(" ", 0, found.start()) + 1
        after = folded.find(" ", found.end())
        after = len(folded) if after < 0 else after
        if _matches(folded[first:after], language, terms):
            spans.append((first, after))
    return spans


def _matches(word: str, language: str, terms: Sequence[Term]) -> bool:
    found = forms(word, language)
    for term in terms:
        if term.prefix:
            if any(form.startswith(p) for form in found for p in term.forms):
                return True
        elif any(form in term.forms for form in found):
            return True
    return False


def _found_in(shown: str, pattern: re.Pattern, language: str, terms) -> list[tuple[int, int]]:
    """Where in ``shown`` the words found are (start, end), as written or else — words
    written with a hamza seat — read without it (the seatless text has the same length)."""
    for reading in (shown, seatless(shown)):  # the second only if the first found nothing
        if reading is not None:
            folded, offsets = fold_words_with_offsets(reading)
            spans = [(offsets[first], offsets[last - 1] + 1)
                     for first, last in _spans(folded, pattern, language, terms)]
            if spans:
                return spans
    return []


_SPACE = re.compile(r"\s")


def snippet(entry, terms: Sequence[Term], size: int = SNIPPET_CHARS) -> Markup:
    """A passage of the entry's body, summary or title (as written, Markdown syntax left out)
    around the words found, those words marked; everything escaped. The text is folded once
    (in C) and only words that may match are stemmed."""
    language = entry.language or ""
    pattern = _candidates(tuple(terms))
    chosen = None
    for source in (entry.body, entry.summary, entry.title):
        shown = plain(source)[:200_000].strip()
        if not shown:
            continue
        spans = _found_in(shown, pattern, language, terms)
        if spans or chosen is None:
            chosen = (shown, spans)
        if spans:
            break
    if chosen is None:
        return Markup("")
    shown, spans = chosen
    start = _window(spans, size)
    if start > 0:
        space = _SPACE.search(shown, start)
        start = space.end() if space and space.end() <= spans[0][0] or not spans else start
    end = min(len(shown), start + size)
    if end < len(shown):
        cut = max(shown.rfind(" ", start, end), shown.rfind("\n", start, end))
        end = cut if cut > start else end
    out = [Markup("… ") if start > 0 else Markup("")]
    cursor = start
    for begin, finish in spans:
        if begin < cursor or finish > end:
            continue
        out += [escape(shown[cursor:begin]),
                Markup("<mark>") + escape(shown[begin:finish]) + Markup("</mark>")]
        cursor = finish
    out.append(escape(shown[cursor:end]))
    if end < len(shown):
        out.append(Markup(" …"))
    return Markup("").join(out)


def _window(spans: list[tuple[int, int]], size: int) -> int:
    """Where the ``size``-character passage with the most words found starts (a little
    before its first word); 0 when nothing was found."""
    if not spans:
        return 0
    best_start, best_count, low = spans[0][0], 0, 0
    for high, (first, _last) in enumerate(spans):
        while first - spans[low][0] > size - _AROUND:
            low += 1
        if high - low + 1 > best_count:
            best_count, best_start = high - low + 1, spans[low][0]
    return max(0, best_start - _AROUND)
