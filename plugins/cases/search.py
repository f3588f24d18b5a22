"""Full-text search over a case's open fields, Arabic-aware, on SQLite and PostgreSQL.

The index holds only what is already open: open texts in their scrubbed form (as kept in
clear, see core.records), so identifying values are never indexed. Text is
folded (``core.text.fold``) before indexing and querying, and Arabic words are indexed also
without a leading conjunction or article (و، ف، ب، ل، ك، ال), so "وسلمى" is found by "سلمى".
SQLite uses an FTS5 table; PostgreSQL a tsvector column with a GIN index. Both are made by
raw DDL (``cases_search``), which core's schema checks leave alone.
"""

from __future__ import annotations

import re

from sqlalchemy import DDL, Integer, column, event, func, literal_column, select, table, text

from core.extensions import db
from core.places import gazetteer
from core.scrub import PLACEHOLDER
from core.text import fold

from . import terms
from .models import Case

WORD = re.compile(r"[^\W_]+")  # letters and digits; underscores split words
QUERY_WORD = re.compile(r"([^\W_]+)(\*?)")
ARABIC_WORD = re.compile(r"^[\u0600-\u06ff]+$")
CLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
CLITICS_BY_LENGTH = {n: frozenset(c for c in CLITICS if len(c) == n) for n in (1, 2, 3)}
MAX_TERMS = 8
# A search shows an exact count up to here, and "more than" beyond (see docs/performance.md).
COUNT_CAP = 1000

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_search USING fts5("
    "document, tokenize = 'unicode61 remove_diacritics 0', detail = none)",
]
POSTGRESQL_DDL = [
    "CREATE TABLE IF NOT EXISTS cases_search ("
    "case_id INTEGER PRIMARY KEY REFERENCES cases_case (id) ON DELETE CASCADE, "
    "document TSVECTOR NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_cases_search_document ON cases_search USING GIN (document)",
]
DROP = ["DROP TABLE IF EXISTS cases_search"]


def ddl(dialect: str) -> list[str]:
    return SQLITE_DDL if dialect == "sqlite" else POSTGRESQL_DDL


# Tests and `create_all` get the search index with the cases table (migrations make it in
# production).
for _dialect in ("sqlite", "postgresql"):
    for _statement in ddl(_dialect):
        event.listen(Case.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
event.listen(Case.__table__, "before_drop", DDL(DROP[0]))


def document(case) -> str:
    """The folded words a case is found by: its open texts in their scrubbed form (the save
    seals them first: ``records.seal_texts``), so no name typed in a narrative can be
    searched for — with term labels in every language and place names, plus Arabic words
    stripped of a clitic."""

    def scrub(text: str | None) -> str:
        return (text or "").replace(PLACEHOLDER, " ")

    texts = [case.title, case.summary] + [incident.narrative for incident in case.incidents]
    parts = [scrub(text) for text in texts]
    if case.defender is not None:
        parts.append(scrub(case.defender.pseudonym))
        for code in case.defender.activism or []:
            parts += terms.all_labels(terms.ACTIVISM, code)
    for incident in case.incidents:
        parts += terms.all_labels(terms.VIOLATIONS, incident.violation)
        parts += terms.all_labels(terms.PERPETRATORS, incident.perpetrator_type)
        parts += _place_names(incident.place)
    words = WORD.findall(fold(" ".join(p for p in parts if p)))
    unique = set(words)
    return " ".join(sorted(unique | {v for w in unique for v in _stripped(w)}))


def query_terms(query_text: str) -> list[str]:
    """The folded words of a query, each stripped of a leading Arabic clitic; a word typed
    with a final * is kept as a prefix ("tun*")."""
    found = []
    for match in QUERY_WORD.finditer(fold(query_text)):
        word, star = match.group(1), match.group(2)
        found.append((_stripped(word) or [word])[-1] + star)
        if len(found) == MAX_TERMS:
            break
    return found


def index(case) -> None:
    """Write the case's document, in the current transaction."""
    doc = document(case)
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DELETE FROM cases_search WHERE rowid = :id"), {"id": case.id})
        db.session.execute(
            text("INSERT INTO cases_search (rowid, document) VALUES (:id, :doc)"),
            {"id": case.id, "doc": doc},
        )
    else:
        db.session.execute(
            text("INSERT INTO cases_search (case_id, document) "
                 "VALUES (:id, to_tsvector('simple', :doc)) "
                 "ON CONFLICT (case_id) DO UPDATE SET document = EXCLUDED.document"),
            {"id": case.id, "doc": doc},
        )


def index_many(cases) -> None:
    rows = [{"id": case.id, "doc": document(case)} for case in cases]
    if not rows:
        return
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO cases_search (rowid, document) VALUES (:id, :doc)"),
                           rows)
    else:
        db.session.execute(
            text("INSERT INTO cases_search (case_id, document) "
                 "VALUES (:id, to_tsvector('simple', :doc))"), rows)


class Matching:
    """The cases whose index holds every word (a word ending in * as a prefix)."""

    def __init__(self, words: list[str]):
        self.words = words
        if db.engine.dialect.name == "sqlite":
            self.table = table("cases_search", column("rowid", Integer))
            self.id = self.table.c.rowid
            quoted = [f'"{w[:-1]}"*' if w.endswith("*") else f'"{w}"' for w in words]
            self.condition = literal_column("cases_search").op("MATCH")(" AND ".join(quoted))
        else:
            self.table = table("cases_search", column("case_id", Integer), column("document"))
            self.id = self.table.c.case_id
            query = " & ".join(f"{w[:-1]}:*" if w.endswith("*") else w for w in words)
            self.condition = self.table.c.document.op("@@")(func.to_tsquery("simple", query))

    def ids(self):
        """A SELECT of the matching case ids, for an IN (few hits)."""
        return select(self.id).select_from(self.table).where(self.condition)


def matching(words: list[str]) -> Matching | None:
    return Matching(words) if words else None


def hits(found: Matching, conditions: list, *columns):
    """The matching visible cases' ids (and ``columns``), in no order."""
    return (select(Case.id, *columns)
            .select_from(found.table.join(Case.__table__, Case.id == found.id))
            .where(found.condition, *conditions))


def newest_first(found: Matching, conditions: list):
    """The matching visible cases, newest first, walking the index from its end: for a
    word in nearly every case this stops after a page instead of sorting them all."""
    return hits(found, conditions).order_by(found.id.desc())


def _stripped(word: str) -> list[str]:
    """The word without its longest leading clitic (Arabic words only), or nothing."""
    if word.isascii() or not ARABIC_WORD.match(word):
        return []
    for length in (3, 2, 1):
        if len(word) - length >= 2 and word[:length] in CLITICS_BY_LENGTH[length]:
            return [word[length:]]
    return []


def _place_names(code: str | None) -> list[str]:
    names = []
    places = gazetteer()
    while code:
        place = places.get(code)
        if place is None:
            break
        names += place.all_names()  # aliases and old spellings too
        code = place.parent
    return names
