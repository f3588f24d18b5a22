"""Is she already here? After a new case is saved, the documenter is told when a defender
with the same real name (the blind index: an exact match after folding, nothing decrypted)
already has a case she may open — so one woman does not become two cases unnoticed."""

from __future__ import annotations

from flask import flash
from flask_babel import ngettext

from core import records
from core.permissions import VIEW_IDENTIFYING

from .models import Case, Defender


def same_name(case: Case, real_name: str | None, user) -> list[Case]:
    """The other cases whose defender has ``real_name`` that ``user`` may open (audited as an
    identifying search; nobody without the right to see names is told anything)."""
    if not real_name or not real_name.strip() or not user.can(VIEW_IDENTIFYING):
        return []
    defenders = records.find_by_identifying(Defender, "real_name", real_name, user,
                                            record_type=Case.__record_type__)
    return [d.case for d in defenders
            if d.case is not None and d.case.id != case.id and records.may_open(d.case, user)]


def warn(case: Case, real_name: str | None, user) -> None:
    """Flash the references of the other cases of a defender of the same name, if any."""
    found = same_name(case, real_name, user)
    if found:
        flash(ngettext(
            "A defender with the same name already has a case: %(references)s. Open it to see "
            "whether she is the same woman.",
            "A defender with the same name already has cases: %(references)s. Open them to see "
            "whether she is the same woman.",
            len(found), references=", ".join(c.reference for c in found)), "info")
