"""Sign-in throttling: per account, per client, and a budget for password hashing.

Three limits stand before a password (or a code, or the node passphrase) is checked; each
refusal says how long to wait.

- **Per account**: at most 5 failures a minute and 100 an hour, on every worker together.
  Attempts are rows of ``core_login_failure``, keyed by an HMAC of the normalised username
  (unknown usernames are throttled like real ones; the table never holds a username). An
  attempt is written and committed *before* it is counted, and the count includes it, so of
  any number of attempts at the same moment, on any worker, at most the limit get through
  (a check-then-record would let concurrent guesses pass together). A success removes its
  own row; a refused attempt, not evaluated, removes its row too; failures stay one hour.
- **Per client**: a client (one address) may fail 10 times a minute and 100 times an hour
  in each worker process, whatever usernames it tries. Clients are told apart by an HMAC of
  their address under a random key that lives in this process's memory only and is
  replaced every hour: no address, nor anything derived from it, is written anywhere.
- **Her own browsers**: a browser that signed in to an account carries a signed cookie
  saying so (an HMAC of the account, no name). While the account is held, such a browser
  is counted under its own name with the same limits, so a stranger's failures do not keep
  her out of the browsers she uses, second factor or not.
- **Hashing budget**: each worker process checks at most ``SIGNIN_HASHES_PER_SECOND``
  passwords a second (a token bucket holding ``SIGNIN_HASH_BURST``), so a flood of guesses
  from many addresses cannot keep every worker busy with argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, request
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, select

from core import clock
from core.extensions import db
from core.models import LoginFailure
from core.users import normalise_username

LIMITS = ((timedelta(minutes=1), 5), (timedelta(hours=1), 100))
CLIENT_LIMITS = ((timedelta(minutes=1), 10), (timedelta(hours=1), 100))
KEEP_FOR = timedelta(hours=1)
# The in-memory key naming clients is replaced this often; the previous one is kept one
# more period, so that a client's hour of failures is not forgotten at the change.
CLIENT_KEY_LIFETIME = timedelta(hours=1)
# Clients with no failure left in the last hour are forgotten this often.
PRUNE_EVERY = timedelta(minutes=1)
EXTENSION = "rabita.throttle"
# A browser she signed in with is known for this long (its cookie names no one: an HMAC).
DEVICE_COOKIE = "rabita_device"
DEVICE_KEPT_FOR = timedelta(days=90)

ACCOUNT, CLIENT, BUSY = "account", "client", "busy"
MESSAGES = {
    ACCOUNT: _l("Too many failed attempts for this account. Try again in %(wait)s."),
    CLIENT: _l("Too many failed attempts from your connection. Try again in %(wait)s."),
    BUSY: _l("The server is checking many sign-ins right now. Try again in %(wait)s."),
}


@dataclass(frozen=True)
class Refusal:
    """An attempt that was not evaluated: which limit refused it, and how long to wait."""

    limit: str  # ACCOUNT, CLIENT or BUSY
    retry_after: timedelta

    @property
    def seconds(self) -> int:
        """The wait in whole seconds (for a Retry-After header), at least one."""
        return max(1, math.ceil(self.retry_after.total_seconds()))

    def wait_text(self) -> str:
        """How long to wait, in words of her language ("45 seconds", "12 minutes")."""
        return format_timedelta(_rounded_up(self.seconds), threshold=1.1)

    def message(self) -> str:
        return str(MESSAGES[self.limit] % {"wait": self.wait_text()})


@dataclass(frozen=True)
class Counted:
    """One attempt on an account, counted: refused (and forgotten), or let through."""

    key: str
    attempt_id: int | None
    refusal: Refusal | None = None


def _rounded_up(seconds: int) -> timedelta:
    """Seconds up to a minute and a half, then whole minutes up to an hour and a half, then
    whole hours; always up, so that nobody is told to come back too early."""
    if seconds <= 90:
        return timedelta(seconds=seconds)
    if seconds <= 90 * 60:
        return timedelta(minutes=math.ceil(seconds / 60))
    return timedelta(hours=math.ceil(seconds / 3600))


def account_key(username: str, purpose: str = "login") -> str:
    """The throttle's name for an account: an HMAC of its normalised username, so every
    spelling of a name (spaces, case, width) shares one limit."""
    return _keyed(f"{purpose}:{normalise_username(username)}")


def _keyed(message: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


# -- her own browsers ----------------------------------------------------------------------


def known_device_key(username: str) -> str | None:
    """If this browser signed in to ``username``'s account before (its signed device cookie
    says so), the throttle's name for this browser on that account: while strangers hold
    the account, her known browsers count their own failures instead. None otherwise."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value or len(value) > 512:
        return None
    try:
        account, device = _device_serializer().loads(
            value, max_age=DEVICE_KEPT_FOR.total_seconds())
    except (BadSignature, TypeError, ValueError):
        return None
    if not hmac.compare_digest(str(account), account_key(username, "device")):
        return None
    return _keyed(f"device:{account}:{device}")


def remember_device(response, username: str) -> None:
    """Mark this browser as one she signs in with (after a sign-in that succeeded)."""
    value = _device_serializer().dumps([account_key(username, "device"), secrets.token_hex(8)])
    response.set_cookie(
        DEVICE_COOKIE, value, max_age=int(DEVICE_KEPT_FOR.total_seconds()), httponly=True,
        samesite=current_app.config["SESSION_COOKIE_SAMESITE"],
        secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure,
    )


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="rabita.device")


# -- per account, in the database --------------------------------------------------------------


def count_attempt(key: str) -> Counted:
    """Record one attempt on ``key`` and commit (with anything pending: call it before the
    step writes anything), then count it with every other attempt in each window. Over a
    limit, the attempt is removed again (it is not evaluated) and the refusal says when the
    oldest failure in the way leaves its window."""
    now = clock.now()
    db.session.execute(
        delete(LoginFailure)
        .where(LoginFailure.account_key == key, LoginFailure.at < now - KEEP_FOR)
    )
    attempt_id = db.session.execute(
        insert(LoginFailure).values(account_key=key, at=now)
    ).inserted_primary_key[0]
    db.session.commit()  # before counting: a concurrent attempt that counts later sees it
    times = db.session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.account_key == key, LoginFailure.at > now - KEEP_FOR,
               LoginFailure.id != attempt_id)
        .order_by(LoginFailure.at.desc())
    ).all()
    wait = _wait_for(times, LIMITS, now)
    if wait is None:
        return Counted(key, attempt_id)
    db.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))
    db.session.commit()
    return Counted(key, None, Refusal(ACCOUNT, wait))


def forget(counted: Counted) -> None:
    """The attempt succeeded (or was not evaluated): it is no failure. In the current
    transaction, which commits it with what the success writes."""
    if counted.attempt_id is not None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.id == counted.attempt_id))


def record_failure(key: str) -> None:
    """A failure that was not counted beforehand (a guess given while the account was
    held), in the current transaction."""
    db.session.add(LoginFailure(account_key=key, at=clock.now()))


def purge_old() -> None:
    """Remove every failure older than an hour (usernames tried once are never tried again)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < clock.now() - KEEP_FOR))
    db.session.commit()


def _wait_for(times: list[datetime], limits, now: datetime) -> timedelta | None:
    """With ``times`` the earlier attempts (newest first), None if one more is allowed;
    otherwise how long until enough of them leave their window."""
    waits = []
    for window, limit in limits:
        recent = [at for at in times if at > now - window]
        if len(recent) >= limit:
            # Allowed again when only limit-1 of them remain inside the window.
            waits.append(recent[limit - 1] + window - now)
    return max(waits) if waits else None


# -- per client and hashing budget, in this process's memory ---------------------------------


class ClientFailures:
    """Failures per client in this process, under a key that never leaves its memory (also
    used for other things one client may do only so often: federation's pairing requests).
    ``limits`` are (window, how many) pairs, no window longer than ``KEEP_FOR`` (by default
    ``CLIENT_LIMITS``, read at each use)."""

    def __init__(self, limits=None):
        self.limits = limits
        self._lock = threading.Lock()
        self._generations: deque[tuple[bytes, datetime, dict[bytes, list[datetime]]]] = deque()
        self._pruned_at: datetime | None = None

    def take(self, address: str | None) -> Refusal | None:
        """Count a failure for ``address`` in advance; refuse if it has had its share.
        ``give_back`` undoes it when the attempt succeeds."""
        now = clock.now()
        with self._lock:
            self._rotate(now)
            earlier = sorted(
                (at for _key, _made, failures in self._generations
                 for at in failures.get(self._name(_key, address), ())
                 if at > now - KEEP_FOR),
                reverse=True,
            )
            wait = _wait_for(earlier, self.limits or CLIENT_LIMITS, now)
            if wait is not None:
                return Refusal(CLIENT, wait)
            key, _made, failures = self._generations[-1]
            failures.setdefault(self._name(key, address), []).append(now)
            return None

    def give_back(self, address: str | None) -> None:
        with self._lock:
            key, _made, failures = self._generations[-1]
            name = self._name(key, address)
            if failures.get(name):
                failures[name].pop()

    def _rotate(self, now: datetime) -> None:
        if not self._generations or now - self._generations[-1][1] >= CLIENT_KEY_LIFETIME:
            self._generations.append((secrets.token_bytes(32), now, {}))
        while len(self._generations) > 2:
            self._generations.popleft()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        for _key, _made, failures in self._generations:
            for name in [name for name, times in failures.items()
                         if not times or times[-1] <= now - KEEP_FOR]:
                del failures[name]

    @staticmethod
    def _name(key: bytes, address: str | None) -> bytes:
        return hmac.new(key, (address or "").encode(), hashlib.sha256).digest()


class HashingBudget:
    """A token bucket: ``rate`` password checks a second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._tokens, self._at = float(burst), None
        self._lock = threading.Lock()

    def take(self) -> Refusal | None:
        now = clock.now()
        with self._lock:
            if self._at is not None:
                elapsed = max(0.0, (now - self._at).total_seconds())
                self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return None
            return Refusal(BUSY, timedelta(seconds=(1 - self._tokens) / self.rate))


@dataclass
class Budgets:
    clients: ClientFailures
    hashing: HashingBudget
    # Browsers that signed in to the account before (a signed device cookie) draw on their
    # own budget, so a flood of strangers' guesses cannot keep the account holder out.
    own_browsers: HashingBudget


def budgets(app: Flask | None = None) -> Budgets:
    """This process's budgets, made at their first use (each worker process has its own)."""
    app = app or current_app
    found = app.extensions.get(EXTENSION)
    if found is None:
        rate, burst = app.config["SIGNIN_HASHES_PER_SECOND"], app.config["SIGNIN_HASH_BURST"]
        made = Budgets(ClientFailures(), HashingBudget(rate, burst), HashingBudget(rate, burst))
        found = app.extensions.setdefault(EXTENSION, made)
    return found


def take_client_share() -> Refusal | None:
    """Count a failure for this request's client in advance (``give_back_client_share``
    when the attempt succeeds); a refusal when the client has failed too often."""
    return budgets().clients.take(request.remote_addr)


def give_back_client_share() -> None:
    budgets().clients.give_back(request.remote_addr)


def take_hashing_token(own_browser: bool = False) -> Refusal | None:
    """A password check may run now (None), or the refusal saying when. ``own_browser``: the
    request comes from a browser she signed in with before (``known_device_key``)."""
    found = budgets()
    return (found.own_browsers if own_browser else found.hashing).take()
