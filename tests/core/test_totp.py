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

    from core.keystore import InstanceSealBroken

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
