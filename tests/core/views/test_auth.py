"""Signing in through the real pages: password, second factor, throttling, sign-out."""

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry, ServerSession, User
from core.testing import all_databases

pytestmark = all_databases


def sign_in(client, user, password=None):
    return client.submit("/login", {"username": user.username, "password": password or user.password})


def audit_actions(app):
    with app.app_context():
        return db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()


def test_a_member_signs_in_with_her_password_alone(app, client, make_user):
    amina = make_user("amina", role="member")
    response = sign_in(client, amina)
    assert response.status_code == 302 and response.location.endswith("/")
    assert "Welcome, amina" in client.get("/").get_data(as_text=True)
    assert audit_actions(app)[-1] == "auth.signed_in"


def test_a_documenter_needs_her_code_after_the_password(app, client, make_user):
    salma = make_user("salma", role="documenter")
    response = sign_in(client, salma)
    assert response.location.endswith("/login/code")
    # Between the two steps, nothing but the code page opens.
    assert client.get("/").location.endswith("/login")
    response = client.submit("/login/code", {"code": salma.code()})
    assert response.location.endswith("/")
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_once(app, make_user):
    salma = make_user("salma", role="documenter")
    first, second = app.test_client(), app.test_client()
    sign_in(first, salma)
    sign_in(second, salma)
    code = salma.code()
    assert first.submit("/login/code", {"code": code}).location.endswith("/")
    replay = second.submit("/login/code", {"code": code})
    assert replay.location.endswith("/login/code")
    assert second.get("/").status_code == 302
    assert "auth.failed" in audit_actions(app)


def test_an_older_code_is_refused_after_a_newer_one(app, client, make_user):
    salma = make_user("salma", role="documenter")
    sign_in(client, salma)
    assert client.submit("/login/code", {"code": salma.code(steps_ahead=1)}).location.endswith("/")
    other = app.test_client()
    sign_in(other, salma)
    assert other.submit("/login/code", {"code": salma.code()}).location.endswith("/login/code")


def test_arabic_indic_digits_are_accepted_in_codes(client, make_user):
    salma = make_user("salma", role="documenter")
    sign_in(client, salma)
    arabic = salma.code().translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert client.submit("/login/code", {"code": arabic}).location.endswith("/")


def test_unknown_user_and_wrong_password_get_the_same_answer(app, make_user):
    make_user("amina")
    unknown = app.test_client().submit("/login", {"username": "nobody", "password": "x" * 12})
    wrong = app.test_client().submit("/login", {"username": "amina", "password": "x" * 12})
    assert unknown.status_code == wrong.status_code == 302
    assert unknown.location == wrong.location
    client = app.test_client()
    client.submit("/login", {"username": "nobody", "password": "x" * 12})
    page_unknown = client.get("/login").get_data(as_text=True)
    client.submit("/login", {"username": "amina", "password": "x" * 12})
    page_wrong = client.get("/login").get_data(as_text=True)
    assert "Wrong username or password." in page_unknown
    assert "Wrong username or password." in page_wrong


def test_a_disabled_user_cannot_sign_in(app, client, make_user):
    amina = make_user("amina")
    with app.app_context():
        from core import clock

        db.session.get(User, amina.id).disabled_at = clock.now()
        db.session.commit()
    assert sign_in(client, amina).location.endswith("/login")
    assert client.get("/").status_code == 302


def test_five_failures_a_minute_throttle_that_account_only(app, make_user, fake_clock):
    amina, huda = make_user("amina"), make_user("huda")
    client = app.test_client()
    for _ in range(5):
        sign_in(client, amina, password="wrong password!")
    # Even the right password is refused now, without being checked.
    refused = sign_in(client, amina)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert "Too many failed attempts for this account. Try again in 60 seconds." in \
        refused.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # Another account is not affected.
    other = app.test_client()
    sign_in(other, huda)
    assert other.get("/").status_code == 200
    # A minute later she may try again.
    fake_clock.advance(seconds=61)
    sign_in(client, amina)
    assert client.get("/").status_code == 200
    assert "auth.throttled" in audit_actions(app)


@pytest.mark.slow
def test_a_hundred_failures_an_hour_throttle_for_the_hour(app, make_user, fake_clock):
    amina = make_user("amina")
    client = app.test_client()
    for _ in range(20):
        for _ in range(5):
            sign_in(client, amina, password="wrong password!")
        fake_clock.advance(seconds=61)
    sign_in(client, amina)
    assert client.get("/").status_code == 302  # still throttled: 100 in the hour
    fake_clock.advance(minutes=60)
    sign_in(client, amina)
    assert client.get("/").status_code == 200


def test_unknown_usernames_are_throttled_too(app):
    client = app.test_client()
    for _ in range(5):
        assert client.submit("/login", {"username": "ghost", "password": "x" * 12}).status_code == 302
    refused = client.submit("/login", {"username": "ghost", "password": "x" * 12})
    assert refused.status_code == 429
    assert "Too many failed attempts for this account" in refused.get_data(as_text=True)


def test_wrong_codes_count_towards_the_throttle(app, client, make_user):
    salma = make_user("salma", role="documenter")
    sign_in(client, salma)
    for _ in range(5):
        client.submit("/login/code", {"code": "000000"})
    client.submit("/login/code", {"code": salma.code()})
    assert client.get("/").status_code == 302


def test_the_second_step_times_out(app, client, make_user, fake_clock):
    salma = make_user("salma", role="documenter")
    sign_in(client, salma)
    fake_clock.advance(minutes=6)
    response = client.submit("/login/code", {"code": salma.code()}, page="/login")
    assert response.location.endswith("/login")
    assert client.get("/").status_code == 302


def test_a_new_session_id_at_each_sign_in_step(app, client, make_user):
    salma = make_user("salma", role="documenter")
    client.get("/login")
    assert client.get_cookie("rabita_session") is None  # a visitor has no stored session
    sign_in(client, salma)
    middle = client.get_cookie("rabita_session").value
    client.submit("/login/code", {"code": salma.code()})
    after = client.get_cookie("rabita_session").value
    assert middle != after
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServerSession)) == 1


def test_the_session_cookie_is_strict_and_http_only(app, client, make_user):
    amina = make_user("amina")
    visit = client.get("/login").headers["Set-Cookie"]
    assert visit.startswith("rabita_visit=")
    response = sign_in(client, amina)
    cookies = {each.split("=", 1)[0]: each for each in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"rabita_session", "rabita_device"}
    for each in (visit, *cookies.values()):
        assert "HttpOnly" in each and "SameSite=Strict" in each and "Secure" not in each
    secure = app.test_client().submit(
        "/login", {"username": amina.username, "password": amina.password},
        base_url="https://localhost",
    )
    assert "Secure" in secure.headers.get("Set-Cookie", "")


def test_the_cookie_holds_no_stored_value(app, client, make_user):
    amina = make_user("amina")
    sign_in(client, amina)
    token = client.get_cookie("rabita_session").value
    with app.app_context():
        stored = db.session.scalars(select(ServerSession.token_hash)).all()
    assert token not in stored  # only its hash is kept


def test_sign_out_ends_the_session(app, client, make_user):
    amina = make_user("amina")
    sign_in(client, amina)
    client.submit("/logout", page="/")
    assert client.get("/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServerSession)
                                 .where(ServerSession.user_id == amina.id)) == 0


def test_a_form_without_its_csrf_token_is_refused(app, client, make_user):
    amina = make_user("amina")
    response = client.post("/login", data={"username": "amina", "password": amina.password})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1  # created


def test_a_token_from_another_session_is_refused(app, make_user):
    amina = make_user("amina")
    token = app.test_client().csrf_token("/login")
    response = app.test_client().post(
        "/login", data={"username": "amina", "password": amina.password, "csrf_token": token}
    )
    assert response.status_code == 400


def test_an_overlong_password_is_refused_without_hashing(app, client, make_user, monkeypatch):
    amina = make_user("amina")
    from core import passwords

    calls = []

    class CountingHasher:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, *args):
            calls.append(args)
            return True

    real = passwords.HASHER
    monkeypatch.setattr(passwords, "HASHER", CountingHasher())
    sign_in(client, amina, password="x" * 129)
    assert calls == []
    assert client.get("/").status_code == 302


def test_a_password_is_rehashed_when_parameters_rise(app, client, make_user, monkeypatch):
    from argon2 import PasswordHasher

    from core import passwords

    amina = make_user("amina")
    with app.app_context():
        old = db.session.get(User, amina.id).password_hash
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    sign_in(client, amina)
    with app.app_context():
        new = db.session.get(User, amina.id).password_hash
    assert new != old and "t=2" in new and "m=16" in new


# -- throttling that strangers cannot turn against her ------------------------------------


def from_address(client, address):
    """The client as seen behind the proxy (PROXY_COUNT = 1): its own X-Forwarded-For."""
    client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    return client


def unicode_spaces():
    """Every character Python calls a space, found by scanning Unicode, not from a list."""
    return [chr(point) for point in range(0x3100) if chr(point).isspace()]


def spellings(name):
    """Spellings of ``name`` a person or a stranger may type: cases, fullwidth forms, and
    each Unicode space before or after it."""
    fullwidth = "".join(chr(ord(char) + 0xFEE0) for char in name)
    forms = [name.upper(), name.title(), fullwidth, fullwidth.upper(), name.swapcase()]
    spaced = [space + name for space in unicode_spaces()] + [name + s for s in unicode_spaces()]
    return forms + spaced


@pytest.mark.slow
def test_every_spelling_of_a_name_shares_one_limit(make_app, fake_clock):
    app = make_app(PROXY_COUNT=1)
    amina = person(app, "amina")
    variants = spellings("amina")
    assert len(variants) > 40 and "\u3000amina" in variants and "\tamina" in variants
    for number, variant in enumerate(variants[:5]):
        client = from_address(app.test_client(), f"198.51.100.{number}")
        assert sign_in_as(client, variant, "wrong password!").status_code == 302
    for number, variant in enumerate(variants[5:]):
        client = from_address(app.test_client(), f"203.0.113.{number % 250}")
        refused = sign_in_as(client, variant, amina.password)
        assert refused.status_code == 429, repr(variant)
    # and every spelling signs her in once the minute is over
    fake_clock.advance(seconds=61)
    client = from_address(app.test_client(), "192.0.2.1")
    assert sign_in_as(client, "\u3000ＡＭＩＮＡ\t", amina.password).location.endswith("/")


def person(app, username, role="member"):
    from core.testing import add_person

    with app.app_context():
        return add_person(username, role)


def sign_in_as(client, username, password, code=None):
    form = {"username": username, "password": password}
    if code is not None:
        form["code"] = code
    return client.submit("/login", form)


def test_a_strangers_failures_do_not_stop_her_second_factor(make_app):
    app = make_app(PROXY_COUNT=1)
    salma = person(app, "salma", "documenter")
    stranger = from_address(app.test_client(), "198.51.100.66")
    for _ in range(8):
        sign_in_as(stranger, "salma", "a guess at her password")
    # The stranger now holds the account: even the right password alone gets no further,
    # and a wrong pair gets the very same answer as no pair.
    answers = [
        sign_in_as(stranger, "salma", salma.password),
        sign_in_as(stranger, "salma", salma.password, code="000000"),
        sign_in_as(stranger, "salma", "a guess at her password", code=salma.code()),
    ]
    assert {answer.status_code for answer in answers} == {429}
    assert len({answer.get_data(as_text=True).count("Try again in") for answer in answers}) == 1
    her = from_address(app.test_client(), "192.0.2.10")
    held = sign_in_as(her, "salma", salma.password)
    assert held.status_code == 429
    assert 'name="code"' in held.get_data(as_text=True)  # the page asks for her code now
    signed_in = sign_in_as(her, "salma", salma.password, code=salma.code(steps_ahead=1))
    assert signed_in.status_code == 302 and signed_in.location.endswith("/")
    assert her.get("/").status_code == 200
    assert "auth.held_account_opened" in audit_actions(app)
    assert stranger.get("/").status_code == 302


def test_a_member_without_second_factor_waits_out_the_hold(make_app, fake_clock):
    """The documented limit (docs/threat-model.md): with no second factor to prove who she
    is, a held account opens again when the failures leave their window."""
    app = make_app(PROXY_COUNT=1)
    amina = person(app, "amina", "member")
    stranger = from_address(app.test_client(), "198.51.100.66")
    for _ in range(5):
        sign_in_as(stranger, "amina", "a guess at her password")
    her = from_address(app.test_client(), "192.0.2.10")
    assert sign_in_as(her, "amina", amina.password, code="123456").status_code == 429
    fake_clock.advance(seconds=61)
    assert sign_in_as(her, "amina", amina.password).location.endswith("/")


@pytest.mark.slow
def test_one_client_spraying_names_is_slowed_after_its_budget(make_app, fake_clock):
    app = make_app(PROXY_COUNT=1, SIGNIN_HASH_BURST=50)  # the clock stands: no refill
    sprayer = from_address(app.test_client(), "198.51.100.23")
    answers = [sign_in_as(sprayer, f"name{number}", "password guess 1") for number in range(100)]
    assert [a.status_code for a in answers[:10]] == [302] * 10
    refused = answers[10:]
    assert {a.status_code for a in refused} == {429}
    assert {a.headers["Retry-After"] for a in refused} == {"60"}
    assert all("Too many failed attempts from your connection. Try again in 60 seconds."
               in a.get_data(as_text=True) for a in refused)
    # Another client is not held back by this one.
    other = from_address(app.test_client(), "198.51.100.24")
    assert sign_in_as(other, "name0", "password guess 1").status_code == 302
    fake_clock.advance(seconds=61)
    assert sign_in_as(sprayer, "name100", "password guess 1").status_code == 302


def test_a_flood_of_guesses_waits_for_the_hashing_budget(make_app, fake_clock):
    app = make_app(PROXY_COUNT=1, SIGNIN_HASHES_PER_SECOND=0.5, SIGNIN_HASH_BURST=2)
    answers = [sign_in_as(from_address(app.test_client(), f"198.51.100.{number}"),
                          f"name{number}", "password guess 1") for number in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert answers[2].headers["Retry-After"] == "2"
    assert "The server is checking many sign-ins right now. Try again in 2 seconds." in \
        answers[2].get_data(as_text=True)
    fake_clock.advance(seconds=2)
    later = sign_in_as(from_address(app.test_client(), "198.51.100.9"), "name9", "guess")
    assert later.status_code == 302


def test_a_flood_that_spends_the_hashing_budget_does_not_keep_her_own_browser_out(
        make_app, fake_clock):
    """Strangers from many addresses can spend every password check a worker allows; a
    browser she signed in with before draws on a budget of its own."""
    app = make_app(PROXY_COUNT=1, SIGNIN_HASHES_PER_SECOND=0.5, SIGNIN_HASH_BURST=2)
    amina = person(app, "amina")
    laptop = from_address(app.test_client(), "192.0.2.10")
    assert sign_in_as(laptop, "amina", amina.password).location.endswith("/")
    laptop.submit("/logout", page="/")
    fake_clock.advance(seconds=10)  # her sign-in's token is back
    flood = [sign_in_as(from_address(app.test_client(), f"198.51.100.{number}"),
                        f"name{number}", "a guess") for number in range(4)]
    assert [answer.status_code for answer in flood][-1] == 429  # the budget is spent
    new_browser = from_address(app.test_client(), "192.0.2.11")
    assert "checking many sign-ins" in sign_in_as(new_browser, "amina",
                                                  amina.password).get_data(as_text=True)
    assert sign_in_as(laptop, "amina", amina.password).location.endswith("/")


def test_a_refused_code_step_says_when_to_try_again(app, client, make_user, fake_clock):
    """The clock stands still: on a busy machine a second may pass between the steps."""
    salma = make_user("salma", role="documenter")
    sign_in(client, salma)
    for _ in range(5):
        client.submit("/login/code", {"code": "000000"})
    client.submit("/login/code", {"code": salma.code()})
    page = client.get("/login/code").get_data(as_text=True)
    assert "Too many failed attempts for this account. Try again in 60 seconds." in page


def test_a_stranger_on_her_connection_does_not_stop_her_second_factor(make_app):
    """Behind one NAT or one Tor daemon, a stranger and she share an address."""
    app = make_app(PROXY_COUNT=1, SIGNIN_HASH_BURST=50)
    salma = person(app, "salma", "documenter")
    stranger = from_address(app.test_client(), "192.0.2.200")
    for number in range(12):
        sign_in_as(stranger, f"name{number}", "a guess at some password")
    her = from_address(app.test_client(), "192.0.2.200")
    held = sign_in_as(her, "salma", salma.password)
    assert held.status_code == 429 and "from your connection" in held.get_data(as_text=True)
    assert 'name="code"' in held.get_data(as_text=True)
    assert sign_in_as(stranger, "salma", salma.password + "?", code=salma.code()).status_code == 429
    assert sign_in_as(her, "salma", salma.password, code=salma.code()).location.endswith("/")


@pytest.mark.slow
def test_a_browser_she_signed_in_with_is_not_held_by_strangers(make_app):
    """Her way past a hold without a second factor: the browsers she uses."""
    app = make_app(PROXY_COUNT=1)
    amina, huda = person(app, "amina"), person(app, "huda")
    laptop = from_address(app.test_client(), "192.0.2.10")
    assert sign_in_as(laptop, "amina", amina.password).location.endswith("/")
    laptop.submit("/logout", page="/")
    device_cookie = laptop.get_cookie("rabita_device")
    assert device_cookie is not None and "amina" not in device_cookie.value
    stranger = from_address(app.test_client(), "198.51.100.66")
    for _ in range(6):
        sign_in_as(stranger, "amina", "a guess at her password")
    assert sign_in_as(stranger, "amina", amina.password).status_code == 429
    new_browser = from_address(app.test_client(), "192.0.2.11")
    assert sign_in_as(new_browser, "amina", amina.password).status_code == 429
    # Another account's browser, or a forged cookie, is a stranger's.
    hudas = from_address(app.test_client(), "192.0.2.12")
    sign_in_as(hudas, "huda", huda.password)
    hudas.submit("/logout", page="/")
    assert sign_in_as(hudas, "amina", amina.password).status_code == 429
    new_browser.set_cookie("rabita_device", device_cookie.value[:-3] + "abc", domain="localhost")
    assert sign_in_as(new_browser, "amina", amina.password).status_code == 429
    # Her laptop signs her in, and keeps a limit of its own: five failures, then it waits.
    assert sign_in_as(laptop, "AMINA", amina.password).location.endswith("/")
    laptop.submit("/logout", page="/")
    for _ in range(5):
        assert sign_in_as(laptop, "amina", "mistyped password").status_code == 302
    assert sign_in_as(laptop, "amina", amina.password).status_code == 429


def test_a_wrong_code_says_the_code_was_wrong(app, client, make_user):
    salma = make_user("salma", role="documenter")
    sign_in(client, salma)
    response = client.submit("/login/code", {"code": "000000"})
    assert response.location.endswith("/login/code")
    page = client.get("/login/code").get_data(as_text=True)
    assert "This code is not right" in page and "Wrong username or password" not in page
