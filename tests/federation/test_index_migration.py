"""Migration federation_0009 with data: the words and facets of the shared-records index move
onto the held records' rows (and back, going down), for every held record that had them."""

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from core.extensions import db
from core.testing import all_databases

pytestmark = all_databases

HELD = ("INSERT INTO federation_record (origin, record_id, record_type, version, feed, seq) "
        "VALUES (:origin, :record_id, 'cases.case', 1, 'hub', :seq)")
INDEXED = ("INSERT INTO federation_shared_index (origin, record_id, words, facets) "
           "VALUES (:origin, :record_id, :words, :facets)")
# Two origins share a record id: the move matches on both.
ROWS = [("a" * 32, "r1", " سلمي gabes ", " country=TN "), ("b" * 32, "r1", " sfax ", " "),
        ("a" * 32, "r2", None, None)]  # r2 of a: held, tombstoned, no index row


@pytest.fixture
def app(make_app):
    """A node whose tables are made by the migrations, as a deployed node's are."""
    app = make_app(create_tables=False, PLUGINS=["federation"])
    with app.app_context():
        flask_migrate.upgrade(revision="federation_0008")
        for seq, (origin, record_id, words, facets) in enumerate(ROWS, start=1):
            db.session.execute(text(HELD), {"origin": origin, "record_id": record_id,
                                            "seq": seq})
            if words is not None:
                db.session.execute(text(INDEXED), {"origin": origin, "record_id": record_id,
                                                   "words": words, "facets": facets})
        db.session.commit()
    return app


@pytest.mark.slow
def test_the_index_moves_onto_the_held_rows_and_back(app):
    with app.app_context():
        flask_migrate.upgrade(revision="federation_0009")
        moved = db.session.execute(text(
            "SELECT origin, record_id, words, facets FROM federation_record "
            "ORDER BY origin, record_id")).all()
        assert sorted(moved) == sorted(ROWS)
        assert "federation_shared_index" not in inspect(db.engine).get_table_names()
        db.session.rollback()  # its read ends: the migration alters the table

        flask_migrate.downgrade(revision="federation_0008")
        back = db.session.execute(text(
            "SELECT origin, record_id, words, facets FROM federation_shared_index")).all()
        assert sorted(back) == sorted(row for row in ROWS if row[2] is not None)
        columns = {c["name"] for c in inspect(db.engine).get_columns("federation_record")}
        assert not columns & {"words", "facets"}
