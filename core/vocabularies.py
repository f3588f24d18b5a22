"""Controlled vocabularies: the coded lists records use (violation types, perpetrator types,
laws), with stable codes and labels in each language. Plugins declare terms with
``register_terms``; a country plugin may add terms to another plugin's vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flask import Flask, current_app

from core.plugins import plugin_manager, results_by_plugin


@dataclass(frozen=True)
class Term:
    vocabulary: str  # "<plugin>.<name>", e.g. "cases.violation"
    code: str  # stable: stored in records and sent between nodes
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    parent: str | None = None  # a broader term of the same vocabulary
    # What else people need to know of it, by name: a law's "date", "gazette" and "source".
    details: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def label(self, locale: str) -> str:
        return self.labels.get(locale) or self.labels.get("en") or self.code


class Vocabulary:
    def __init__(self, name: str, terms: Iterable[Term]):
        self.name = name
        self._terms: dict[str, Term] = {}
        for term in terms:
            if term.code in self._terms:
                raise ValueError(f"The term {term.code!r} is declared twice in {name!r}.")
            self._terms[term.code] = term
        for term in self._terms.values():
            if term.parent is not None and term.parent not in self._terms:
                raise ValueError(f"The term {term.code!r} of {name!r} names an unknown parent.")

    def __contains__(self, code: object) -> bool:
        return code in self._terms

    def __iter__(self) -> Iterator[Term]:
        return iter(self._terms.values())

    def get(self, code: str) -> Term | None:
        return self._terms.get(code)

    def roots(self) -> list[Term]:
        return [t for t in self._terms.values() if t.parent is None]

    def children(self, code: str) -> list[Term]:
        return [t for t in self._terms.values() if t.parent == code]

    def leaves(self) -> list[Term]:
        parents = {t.parent for t in self._terms.values()}
        return [t for t in self._terms.values() if t.code not in parents]

    def label(self, code: str | None, locale: str) -> str:
        term = self._terms.get(code) if code else None
        return term.label(locale) if term else (code or "")


def init_app(app: Flask) -> None:
    by_vocabulary: dict[str, list[Term]] = {}
    active = {"core", *(name for name, _module in plugin_manager(app).list_name_plugin())}
    for _plugin, terms in results_by_plugin(app, "register_terms"):
        for term in terms:
            # A term added to another plugin's vocabulary (a country's violation type) waits
            # for that plugin: without it there is nothing to extend.
            if term.vocabulary.split(".", 1)[0] in active:
                by_vocabulary.setdefault(term.vocabulary, []).append(term)
    app.extensions["rabita.vocabularies"] = {
        name: Vocabulary(name, terms) for name, terms in by_vocabulary.items()
    }


def vocabulary(name: str, app: Flask | None = None) -> Vocabulary:
    """The vocabulary ``name`` (empty if no active plugin declares terms for it)."""
    return (app or current_app).extensions["rabita.vocabularies"].get(name, Vocabulary(name, []))
