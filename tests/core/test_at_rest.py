"""Encryption at rest: after 1,000 records with canaries in every identifying field, the
database file, its WAL and a dump hold 0 canaries — on SQLite and on PostgreSQL."""

import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from core import records
from core.extensions import db
from core.testing import all_databases, missing
from tests.conftest import TESTIMONY

RECORDS = 1000
ARABIC_DIGITS = "ابتثجحخدذر"


def canaries_for(number: int) -> dict:
    arabic = "".join(ARABIC_DIGITS[int(d)] for d in f"{number:04d}")
    return {
        "teller_name": f"Qzxcanary{number:04d} سلمى{arabic}",
        "teller_phone": f"+216 9{number:07d}",
        "teller_address": f"{number} Rue Canaryvx, صفاقس{arabic}",
        "private_notes": f"notecanary{number:04d}",
        "witness": f"Witnesscanary{number:04d}",
    }


def write_records(app):
    from tests.fixtures.testimony.models import Testimony, Witness

    with app.app_context():
        for number in range(RECORDS):
            values = canaries_for(number)
            record = records.new(Testimony, None)
            record.title, record.narrative = "A summons", "Summoned to the station."
            record.happened_on, record.place = date(2025, 3, 14), "TN-61"
            for field in ("teller_name", "teller_phone", "teller_address", "private_notes"):
                records.set_identifying(record, record, field, values[field])
            witness = Witness(statement="I saw it.")
            record.witnesses.append(witness)
            records.set_identifying(record, witness, "name", values["witness"])
            records.save(record, None)


# Every canary carries one of these markers, so finding none of them finds no canary.
MARKERS = ["canary", "سلمى", "صفاقس", "+216 9"]


def assert_no_canary(blob: bytes):
    lowered = blob.lower()
    for marker in MARKERS:
        assert marker.encode() not in lowered, f"canary marker {marker!r} found at rest"
    for value in canaries_for(RECORDS - 1).values():
        assert value.encode() not in blob, f"canary {value!r} found at rest"


def test_the_canary_check_can_fail():
    with pytest.raises(AssertionError, match="found at rest"):
        assert_no_canary(f"x{canaries_for(7)['teller_phone']}x".encode())


@pytest.mark.slow
@all_databases
def test_no_identifying_value_at_rest(make_app, db_backend, database_url, tmp_path):
    app = make_app(PLUGINS=[TESTIMONY, "plugins.country_tn"], unlocked=True)
    write_records(app)
    if db_backend == "sqlite":
        path = Path(urlsplit(database_url).path)
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()  # written in WAL mode; checked before any checkpoint
        assert_no_canary(path.read_bytes())
        assert_no_canary(wal.read_bytes())
        connection = sqlite3.connect(path)
        dump = "\n".join(connection.iterdump()).encode()
        connection.close()
        assert b"testimony_record" in dump and len(dump) > RECORDS * 100
        assert_no_canary(dump)
    else:
        if shutil.which("pg_dump") is None:
            missing("pg_dump is not installed (apt-get install postgresql-client)")
        parts = urlsplit(database_url)
        schema = parse_qs(parts.query)["options"][0].split("=", 1)[1]
        server = parts._replace(scheme="postgresql", query="").geturl()
        dump = subprocess.run(["pg_dump", "--schema", schema, server], capture_output=True,
                              check=True).stdout
        assert b"testimony_record" in dump and len(dump) > RECORDS * 100
        assert_no_canary(dump)
    with app.app_context():
        from sqlalchemy import func, select

        from tests.fixtures.testimony.models import Testimony

        assert db.session.scalar(select(func.count()).select_from(Testimony)) == RECORDS
        sample = db.session.scalar(select(Testimony).order_by(Testimony.id).limit(1))
        assert records.identifying_value(sample, sample, "teller_name") == \
            canaries_for(0)["teller_name"]
