"""Exports to CSV and JSON: the open fields for everyone allowed to export; identifying
columns only for roles that may see them, only when asked for, and always audited."""

from __future__ import annotations

import csv
import io
import json

from flask import Response, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit, keystore, records
from core.extensions import db

from . import store
from .models import Case

FORMATS = ("csv", "json")
OPEN_COLUMNS = [
    "reference", "id", "title", "status", "risk", "created", "updated", "pseudonym", "gender",
    "age", "residence", "activism", "violations", "perpetrator_types", "incidents",
    "first_incident", "last_incident",
]
IDENTIFYING_COLUMNS = ["real_name", "contacts", "address", "organisation"]
BATCH = 500
# A spreadsheet treats a cell starting with one of these as a formula: never let it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def response(fmt: str, user, filters: store.Filters, identifying: bool) -> Response:
    # Locked: the 503 page, before anything is sent. Even without identifying columns an
    # export needs the key: open texts are scrubbed of the case's identifying values.
    keystore.keystore().keyring()
    query = store.query(user, filters).options(selectinload(Case.defender),
                                               selectinload(Case.incidents))
    count = db.session.scalar(select(db.func.count()).select_from(query.subquery()))
    audit.record("cases.exported", actor=user, target_type="cases.case", format=fmt,
                 records=count, identifying=identifying)
    db.session.commit()
    rows = _rows(query, identifying)
    if fmt == "csv":
        body, mimetype = _csv(rows, identifying), "text/csv; charset=utf-8"
    else:
        body, mimetype = _json(query, identifying), "application/json"
    result = Response(stream_with_context(body), mimetype=mimetype)
    result.headers["Content-Disposition"] = f"attachment; filename=cases.{fmt}"
    return result


def _rows(query, identifying: bool):
    for case in db.session.scalars(query.execution_options(yield_per=BATCH)):
        yield row(case, identifying)


def row(case: Case, identifying: bool) -> dict:
    defender = case.defender
    shown = (lambda text: text) if identifying else records.scrubbing(case)
    out = {
        "reference": case.reference, "id": case.uuid, "title": shown(case.title),
        "status": case.status, "risk": case.risk,
        "created": case.created_at.date().isoformat(), "updated": case.updated_at.isoformat(),
        "pseudonym": shown(defender.pseudonym) if defender else "",
        "gender": (defender.gender or "") if defender else "",
        "age": defender.age if defender and defender.age is not None else "",
        "residence": (defender.residence or "") if defender else "",
        "activism": " ".join(defender.activism or []) if defender else "",
        "violations": " ".join(sorted({i.violation for i in case.incidents})),
        "perpetrator_types": " ".join(sorted({i.perpetrator_type for i in case.incidents
                                              if i.perpetrator_type})),
        "incidents": len(case.incidents),
        "first_incident": case.first_incident_on.isoformat() if case.first_incident_on else "",
        "last_incident": case.last_incident_on.isoformat() if case.last_incident_on else "",
    }
    if identifying:
        for name in IDENTIFYING_COLUMNS:
            value = records.identifying_value(case, defender, name) if defender else None
            out[name] = value or ""
    return out


def _csv(rows, identifying: bool):
    columns = OPEN_COLUMNS + (IDENTIFYING_COLUMNS if identifying else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    buffer.write("\ufeff")  # so spreadsheets read Arabic as UTF-8
    writer.writeheader()
    for item in rows:
        writer.writerow({key: _safe_cell(value) for key, value in item.items()})
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(query, identifying: bool):
    yield "["
    first = True
    for case in db.session.scalars(query.execution_options(yield_per=BATCH)):
        values = records.values(case, identifying=identifying)
        if not identifying:
            values = _scrubbed(values, records.scrubbing(case))
        values.update({"reference": case.reference, "id": case.uuid})
        yield ("" if first else ",\n") + json.dumps(values, ensure_ascii=False, default=str)
        first = False
    yield "]\n"


def _scrubbed(value, scrub):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(item, scrub) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, scrub) for key, item in value.items()}
    return value


def _safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
