"""Open texts sealed at rest: how a record type declares it, checked at start-up."""

import pytest
from marshmallow import Schema, fields

from core import records
from core.plugins import PluginError
from core.redaction import OPEN_CODE_FIELD, OPEN_FIELD
from core.testing import all_databases
from tests.fixtures.testimony.models import Testimony


def plugin_with(make_plugin, name: str, schema: type[Schema]):
    return make_plugin(name, register_record_types=lambda: [
        records.RecordType(f"{name}.note", schema, Testimony)])


def test_an_open_text_without_its_sealed_column_stops_start_up(make_app, make_plugin):
    class Forgetful(Schema):
        title = fields.String(metadata=OPEN_FIELD)  # sealed by default: no title_original

    with pytest.raises(PluginError, match="declare title_original = core.records"):
        make_app(PLUGINS=[plugin_with(make_plugin, "forgetful", Forgetful)])


def test_a_list_of_free_words_is_an_open_text_too(make_app, make_plugin):
    class Tagged(Schema):
        tags = fields.List(fields.String(), metadata=OPEN_FIELD)

    with pytest.raises(PluginError, match="open text 'tags' is sealed at rest"):
        make_app(PLUGINS=[plugin_with(make_plugin, "tagged", Tagged)])


@pytest.mark.parametrize("at_rest", ["plain", "Clear", "", None])
def test_an_unknown_way_to_keep_a_text_stops_start_up(make_app, make_plugin, at_rest):
    class Odd(Schema):
        title = fields.String(metadata={**OPEN_FIELD, "at_rest": at_rest})

    with pytest.raises(PluginError, match="use 'sealed' \\(the default\\) or 'clear'"):
        make_app(PLUGINS=[plugin_with(make_plugin, "odd", Odd)])


def test_codes_and_texts_declared_clear_need_no_sealed_column(make_app, make_plugin):
    class Plain(Schema):
        uuid = fields.String(metadata=OPEN_CODE_FIELD)
        title = fields.String(metadata={**OPEN_FIELD, "at_rest": "clear"})

    app = make_app(PLUGINS=[plugin_with(make_plugin, "plain", Plain)])
    assert "plain.note" in records.record_types(app)


def test_every_open_text_of_a_case_is_sealed_at_rest(make_app):
    from plugins.cases.models import Case, Defender, Incident
    from plugins.cases.schemas import CaseSchema, DefenderSchema, IncidentSchema

    make_app(PLUGINS=["plugins.cases"])
    texts = {(schema, name) for schema in (CaseSchema, DefenderSchema, IncidentSchema)
             for name, field in schema().fields.items() if records.is_open_text(field)}
    assert texts == {(CaseSchema, "title"), (CaseSchema, "summary"),
                     (DefenderSchema, "pseudonym"), (IncidentSchema, "narrative")}
    for model, name in ((Case, "title"), (Case, "summary"), (Defender, "pseudonym"),
                        (Incident, "narrative")):
        assert model.__table__.columns[f"{name}_original"].info.get(records.SEALED)


def test_an_assigned_text_never_reaches_its_column_as_written(make_app):
    """Assigned, a text waits in memory: a flush before the save writes an empty column;
    the save seals it and writes its scrubbed form."""
    from sqlalchemy import text

    from core.extensions import db
    from plugins.cases import store
    from plugins.cases.models import Case, Defender

    app = make_app(PLUGINS=["plugins.cases", "plugins.country_tn"], unlocked=True)
    with app.test_request_context():
        case = records.new(Case, None)
        case.title = "Summons"
        case.defender = Defender(pseudonym="Olive")
        records.set_identifying(case, case.defender, "real_name", "Warda Zitouni")
        case.summary = "Warda Zitouni was summoned; write to warda@example.org."
        db.session.add(case)
        db.session.flush()  # as an autoflush would, before the save
        column = "SELECT summary, summary_original FROM cases_case"
        assert tuple(db.session.execute(text(column)).one()) == ("", None)
        assert case.summary == ""  # the attribute holds the column: nothing written yet
        store.save(case, None)
        clear, sealed = db.session.execute(text(column)).one()
        assert clear == "[redacted] was summoned; write to [redacted]."
        assert b"Zitouni" not in sealed and b"warda" not in sealed.lower()
        assert records.values(case, identifying=True)["summary"] == \
            "Warda Zitouni was summoned; write to warda@example.org."
        assert records.values(case, identifying=False)["summary"] == clear
        # a name recorded later is scrubbed from the texts written before it, at the save
        records.set_identifying(case, case.defender, "contacts", "Olive")
        store.save(case, None)
        assert db.session.execute(text("SELECT pseudonym FROM cases_defender")).scalar() == \
            "[redacted]"


@all_databases
def test_an_exact_date_or_age_quoted_in_a_text_is_kept_in_clear_only_coarsened(make_app):
    """The clear form of an open text is coarsened like an outgoing payload: the incident's
    exact date and the defender's age, quoted in a narrative or a summary in French or
    Arabic (Levantine month name, Arabic-Indic digits), leave the day and the age out of
    the column; a reader with the permission still reads every text as written."""
    from datetime import date

    from sqlalchemy import select, text

    from core import users
    from core.extensions import db
    from plugins.cases import store
    from plugins.cases.models import Case, Defender, Incident

    app = make_app(PLUGINS=["plugins.cases", "plugins.country_tn"], unlocked=True)
    narrative = ("Convoquée le 14 novembre 2024 ; أُوقفت يوم ١٤ تشرين الثاني وأفرج عنها "
                 "في 15 novembre.")
    summary = "Militante, âgée de 34 ans, convoquée le 14/11/2024."
    with app.test_request_context():
        case = records.new(Case, None)
        case.title = "Convocation"
        case.summary = summary
        case.defender = Defender(pseudonym="Olive", age=34)
        records.set_identifying(case, case.defender, "real_name", "Warda Zitouni")
        case.incidents.append(Incident(occurred_on=date(2024, 11, 14), place="TN-61",
                                       violation="judicial-harassment", narrative=narrative))
        store.save(case, None)
        uuid = case.uuid

    with app.test_request_context():
        stored_narrative = db.session.execute(text("SELECT narrative FROM cases_incident")).scalar()
        stored_summary = db.session.execute(text("SELECT summary FROM cases_case")).scalar()
        assert stored_narrative == ("Convoquée le [redacted] novembre 2024 ; أُوقفت يوم [redacted] "
                                    "تشرين الثاني وأفرج عنها في 15 novembre.")
        assert stored_summary == "Militante, âgée de [redacted] ans, convoquée le [redacted]."
        for written in (stored_narrative, stored_summary):
            assert "14" not in written and "١٤" not in written and "34" not in written
        # as the texts leave: coarsened the same way
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        payload = records.redaction(case, "peers").payload
        assert payload["incidents"][0]["narrative"] == stored_narrative
        assert payload["incidents"][0]["occurred_on"] == "2024-11"

        documenter = users.create("salma", "a long enough passphrase", "documenter")
        member = users.create("amina", "a long enough passphrase", "member")
        db.session.flush()
        as_written = records.texts_for(case, documenter)
        assert as_written(case.incidents[0], "narrative") == narrative
        assert as_written(case, "summary") == summary
        assert records.values(case, identifying=True)["incidents"][0]["narrative"] == narrative
        shown = records.texts_for(case, member)
        assert shown(case.incidents[0], "narrative") == stored_narrative
        assert records.values(case, identifying=False)["summary"] == stored_summary
