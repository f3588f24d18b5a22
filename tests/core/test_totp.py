"""Second-factor codes: the right window, and each accepted once."""

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from core import clock, totp
from core.extensions import db
from core.models import User
from core.testing import all_databases


def test_codes_match_within_one_step_of_drift(fake_clock):
    secret = totp.new_secret()
    now = clock.now()
    code_then = pyotp.TOTP(secret).at(now.timestamp() - 30)
    code_soon = pyotp.TOTP(secret).at(now.timestamp() + 30)
    assert totp.matching_step(secret, code_then) is not None
    assert totp.matching_step(secret, code_soon) is not None
    assert totp.matching_step(secret, pyotp.TOTP(secret).at(now.timestamp() - 120)) is None


def test_malformed_codes_never_match():
    secret = totp.new_secret()
    for code in ["", "12345", "1234567", "abcdef", "12 34 5x"]:
        assert totp.matching_step(secret, code) is None


def test_check_once_refuses_a_replay(app_context, make_user):
    user = db.session.get(User, make_user("salma", role="documenter").id)
    code = pyotp.TOTP(user.totp_secret).now()
    assert totp.check_once(user, code)
    assert not totp.check_once(user, code)


def test_the_qr_code_is_inline_svg():
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "salma", "Tunis node"))
    assert svg.startswith("<svg") and "http" not in svg.split(">", 1)[1]


@all_databases
def test_second_factor_secrets_are_stored_sealed_under_the_instance_secret(app, make_user):
    from sqlalchemy import text

    user = make_user("salma", role="documenter")
    with app.app_context():
        stored = db.session.execute(text("SELECT totp_secret FROM core_user WHERE id = :id"),
                                    {"id": user.id}).scalar()
        assert stored != user.totp_secret and user.totp_secret.upper() not in stored.upper()
        assert len(stored) == 64
        assert db.session.get(User, user.id).totp_secret == user.totp_secret  # opens
    assert check_once_as(app, user, user.totp.now())


def check_once_as(app, user, code):
    with app.app_context():
        return totp.check_once(db.session.get(User, user.id), code)


def test_a_sealed_secret_does_not_open_under_another_instance_secret_or_altered(app,
                                                                               make_user):
    from sqlalchemy import text

    from core.instance_seal import InstanceSealBroken

    user = make_user("salma", role="documenter")
    with app.app_context():
        stored = db.session.execute(text("SELECT totp_secret FROM core_user")).scalar()
        app.config["SECRET_KEY"], original = "another secret key " * 3, app.config["SECRET_KEY"]
        with pytest.raises(InstanceSealBroken):
            db.session.scalar(select(User.totp_secret))
        app.config["SECRET_KEY"] = original
        altered = stored[:-3] + ("AAA" if stored[-3:] != "AAA" else "BBB")
        db.session.execute(text("UPDATE core_user SET totp_secret = :s"), {"s": altered})
        with pytest.raises(InstanceSealBroken):
            db.session.scalar(select(User.totp_secret))
        db.session.rollback()
        assert db.session.scalar(select(User.totp_secret)) == user.totp_secret


def test_a_secret_that_is_not_base32_is_refused_before_it_is_stored(app_context, make_user):
    user = db.session.get(User, make_user("salma").id)
    user.totp_secret = "not base32 at all!"
    with pytest.raises(StatementError, match="base32"):
        db.session.flush()


# -- the secret being enrolled ------------------------------------------------------------


def encodings_of_a_base32_secret(secret: str) -> list[bytes]:
    """How the secret being enrolled could sit in a file: its base32 text (as shown, grouped,
    lower case), the raw key and the raw key as hex and standard base64."""
    import base64

    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return [secret.encode(), secret.lower().encode(), grouped.encode(), raw,
            raw.hex().encode(), base64.b64encode(raw).rstrip(b"=")]


def stored_bytes(db_backend, database_url) -> bytes:
    """Everything the database keeps: the SQLite file and its WAL, or a pg_dump."""
    import shutil
    import subprocess
    from pathlib import Path
    from urllib.parse import parse_qs, urlsplit

    from core.testing import missing

    if db_backend == "sqlite":
        path = Path(urlsplit(database_url).path)
        wal = path.with_name(path.name + "-wal")  # rows written since the last checkpoint
        return b"".join(part.read_bytes() for part in (path, wal) if part.exists())
    if shutil.which("pg_dump") is None:
        missing("pg_dump is not installed (apt-get install postgresql-client)")
    parts = urlsplit(database_url)
    schema = parse_qs(parts.query)["options"][0].split("=", 1)[1]
    server = parts._replace(scheme="postgresql", query="").geturl()
    return subprocess.run(["pg_dump", "--data-only", "--schema", schema, server],
                          capture_output=True, check=True).stdout


def found_at_rest(secret: str, at_rest: bytes) -> list[bytes]:
    return [encoding for encoding in encodings_of_a_base32_secret(secret) if encoding in at_rest]


def test_the_at_rest_search_finds_a_secret_left_in_clear():
    secret = totp.new_secret()
    for encoding in encodings_of_a_base32_secret(secret):
        assert found_at_rest(secret, b"row:" + encoding + b";") == [encoding]


@all_databases
def test_the_secret_being_enrolled_is_not_stored_in_clear(app, make_user, db_backend,
                                                          database_url):
    import re

    from core.testing import TEST_PASSWORD

    make_user("salma", role="documenter", second_factor=False)
    client = app.test_client()
    response = client.submit("/login", {"username": "salma", "password": TEST_PASSWORD})
    assert response.location.endswith("/second-factor")
    page = client.get("/second-factor").get_data(as_text=True)
    shown = re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
    # The same secret on the next visit (it is kept in her session, sealed).
    again = client.get("/second-factor").get_data(as_text=True)
    assert shown in again.replace(" ", "")
    with app.app_context():
        kept = db.session.execute(text_of("SELECT data FROM core_session")).scalars().all()
    assert any(totp.ENROL_KEY in row for row in kept)
    assert found_at_rest(shown, stored_bytes(db_backend, database_url)) == []
    # She proves she has it; it becomes her second factor, sealed in her user row.
    response = client.submit("/second-factor", {"code": pyotp.TOTP(shown).now()})
    assert response.status_code in (200, 302)  # her recovery codes, or on to the home page
    with app.app_context():
        assert db.session.scalar(select(User.totp_secret)) == shown
        kept = db.session.execute(text_of("SELECT data FROM core_session")).scalars().all()
    assert not any(totp.ENROL_KEY in row for row in kept)
    assert found_at_rest(shown, stored_bytes(db_backend, database_url)) == []


def test_a_session_secret_that_does_not_open_is_replaced(app_context):
    session = {totp.ENROL_KEY: "JBSWY3DPEHPK3PXP"}  # as an older version kept it, in clear
    secret = totp.enrolling_secret(session)
    assert secret != "JBSWY3DPEHPK3PXP" and "JBSWY3DPEHPK3PXP" not in session[totp.ENROL_KEY]
    assert totp.enrolling_secret(session) == secret
    sealed = session[totp.ENROL_KEY]
    session[totp.ENROL_KEY] = sealed[:-2] + ("AA" if sealed[-2:] != "AA" else "BB")  # altered
    assert totp.enrolling_secret(session) != secret


def text_of(statement: str):
    from sqlalchemy import text

    return text(statement)
