"""Signing in: the password step, the second-factor step, and what each outcome writes.

An unknown username, a disabled account and a wrong password get the same answer after
the same work (one argon2id check), so the sign-in form never tells which usernames exist.

Every step runs under ``core.throttle``. A stranger who fails on her username holds the
account (5 failures a minute, 100 an hour), or a client on her connection holds it (behind
one NAT or Tor, one address), but neither can keep her out: a browser she signed in with
before keeps a limit of its own, and anywhere, while a limit holds, a password is checked
together with a code from her authenticator, and both right sign her in; a wrong pair gets
the same answer as no pair, so the hold tells nobody whether a password was right.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import after_this_request, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from core import audit, clock, kept, passwords, recovery, throttle, totp
from core.extensions import db
from core.models import User
from core.users import UserError, find, replace_password

# Set in a session whose second step was a recovery code: her phone may be lost, and this
# session (only) may replace the second factor without an administrator.
RECOVERED = "signed_in_with_recovery_code"
# The second step must follow the password within this time, or she starts again.
SECOND_STEP_WITHIN = timedelta(minutes=5)


class Outcome(enum.Enum):
    SIGNED_IN = "signed-in"
    CODE_NEEDED = "code-needed"
    ENROLMENT_NEEDED = "enrolment-needed"
    REFUSED = "refused"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    user: User | None = None
    codes_left: int | None = None  # after signing in with a recovery code
    refusal: throttle.Refusal | None = None  # when throttled: which limit, how long to wait


def check_password(username: str, password: str, code: str = "") -> Attempt:
    """The password step (with ``code``, her authenticator's, while a limit holds).
    Commits what it records (failures, re-hashes, audit entries)."""
    device = throttle.known_device_key(username)
    share_taken = device is None  # her own browser is counted by its own name instead
    client_held = throttle.take_client_share() if share_taken else None
    if client_held is not None and not code:
        return Attempt(Outcome.THROTTLED, refusal=client_held)  # nothing written: cheap
    user = find(username) if len(username) <= 64 else None
    actor = user.id if user else None
    counted = throttle.count_attempt(throttle.account_key(username))
    if counted.refusal is not None and device is not None:
        counted = throttle.count_attempt(device)  # held by others: her browser's own limit
    held = counted.refusal or client_held
    if held is not None and not code:
        return _throttled(actor, "password", held)
    refusal = throttle.take_hashing_token(own_browser=device is not None)
    if refusal is not None:
        throttle.forget(counted)
        return _throttled(actor, "password", refusal)
    if user is not None and user.is_active:
        valid = passwords.verify(user.password_hash, password)
    else:
        valid = passwords.verify_nobody(password)
    if held is not None:
        return _past_the_hold(user, valid, code, counted, held, share_taken and not client_held)
    if not valid:
        audit.record("auth.failed", actor=actor, step="password")
        db.session.commit()
        return Attempt(Outcome.REFUSED)
    throttle.forget(counted)
    if share_taken:
        throttle.give_back_client_share()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    if user.totp_secret:
        outcome = Outcome.CODE_NEEDED
    elif user.needs_second_factor():
        outcome = Outcome.ENROLMENT_NEEDED
    else:
        _complete(user)
        return Attempt(Outcome.SIGNED_IN, user)
    _begin_second_step(user, outcome)
    db.session.commit()
    return Attempt(outcome, user)


def _past_the_hold(user: User | None, valid: bool, code: str, counted: throttle.Counted,
                   held: throttle.Refusal, share_taken: bool) -> Attempt:
    """While her account or her connection is held: password and code (her authenticator's,
    or one of her recovery codes) both right sign her in; anything else is a failure that
    gets the very answer of the hold."""
    by_recovery_code = recovery.normalise(code) is not None
    if valid and user.totp_secret and _second_factor_passes(user, code, by_recovery_code):
        throttle.forget(counted)
        if share_taken:
            throttle.give_back_client_share()
        audit.record("auth.held_account_opened", actor=user, limit=held.limit)
        return _signed_in(user, by_recovery_code)
    if counted.attempt_id is None:  # the account's limit removed it: count the failure
        throttle.record_failure(counted.key)
    return _throttled(user.id if user else None, "password", held)


def _throttled(actor, step: str, refusal: throttle.Refusal) -> Attempt:
    audit.record("auth.throttled", actor=actor, step=step, limit=refusal.limit)
    db.session.commit()
    return Attempt(Outcome.THROTTLED, refusal=refusal)


def check_code(user: User, code: str) -> Attempt:
    """The second-factor step for a user who passed the password step: a code from her
    authenticator, or one of her recovery codes (told apart by their length; a recovery
    code is spent as she signs in). Codes have a limit of their own: guesses at her password
    do not hold her second step."""
    by_recovery_code = recovery.normalise(code) is not None
    step = "recovery-code" if by_recovery_code else "code"
    counted = throttle.count_attempt(throttle.account_key(user.username, "code"))
    if counted.refusal is not None:
        return _throttled(user, step, counted.refusal)
    if not user.is_active or not _second_factor_passes(user, code, by_recovery_code):
        audit.record("auth.failed", actor=user, step=step)
        db.session.commit()
        return Attempt(Outcome.REFUSED)
    throttle.forget(counted)
    return _signed_in(user, by_recovery_code)


def _second_factor_passes(user: User, code: str, by_recovery_code: bool) -> bool:
    return recovery.use(user, code) if by_recovery_code else totp.check_once(user, code)


def _signed_in(user: User, by_recovery_code: bool) -> Attempt:
    """Complete her sign-in. After a recovery code: audited with how many are left (never
    the code), and this session may replace her second factor (her phone may be lost)."""
    if not by_recovery_code:
        _complete(user)
        return Attempt(Outcome.SIGNED_IN, user)
    codes_left = recovery.left(user.id)
    audit.record("auth.recovery_code_used", actor=user, target_type="user", target_id=user.id,
                 left=codes_left)
    _complete(user)
    session[RECOVERED] = True
    return Attempt(Outcome.SIGNED_IN, user, codes_left)


def change_password(user: User, current: str, new: str) -> None:
    """Her own password change. The current password is checked under the sign-in throttle
    (failures count against her account like failed sign-ins), so a session left open on a
    seized laptop is no way to guess it. Raises ``UserError``; the caller rolls back."""
    _confirm_password(user, current, "change-password")
    replace_password(user, new)


def remake_recovery_codes(user: User, password: str) -> list[str]:
    """New recovery codes for her (the old ones revoked), once her password is confirmed
    under the sign-in throttle, as for a password change: an open session alone is not
    enough. Returns the codes to show once. Raises ``UserError``; the caller rolls back."""
    if not user.totp_secret:
        raise UserError(_l("Turn on the second factor first."))
    _confirm_password(user, password, "recovery-codes")
    return recovery.make_new(user)


def _confirm_password(user: User, password: str, step: str) -> None:
    """Check her password again before a sensitive change; failures count against her
    account like failed sign-ins. Raises ``UserError``."""
    counted = throttle.count_attempt(throttle.account_key(user.username))
    if counted.refusal is not None:
        _throttled(user, step, counted.refusal)
        raise UserError(counted.refusal.message())
    if not passwords.verify(user.password_hash, password):
        audit.record("auth.failed", actor=user, step=step)
        db.session.commit()
        raise UserError(_l("The current password is not right."))
    throttle.forget(counted)
    db.session.commit()  # right: no failure, even if the change itself is then refused


def confirm_enrolment(user: User, secret: str, code: str) -> list[str] | None:
    """Save a new second factor when ``code`` proves it, with new recovery codes (returned,
    to be shown once; older ones are revoked); complete sign-in if still pending. None, and
    nothing saved, when the code is wrong."""
    if not totp.confirm_enrolment(user, secret, code):
        audit.record("auth.enrolment_failed", actor=user)
        db.session.commit()
        return None
    audit.record("auth.second_factor_enrolled", actor=user, target_type="user", target_id=user.id)
    codes = recovery.make_new(user)
    if pending_user() is not None:
        _complete(user)
    else:
        db.session.commit()
    return codes


def signed_in_with_recovery_code() -> bool:
    return session.get(RECOVERED) is True


def pending_user() -> User | None:
    """The user between the two sign-in steps, if the step has not timed out."""
    user_id, since = session.get("pending_user"), session.get("pending_since")
    if user_id is None or since is None:
        return None
    if clock.now() - datetime.fromisoformat(since) > SECOND_STEP_WITHIN:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


def sign_out(user: User) -> None:
    audit.record("auth.signed_out", actor=user)
    db.session.commit()
    session.end()


def _begin_second_step(user: User, outcome: Outcome) -> None:
    _fresh_session()
    session["pending_user"] = user.id
    session["pending_step"] = outcome.value
    session["pending_since"] = clock.now().isoformat()


def _complete(user: User) -> None:
    audit.record("auth.signed_in", actor=user)
    db.session.commit()
    throttle.purge_old()
    username = user.username

    @after_this_request
    def remember_this_browser(response):
        throttle.remember_device(response, username)
        return response
    _fresh_session()
    login_user(user)


def _fresh_session() -> None:
    """A new session id and nothing carried over but the language she chose, and the form
    she was writing when her last session ended (a local path, core.kept)."""
    locale, continuing = session.get("locale"), session.get(kept.CONTINUE)
    session.regenerate()
    session.clear()
    if locale:
        session["locale"] = locale
    if continuing:
        session[kept.CONTINUE] = continuing
