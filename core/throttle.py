"""Sign-in throttling per account: at most 5 failures a minute and 100 an hour.

Accounts are keyed by an HMAC of the username typed, so unknown usernames are throttled
exactly like real ones and the table never holds a username.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from core import clock
from core.extensions import db
from core.models import LoginFailure

LIMITS = ((timedelta(minutes=1), 5), (timedelta(hours=1), 100))
KEEP_FOR = timedelta(hours=1)


def account_key(username: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"login:" + username.casefold().encode(), hashlib.sha256).hexdigest()


def is_throttled(key: str) -> bool:
    now = clock.now()
    for window, limit in LIMITS:
        failures = db.session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.account_key == key, LoginFailure.at > now - window)
        )
        if failures >= limit:
            return True
    return False


def record_failure(key: str) -> None:
    now = clock.now()
    db.session.execute(
        delete(LoginFailure)
        .where(LoginFailure.account_key == key, LoginFailure.at < now - KEEP_FOR)
    )
    db.session.add(LoginFailure(account_key=key, at=now))


def clear(key: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.account_key == key))
