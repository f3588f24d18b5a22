"""Second-factor codes: the right window, and each accepted once."""

import pyotp

from core import clock, totp
from core.extensions import db
from core.models import User


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
