"""The record layer: sealed identifying values, versions, permissions, locked nodes."""

import pytest
from sqlalchemy import select, text

from core import keystore, records
from core.extensions import db
from core.keystore import IntegrityError, NodeLocked
from core.models import AuditEntry, User
from core.plugins import PluginError
from core.redaction import undeclared_fields
from core.testing import all_databases
from tests.conftest import TESTIMONY, load_testimony
from tests.fixtures.testimony.models import Testimony

pytestmark = all_databases


def audit_actions():
    return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()


def test_every_registered_record_type_declares_every_field(records_app):
    with records_app.app_context():
        for record_type in records.record_types():
            assert undeclared_fields(record_type.schema()) == [], record_type.name


def test_a_schema_field_without_a_class_stops_start_up(make_app, make_plugin):
    from marshmallow import Schema, fields

    class Sloppy(Schema):
        name = fields.String()

    plugin = make_plugin("sloppy", register_record_types=lambda: [
        records.RecordType("sloppy.note", Sloppy)])
    with pytest.raises(PluginError, match="without a sharing class: name"):
        make_app(PLUGINS=[plugin])


def test_a_never_field_in_a_plain_column_stops_start_up(make_app, make_plugin):
    from marshmallow import Schema, fields

    from core.redaction import NEVER_FIELD

    class Careless(Schema):
        title = fields.String(metadata=NEVER_FIELD)  # stored in a plain column below

    plugin = make_plugin("careless", register_record_types=lambda: [
        records.RecordType("careless.note", Careless, Testimony)])
    with pytest.raises(PluginError, match="not stored in a sealed column"):
        make_app(PLUGINS=[plugin])


def test_identifying_values_are_sealed_and_versions_rise(records_app, make_testimony, make_user):
    salma = make_user("salma", role="documenter")
    uuid = make_testimony(salma, teller_name="Salma Ben Ali")
    with records_app.app_context():
        testimony = load_testimony(records_app, uuid)
        assert b"Salma" not in testimony.teller_name
        assert testimony.version == 1 and testimony.author_id == salma.id
        assert records.identifying_value(testimony, testimony, "teller_name") == "Salma Ben Ali"
        testimony.title = "A new title"
        records.save(testimony, db.session.get(User, salma.id))
        assert load_testimony(records_app, uuid).version == 2
        assert audit_actions()[-1] == "record.saved"


def test_two_people_saving_the_same_version_is_refused(records_app, make_testimony):
    from sqlalchemy.orm.exc import StaleDataError

    uuid = make_testimony()
    with records_app.app_context():
        testimony = load_testimony(records_app, uuid)
        db.session.execute(text("UPDATE testimony_record SET version = version + 1"))
        testimony.title = "Edited meanwhile"
        with pytest.raises(StaleDataError):
            records.save(testimony, None)


def test_reading_identifying_data_needs_the_permission_and_is_audited(
        records_app, make_testimony, make_user):
    salma, amina = make_user("salma", role="documenter"), make_user("amina")
    uuid = make_testimony(salma, teller_name="Salma Ben Ali",
                          witnesses=[("I saw it", "Huda Trabelsi")])
    with records_app.test_request_context():
        testimony = load_testimony(records_app, uuid)
        revealed = records.reveal(testimony, db.session.get(User, salma.id))
        assert revealed["teller_name"] == "Salma Ben Ali"
        assert revealed["witnesses"][0]["name"] == "Huda Trabelsi"
        db.session.commit()
        assert audit_actions()[-1] == "record.identifying_viewed"
        from werkzeug.exceptions import Forbidden

        with pytest.raises(Forbidden):
            records.reveal(testimony, db.session.get(User, amina.id))
        assert audit_actions()[-1] == "access.denied"
        hidden = records.values(testimony, identifying=False)
        assert "teller_name" not in hidden and "name" not in hidden["witnesses"][0]


def test_a_locked_node_refuses_identifying_reads_and_writes(records_app, make_testimony):
    uuid = make_testimony(teller_name="Salma Ben Ali")
    with records_app.app_context():
        keystore.keystore().lock()
        testimony = load_testimony(records_app, uuid)
        with pytest.raises(NodeLocked):
            records.identifying_value(testimony, testimony, "teller_name")
        with pytest.raises(NodeLocked):
            records.new(Testimony, None)
        assert records.values(testimony, identifying=False)["title"]


def test_a_flipped_byte_gives_an_integrity_error(records_app, make_testimony):
    uuid = make_testimony(teller_name="Salma Ben Ali")
    with records_app.app_context():
        testimony = load_testimony(records_app, uuid)
        damaged = bytearray(testimony.teller_name)
        damaged[20] ^= 0x01
        db.session.execute(Testimony.__table__.update().values(teller_name=bytes(damaged)))
        db.session.commit()
        db.session.expire_all()
        with pytest.raises(IntegrityError):
            records.identifying_value(load_testimony(records_app, uuid), testimony, "teller_name")


def test_ciphertext_moved_to_another_record_or_field_fails(records_app, make_testimony):
    first = make_testimony(teller_name="Salma Ben Ali")
    second = make_testimony(teller_name="Huda Trabelsi", teller_phone="+216 20 123 456")
    with records_app.app_context():
        a, b = load_testimony(records_app, first), load_testimony(records_app, second)
        b.teller_name = a.teller_name  # copied across records
        b.teller_address = b.teller_phone  # moved across fields
        with pytest.raises(IntegrityError):
            records.identifying_value(b, b, "teller_name")
        with pytest.raises(IntegrityError):
            records.identifying_value(b, b, "teller_address")


def test_finding_a_defender_by_name_without_decrypting(records_app, make_testimony, make_user):
    salma = make_user("salma", role="documenter")
    uuid = make_testimony(salma, teller_name="سلمى بن علي")
    make_testimony(salma, teller_name="Huda Trabelsi")
    with records_app.test_request_context():
        user = db.session.get(User, salma.id)
        found = records.find_by_identifying(Testimony, "teller_name", "سَلمي بن علي", user)
        assert [t.uuid for t in found] == [uuid]
        assert audit_actions()[-1] == "record.identifying_searched"


def test_key_rotation_rewraps_every_record(records_app, make_testimony):
    from core.testing import TEST_PASSPHRASE

    uuid = make_testimony(teller_name="Salma Ben Ali")
    with records_app.app_context():
        store = keystore.keystore()
        old = load_testimony(records_app, uuid).data_key
        store.begin_rotation(TEST_PASSPHRASE)
        assert records.rewrap_all() == 1
        db.session.commit()
        store.finish_rotation(TEST_PASSPHRASE)
        db.session.expire_all()
        testimony = load_testimony(records_app, uuid)
        assert testimony.data_key != old and testimony.version == 1
        assert records.identifying_value(testimony, testimony, "teller_name") == "Salma Ben Ali"


def test_an_unknown_or_forged_id_is_a_404(records_app, make_user):
    from werkzeug.exceptions import NotFound

    admin = make_user("amal", role="admin")
    with records_app.test_request_context():
        user = db.session.get(User, admin.id)
        for record_type, uuid in [("testimony.testimony", "x" * 36), ("nope.nope", "x" * 36),
                                  ("testimony.testimony", "1 OR 1=1"),
                                  ("testimony.testimony", "\x00" * 36),
                                  ("testimony.testimony", "{" + "0" * 34 + "}")]:
            with pytest.raises(NotFound):
                records.find(record_type, uuid, user)


def test_the_test_plugin_is_a_real_plugin(records_app):
    from core.plugins import plugin_manager

    assert plugin_manager(records_app).has_plugin(TESTIMONY.rsplit(".", 1)[1])
