"""Finding a defender by part of her name: each word of her real name is kept as a keyed hash
(the node's blind-index key, ``core.keystore.blind_index``) in ``cases_name_word``, so "Ben
Ali" or "سلمى" finds "Salma Ben Ali" / "سلمى بن علي" without the name being stored,
decrypted or compared in clear. Whole words only, after folding (case, accents, hamza and
alef forms…): a hash cannot match a part of a word.

What a copy of the database shows: which defenders share a name word (the same hash), never
the word. The words are written as cases are saved; ``rabita cases index-names`` writes them
for cases saved before (it decrypts each name, on the unlocked node).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select

from core import audit, keystore, records
from core.access import deny
from core.extensions import db
from core.permissions import VIEW_IDENTIFYING
from core.text import fold

from .models import Case, Defender, NameWord

PURPOSE = "cases.case.defender.real_name.word"
WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8


def words_of(name: str | None) -> list[str]:
    """The distinct folded words of a name, in order (at most MAX_WORDS)."""
    found = []
    for word in WORD.findall(fold(name or "")):
        if word not in found:
            found.append(word)
    return found[:MAX_WORDS]


def index(defender: Defender | None, real_name: str | None) -> None:
    """Write the hashes of the words of ``real_name`` for ``defender`` (replacing any), in the
    current transaction; the defender has its id (the case was saved)."""
    if defender is None or defender.id is None:
        return
    db.session.execute(delete(NameWord).where(NameWord.defender_id == defender.id))
    for word in words_of(real_name):
        db.session.add(NameWord(defender_id=defender.id,
                                word_index=keystore.blind_index(PURPOSE, word)))


def find(name: str, user) -> list[Case]:
    """The cases ``user`` may open whose defender's real name holds every word of ``name``
    (permission to see identifying values needed; audited with how many were found)."""
    if not user.can(VIEW_IDENTIFYING):
        deny(VIEW_IDENTIFYING)
    digests = {keystore.blind_index(PURPOSE, word) for word in words_of(name)}
    found = []
    if digests:
        defenders = (select(NameWord.defender_id).where(NameWord.word_index.in_(digests))
                     .group_by(NameWord.defender_id)
                     .having(func.count(func.distinct(NameWord.word_index)) == len(digests)))
        cases = db.session.scalars(select(Case).join(Defender, Defender.case_id == Case.id)
                                   .where(Defender.id.in_(defenders)).order_by(Case.id.desc()))
        found = [case for case in cases if records.may_open(case, user)]
    audit.record("record.identifying_searched", actor=user, target_type=Case.__record_type__,
                 found=len(found))
    return found


def index_all() -> int:
    """Write the name words of every case (those saved before the index existed); decrypts
    each real name, so the node must be unlocked. Returns how many defenders were indexed."""
    count = 0
    for case in db.session.scalars(select(Case).join(Defender, Defender.case_id == Case.id)):
        name = records.values(case, identifying=True).get("defender", {}).get("real_name")
        index(case.defender, name)
        count += 1
    return count
