"""The second factor: RFC 6238 time-based codes, each accepted once."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import or_, update

from core import clock
from core.extensions import db
from core.instance_seal import InstanceSealBroken, open_for_instance, seal_for_instance
from core.models import User
from core.text import western_digits

STEP_SECONDS = 30
DRIFT_STEPS = 1  # accept the previous and next code, for clocks a little off
ENROL_SEAL = "core_session.enrol_secret"
ENROL_KEY = "enrol_secret"


def new_secret() -> str:
    return pyotp.random_base32()


def enrolling_secret(session) -> str:
    """The secret being enrolled in this sign-in ``session``: kept there sealed under the
    instance secret (sessions are database rows, and SQLite's WAL keeps old rows), opened
    here; a new one at the first visit, or when the sealed one does not open."""
    sealed = session.get(ENROL_KEY)
    if isinstance(sealed, str):
        try:
            return open_for_instance(sealed, ENROL_SEAL).decode("ascii")
        except (InstanceSealBroken, UnicodeDecodeError):
            pass  # altered, or left in clear by an older version: start again
    secret = new_secret()
    session[ENROL_KEY] = seal_for_instance(secret.encode("ascii"), ENROL_SEAL)
    return secret


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG (no image request, nothing third-party)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own SVG output, not user input


def normalise_code(code: str) -> str:
    """Accept Arabic-Indic digits and spaces, as phones in the region type them."""
    return western_digits(code).replace(" ", "").strip()


def matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """Return the time step whose code equals ``code``, or None."""
    code = normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((at or clock.now()).timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_once(user: User, code: str) -> bool:
    """True if ``code`` is valid now and newer than any code this user already used.

    The conditional update makes replay impossible even for two requests at once.
    """
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code)
    if step is None:
        return False
    accepted = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if accepted:
        user.totp_last_step = step
    return bool(accepted)


def confirm_enrolment(user: User, secret: str, code: str) -> bool:
    """Save ``secret`` as the user's second factor if ``code`` proves she has it."""
    step = matching_step(secret, code)
    if step is None:
        return False
    user.totp_secret = secret
    user.totp_last_step = step
    return True
