"""Exports of cases to CSV and JSON: the list's filters choose the cases, core.exports makes
the file from the record schema (no column here is picked by hand)."""

from __future__ import annotations

from flask import Response
from sqlalchemy.orm import selectinload

from core import exports, records

from . import store
from .models import Case

FORMATS = exports.FORMATS


def response(fmt: str, user, filters: store.Filters, identifying: bool,
             headings_in_words: bool = False) -> Response:
    """The cases ``user`` may see that the filters keep, as a file; with identifying fields
    only when asked (core refuses that to people who may not see them); a CSV's headings
    in her language when asked."""
    # The defender is loaded with the case: need-to-know and the list columns read it.
    query = store.query(user, filters).options(selectinload(Case.defender))
    return exports.response(records.record_types().get(Case.__record_type__), query, fmt,
                            exports.audience_for(identifying), user,
                            headings_in_words=headings_in_words)
