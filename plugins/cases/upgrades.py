"""How stored cases reach each version of ``cases.case`` (``core.records.Change``): what a
version changed, and the upgrade that brings an existing case up to it.

Version 2 added each incident's legal basis invoked. A case written before it may already
name the law in its narrative ("arrêtée en vertu du décret-loi 2022-54", "بموجب القانون رقم
149 لسنة 2019"): the upgrade proposes those laws of the ``core.laws`` vocabulary whose
number and year the narrative, as written, cites together. The case then has a new version
no known person wrote, so a documenter checks and saves it before a reviewer can approve its
new payload; a case whose narrative cites no known law is not touched, and keeps its
approvals.
"""

from __future__ import annotations

import re

from core import records
from core.countries import LAWS
from core.records import Change
from core.text import western_digits
from core.vocabularies import vocabulary

NUMBERED = re.compile(r"-(\d{1,4})-(\d{1,4})$")  # a law's code ends with its number and year

LEGAL_BASIS = Change(
    2, added=("incidents.legal_basis",), upgrade=lambda case: propose_legal_basis(case),
    note="each incident's legal basis invoked: laws of core.laws its narrative cites",
)
CHANGES = (LEGAL_BASIS,)


def propose_legal_basis(case) -> bool:
    """Give each incident with no legal basis the laws its narrative cites; True if any."""
    citations = _citations()
    changed = False
    for incident in case.incidents:
        if incident.legal_basis:
            continue
        text = western_digits(records.original_text(case, incident, "narrative") or "")
        found = [code for code, pattern in citations if pattern.search(text)]
        if found:
            incident.legal_basis = found
            changed = True
    return changed


def _citations() -> list[tuple[str, re.Pattern]]:
    """(code, how a text cites it) for each law whose code ends with its number and year."""
    cited = []
    for term in vocabulary(LAWS).leaves():
        match = NUMBERED.search(term.code)
        if match is None:
            continue
        first, second = match.groups()
        year, number = (first, second) if len(first) == 4 else (second, first)
        cited.append((term.code, _pattern(number, year)))
    return cited


def _pattern(number: str, year: str) -> re.Pattern:
    """``54/2022``, ``2022-54``, ``54 of 2022``, ``n° 54 de 2022``, ``54 لسنة 2022``."""
    between = r"\s*(?:/|of|de|لسنة|لعام|سنة)\s*"
    return re.compile(rf"(?<!\d){number}{between}{year}(?!\d)|(?<!\d){year}\s*-\s*{number}(?!\d)")
