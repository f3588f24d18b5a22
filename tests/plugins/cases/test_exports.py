"""Cases exports through core.exports: the schema's open fields for everyone allowed,
identifying ones only when asked and allowed; cells that a spreadsheet would run as formulas
are defused; every export is audited. (tests/core/test_exports.py walks every record type.)"""

import csv
import html
import io
import json
import re

from sqlalchemy import select

from core.extensions import db
from core.models import AuditEntry
from tests.plugins.cases.conftest import case_form


def rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def last_audit(app):
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        return entry.action, json.loads(entry.details)


def test_csv_with_and_without_identifying_columns(app, people, login_as):
    client = login_as(people["salma"])
    client.submit("/cases/new", case_form(title="=HYPERLINK(\"http://evil\")"))
    plain = rows(client.get("/cases/export.csv"))
    assert len(plain) == 1 and plain[0]["defender.pseudonym"] == "Olive"
    assert not any("real_name" in column for column in plain[0])
    assert plain[0]["title"].startswith("'=")  # defused
    assert plain[0]["reference"].startswith("C-") and len(plain[0]["reference"]) == 11
    # exact age and residence leave only coarsened; codes come with their labels
    assert plain[0]["defender.age"] == "30-44"
    assert plain[0]["defender.residence"] == "TN-61"
    assert plain[0]["incidents.1.violation"] == "judicial-harassment"
    assert plain[0]["incidents.1.violation.label"] == "Judicial harassment"
    assert plain[0]["status.label"] == "Open"
    assert "incidents.2.violation" not in plain[0]
    assert last_audit(app) == ("record.exported", {
        "format": "csv", "audience": "internal", "records": 1})
    full = rows(client.get("/cases/export.csv?identifying=1"))
    assert full[0]["defender.real_name"] == "Salma Ben Ali"
    assert full[0]["defender.contacts"] == "'+216 20 123 456"  # a leading + is defused too
    assert full[0]["defender.age"] == "34"
    assert last_audit(app)[1]["audience"] == "internal-identifying"


def test_a_member_cannot_have_the_identifying_export(app, people, login_as):
    login_as(people["salma"]).submit("/cases/new", case_form())
    member = login_as(people["amina"])
    for fmt in ("csv", "json"):
        answer = member.get(f"/cases/export.{fmt}?identifying=1")
        assert answer.status_code == 403
        assert "Salma" not in answer.get_data(as_text=True)
    assert last_audit(app)[0] != "record.exported"


def test_json_export_follows_the_schema_and_scrubs_for_members(app, people, login_as):
    login_as(people["salma"]).submit("/cases/new", case_form())
    member = json.loads(login_as(people["amina"]).get("/cases/export.json").get_data(as_text=True))
    assert member[0]["defender"]["pseudonym"] == "Olive"
    assert "real_name" not in member[0]["defender"]
    assert "Salma" not in json.dumps(member)
    assert "[redacted]" in member[0]["incidents"][0]["narrative"]
    full = json.loads(login_as(people["huda"]).get("/cases/export.json?identifying=1")
                      .get_data(as_text=True))
    assert full[0]["defender"]["real_name"] == "Salma Ben Ali"


def test_exports_follow_the_filters(app, people, login_as, make_cases):
    make_cases(30, seed=4)
    client = login_as(people["huda"])
    everything = rows(client.get("/cases/export.csv"))
    open_only = rows(client.get("/cases/export.csv?status=open"))
    assert 0 < len(open_only) < len(everything) == 30
    assert {row["status"] for row in open_only} == {"open"}


def test_an_unknown_format_is_not_found(people, login_as):
    assert login_as(people["huda"]).get("/cases/export.xlsx").status_code == 404


def test_an_export_is_offered_as_a_download_with_its_name(people, login_as):
    from urllib.parse import unquote

    client = login_as(people["huda"])
    for fmt in ("csv", "json"):
        header = client.get(f"/cases/export.{fmt}").headers["Content-Disposition"]
        assert header.startswith("attachment; filename*=UTF-8''")
        assert unquote(header.split("''", 1)[1]) == f"cases-case.{fmt}"


def test_the_list_links_the_identifying_export_only_for_those_allowed(app, people, login_as):
    login_as(people["salma"]).submit("/cases/new", case_form())
    assert "identifying=1" not in login_as(people["amina"]).get("/cases/").get_data(as_text=True)
    page = login_as(people["huda"]).get("/cases/?status=open").get_data(as_text=True)
    link = re.search(r'href="(/cases/export\.csv\?[^"]*identifying=1[^"]*)"', page).group(1)
    assert "status=open" in link
    full = rows(login_as(people["huda"]).get(html.unescape(link)))
    assert full[0]["defender.real_name"] == "Salma Ben Ali"


def test_a_csv_with_headings_in_her_language(app, people, login_as, make_user):
    """Asked for, the first line names each column in her language (a heading for people);
    the cells are those of the machine file, its codes and their labels side by side."""
    client = login_as(make_user("hind", role="documenter", locale="fr"))
    client.submit("/cases/new", case_form())
    machine = client.get("/cases/export.csv").get_data(as_text=True).lstrip("\ufeff")
    words = client.get("/cases/export.csv?headings=words").get_data(as_text=True).lstrip("\ufeff")
    machine_lines, word_lines = machine.splitlines(), words.splitlines()
    assert machine_lines[1:] == word_lines[1:]  # the same cells
    headings = next(csv.reader([word_lines[0]]))
    paths = next(csv.reader([machine_lines[0]]))
    assert len(headings) == len(paths) and "incidents.1.violation" in paths
    assert not any(re.fullmatch(r"[a-z_.0-9]+", heading) for heading in headings), headings
    at = paths.index("incidents.1.violation")
    assert headings[at].startswith("Incidents 1 › ") or " 1 › " in headings[at]
    assert headings[at + 1].startswith(headings[at])  # its label column: the same, in words
    page = client.get("/cases/").get_data(as_text=True)
    assert "headings=words" in html.unescape(page)
