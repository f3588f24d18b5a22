"""The cases plugin's vocabularies, as data: violation types (a gender-sensitive taxonomy of
violations against women defenders, grouped under broader HURIDOCS-style categories),
perpetrator types and fields of activism. Codes are stable: records store them and nodes
exchange them. Country plugins add terms to these vocabularies with ``register_terms``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from core.countries import LAWS as LAWS  # re-exported: the cases pages name its terms
from core.i18n import language
from core.vocabularies import Term, vocabulary

VIOLATIONS = "cases.violation"
PERPETRATORS = "cases.perpetrator"
ACTIVISM = "cases.activism"
DATA = Path(__file__).parent / "data" / "terms.json"


@lru_cache(maxsize=1)
def declared() -> tuple[Term, ...]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return tuple(
        Term(t["vocabulary"], t["code"], t["labels"], t.get("parent")) for t in raw
    )


def violation_codes() -> set[str]:
    """Codes a violation may take: the specific types, not their broad categories."""
    return {term.code for term in vocabulary(VIOLATIONS).leaves()}


def label(vocabulary_name: str, code: str | None) -> str:
    return vocabulary(vocabulary_name).label(code, language())


def all_labels(vocabulary_name: str, code: str | None) -> list[str]:
    """A term in every language (the search index holds them all)."""
    term = vocabulary(vocabulary_name).get(code) if code else None
    return list(term.labels.values()) if term else []

