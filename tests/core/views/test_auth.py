"""Signing in through the real pages: password, second factor, throttling, sign-out."""

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
    sign_in(client, amina)
    assert client.get("/").status_code == 302
    assert "Too many failed attempts" in client.get("/login").get_data(as_text=True)
    # Another account is not affected.
    other = app.test_client()
    sign_in(other, huda)
    assert other.get("/").status_code == 200
    # A minute later she may try again.
    fake_clock.advance(seconds=61)
    sign_in(client, amina)
    assert client.get("/").status_code == 200
    assert "auth.throttled" in audit_actions(app)


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
    for _ in range(6):
        client.submit("/login", {"username": "ghost", "password": "x" * 12})
    assert "Too many failed attempts" in client.get("/login").get_data(as_text=True)


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
    before = client.get_cookie("rabita_session").value
    sign_in(client, salma)
    middle = client.get_cookie("rabita_session").value
    client.submit("/login/code", {"code": salma.code()})
    after = client.get_cookie("rabita_session").value
    assert len({before, middle, after}) == 3
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServerSession)) == 1


def test_the_session_cookie_is_strict_and_http_only(app, client, make_user):
    amina = make_user("amina")
    response = sign_in(client, amina)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
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
