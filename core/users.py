"""Users and what admins do to them: create, invite, disable, change role, reset second factor.

Every change is checked first and raises ``UserError`` (a sentence for the user) before
anything is written; every change that is made is written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import audit, clock, passwords, recovery
from core.extensions import db
from core.models import Invite, User
from core.permissions import ADMIN, ROLES
from core.sessions import end_sessions_of

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}\Z")


class UserError(ValueError):
    """A request about a user cannot be done; the message says why, for the person asking."""


def normalise_username(username: str) -> str:
    """The one form of a username that lookup, throttle, invitations and new accounts use:
    compatibility forms folded (NFKC: fullwidth letters, ligatures), invisible format
    characters dropped, case folded, and every kind of space trimmed (tabs, U+3000...).
    Stored usernames are already in this form (ASCII, lower case)."""
    folded = unicodedata.normalize("NFKC", username)
    folded = "".join(char for char in folded if unicodedata.category(char) != "Cf")
    return unicodedata.normalize("NFKC", folded.casefold()).strip()


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME.match(name):
        raise UserError(
            _l("A username has 3 to 32 characters: Latin letters, digits, dot, dash, underscore.")
        )
    if find(name) is not None or _pending_invite(name) is not None:
        raise UserError(_l("This username is already taken."))
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(_l("Unknown role."))
    return role


def find(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))


def create(username: str, password: str, role: str, *, actor=None) -> User:
    name = check_username(username)
    check_role(role)
    _check_password(password, name)
    user = User(username=name, password_hash=passwords.hash_password(password), role=role)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", actor=actor, target_type="user", target_id=user.id, role=role)
    return user


def invite(username: str, role: str, *, actor: User) -> str:
    """Create a one-time invitation and return its token (shown once, stored hashed)."""
    name = check_username(username)
    check_role(role)
    token = secrets.token_urlsafe(32)
    entry = Invite(
        token_hash=_hash(token),
        username=name,
        role=role,
        created_by=actor.id,
        expires_at=clock.now() + current_app.config["INVITE_VALID_FOR"],
    )
    db.session.add(entry)
    db.session.flush()
    audit.record("user.invited", actor=actor, target_type="invite", target_id=entry.id, role=role)
    return token


def open_invite(token: str) -> Invite | None:
    """Return the invitation for ``token`` if it is unused and unexpired."""
    if not token or len(token) > 128:
        return None
    entry = db.session.scalar(select(Invite).where(Invite.token_hash == _hash(token)))
    if entry is None or entry.used_at is not None or entry.expires_at < clock.now():
        return None
    return entry


def accept_invite(entry: Invite, password: str) -> User:
    _check_password(password, entry.username)
    if find(entry.username) is not None:
        raise UserError(_l("This username is already taken."))
    user = User(
        username=entry.username, password_hash=passwords.hash_password(password), role=entry.role
    )
    db.session.add(user)
    entry.used_at = clock.now()
    db.session.flush()
    audit.record(
        "user.invite_accepted", actor=user, target_type="invite", target_id=entry.id,
        role=entry.role,
    )
    return user


def pending_invites() -> list[Invite]:
    """Invitations not yet used nor expired, the soonest to expire first."""
    return list(db.session.scalars(
        select(Invite).where(Invite.used_at.is_(None), Invite.expires_at > clock.now())
        .order_by(Invite.expires_at, Invite.id)))


def revoke_invite(entry: Invite, *, actor) -> None:
    """Withdraw an unused invitation: its link then gets the answer an unknown link gets."""
    if entry.used_at is not None:
        raise UserError(_l("This invitation was already used."))
    db.session.delete(entry)
    audit.record("user.invite_revoked", actor=actor, target_type="invite", target_id=entry.id,
                 role=entry.role)


def replace_password(user: User, new: str) -> None:
    """Give her a new password and end every session of hers. The caller has checked her
    current password (``core.auth.change_password``, under the sign-in throttle)."""
    _check_password(new, user.username)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = clock.now()
    end_sessions_of(user.id)
    audit.record("user.password_changed", actor=user, target_type="user", target_id=user.id)


def disable(user: User, *, actor) -> None:
    if user.disabled_at is not None:
        raise UserError(_l("This user is already disabled."))
    if _is_last_admin(user):
        raise UserError(_l("The last active administrator cannot be disabled."))
    user.disabled_at = clock.now()
    end_sessions_of(user.id)
    audit.record("user.disabled", actor=actor, target_type="user", target_id=user.id)


def enable(user: User, *, actor) -> None:
    if user.disabled_at is None:
        raise UserError(_l("This user is already active."))
    user.disabled_at = None
    audit.record("user.enabled", actor=actor, target_type="user", target_id=user.id)


def change_role(user: User, role: str, *, actor) -> None:
    check_role(role)
    if role == user.role:
        raise UserError(_l("The user already has this role."))
    if user.role == ADMIN and _is_last_admin(user):
        raise UserError(_l("The last active administrator must stay an administrator."))
    previous, user.role = user.role, role
    # Her rights changed: she signs in again (and enrols a second factor if now needed).
    end_sessions_of(user.id)
    audit.record(
        "user.role_changed", actor=actor, target_type="user", target_id=user.id,
        previous=previous, role=role,
    )


def reset_second_factor(user: User, *, actor) -> None:
    """Her phone is lost and so are her recovery codes: remove her second factor and its
    codes and end every session of hers; she enrols a new one at her next sign-in."""
    if user.totp_secret is None:
        raise UserError(_l("This user has no second factor to reset."))
    user.totp_secret = None
    user.totp_last_step = None
    recovery.revoke_all(user.id)
    end_sessions_of(user.id)
    audit.record("user.second_factor_reset", actor=actor, target_type="user", target_id=user.id)


def _check_password(password: str, username: str) -> None:
    try:
        passwords.check_new(password, username)
    except passwords.PasswordRejected as error:
        raise UserError(error.args[0]) from error


def _is_last_admin(user: User) -> bool:
    if user.role != ADMIN or user.disabled_at is not None:
        return False
    others = db.session.scalar(
        select(func.count()).select_from(User).where(
            User.role == ADMIN, User.disabled_at.is_(None), User.id != user.id
        )
    )
    return others == 0


def _pending_invite(username: str) -> Invite | None:
    return db.session.scalar(
        select(Invite).where(
            Invite.username == username, Invite.used_at.is_(None), Invite.expires_at > clock.now()
        )
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
