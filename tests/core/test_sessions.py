"""Server-side sessions: time-outs, and every session ended when it must be."""

from sqlalchemy import func, select

from core import users
from core.extensions import db
from core.models import ServerSession, User
from core.testing import all_databases

pytestmark = all_databases


def sessions_of(app, user):
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(ServerSession).where(ServerSession.user_id == user.id)
        )


def test_a_session_ends_after_30_idle_minutes(make_user, login_as, fake_clock):
    client = login_as(make_user("amina"))
    fake_clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    fake_clock.advance(minutes=29)  # active 58 minutes, never idle 30
    assert client.get("/").status_code == 200
    fake_clock.advance(minutes=31)
    assert client.get("/").status_code == 302


def test_a_session_ends_after_12_hours_however_active(make_user, login_as, fake_clock):
    client = login_as(make_user("amina"))
    minutes_alive = 0
    while client.get("/").status_code == 200 and minutes_alive < 24 * 60:
        fake_clock.advance(minutes=20)
        minutes_alive += 20
    assert 12 * 60 <= minutes_alive <= 12 * 60 + 20


def test_changing_her_password_ends_every_session(app, make_user, login_as):
    amina = make_user("amina")
    laptop, phone = login_as(amina), login_as(amina)
    response = laptop.submit("/account/", {
        "password-current": amina.password, "password-password": "a brand new passphrase",
        "password-confirm": "a brand new passphrase", "password-submit": "1",
    })
    assert response.location.endswith("/login")
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    assert sessions_of(app, amina) == 0


def test_a_wrong_current_password_changes_nothing(app, make_user, login_as):
    amina = make_user("amina")
    client = login_as(amina)
    response = client.submit("/account/", {
        "password-current": "not my password", "password-password": "a brand new passphrase",
        "password-confirm": "a brand new passphrase", "password-submit": "1",
    })
    assert "The current password is not right." in response.get_data(as_text=True)
    assert client.get("/").status_code == 200
    with app.app_context():
        from core import passwords

        assert passwords.verify(db.session.get(User, amina.id).password_hash, amina.password)


def test_disabling_a_user_ends_her_sessions(app, make_user, login_as):
    amina = make_user("amina")
    client = login_as(amina)
    with app.app_context():
        users.disable(db.session.get(User, amina.id), actor=None)
        db.session.commit()
    assert client.get("/").status_code == 302
    assert sessions_of(app, amina) == 0


def test_expired_sessions_are_purged_when_new_ones_start(app, make_user, login_as, fake_clock):
    login_as(make_user("amina"))
    huda = make_user("huda")
    fake_clock.advance(hours=13)
    app.test_client().submit("/login", {"username": "huda", "password": huda.password})
    with app.app_context():  # ended, kept a day to know whose a form posted on it is
        assert len(db.session.scalars(select(ServerSession.user_id)).all()) == 2
    fake_clock.advance(hours=37)
    app.test_client().submit("/login", {"username": "huda", "password": huda.password})
    with app.app_context():
        assert db.session.scalars(select(ServerSession.user_id)).all() == [huda.id]  # hers only


def test_a_forged_cookie_is_a_stranger(app):
    client = app.test_client()
    client.set_cookie("rabita_session", "forged-token", domain="localhost")
    assert client.get("/").status_code == 302
    client.set_cookie("rabita_session", "x" * 3000, domain="localhost")
    assert client.get("/").status_code == 302


def test_anonymous_visitors_store_only_what_a_form_needs(app):
    client = app.test_client()
    with client.get("/static/rabita.css"):
        pass
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServerSession)) == 0


def test_guessing_the_current_password_is_throttled_like_signing_in(app, make_user, login_as,
                                                                    fake_clock):
    """Five wrong guesses in a minute from an open session: the sixth, even right, is
    refused, the password stays, and signing in to her account waits too. The clock stands
    still: on a busy machine a second may pass between the steps (the page said 59 seconds)."""
    amina = make_user("amina")
    client = login_as(amina)
    form = {"password-password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase", "password-submit": "1"}
    for guess in range(5):
        response = client.submit("/account/", form | {"password-current": f"guess {guess}"})
        assert "The current password is not right." in response.get_data(as_text=True)
    response = client.submit("/account/", form | {"password-current": amina.password})
    assert "Too many failed attempts for this account. Try again in 60 seconds." in \
        response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # her session goes on
    with app.app_context():
        from core import passwords

        assert passwords.verify(db.session.get(User, amina.id).password_hash, amina.password)
    other_device = app.test_client()
    refused = other_device.submit("/login", {"username": "amina", "password": amina.password})
    assert refused.status_code == 429 and "Too many failed attempts" in refused.get_data(as_text=True)
    assert other_device.get("/").status_code == 302  # not signed in: throttled


def test_a_static_file_reads_no_session(app, make_user, login_as):
    from sqlalchemy import event

    client = login_as(make_user("salma"))
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with client.get("/static/rabita.css") as response:
            assert response.status_code == 200 and "Set-Cookie" not in response.headers
        assert statements == []
        assert client.get("/account/").status_code == 200  # still signed in
        assert any("core_session" in statement for statement in statements)
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def session_rows(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ServerSession))


def test_anonymous_visits_and_failed_sign_ins_write_no_session_row(app, make_user):
    make_user("amina")
    for number in range(30):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"  # each her own budget
        assert client.get("/login").status_code == 200
        client.get("/")  # sent to the login page
        client.submit("/login", {"username": f"someone{number}", "password": "x" * 12})
        assert "Wrong username or password." in client.get("/login").get_data(as_text=True)
    assert session_rows(app) == 0


def test_anonymous_404s_and_405s_write_no_session_row(app):
    """Issue 19, Found 7: at 8a0d646 each anonymous 404 or 405 wrote a session row."""
    for number in range(10):
        client = app.test_client()
        assert client.get(f"/no-such-page-{number}").status_code == 404
        assert client.put("/login", data={"x": "y"}).status_code == 405
    assert session_rows(app) == 0


def test_a_visit_cookie_never_names_a_user(app, make_user):
    """Even signed with the instance secret, a visit cookie that says who she is is not
    believed: only a stored session can."""
    from core.sessions import VISIT_COOKIE, _visit_serializer

    amina = make_user("amina")
    forged = _visit_serializer(app).dumps(
        {"_user_id": str(amina.id), "pending_user": amina.id, "_fresh": True})
    client = app.test_client()
    client.set_cookie(VISIT_COOKIE, forged, domain="localhost")
    assert client.get("/").status_code == 302
    client.set_cookie(VISIT_COOKIE, forged[:-2] + "xx", domain="localhost")  # a bad signature
    assert client.get("/login").status_code == 200
    assert session_rows(app) == 0


def test_signing_out_leaves_no_row_and_tells_her(app, client, make_user):
    amina = make_user("amina")
    client.submit("/login", {"username": "amina", "password": amina.password})
    assert session_rows(app) == 1
    response = client.submit("/logout", page="/")
    assert session_rows(app) == 0
    assert "You are signed out." in client.get(response.location).get_data(as_text=True)


def test_no_hash_of_her_address_is_kept_in_her_session(make_app, make_user):
    """Flask-Login writes _id = SHA-512(address | browser) at every sign-in: dropped."""
    app = make_app(PROXY_COUNT=1)
    with app.app_context():
        from core.testing import add_person

        salma = add_person("salma", "documenter")
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.77"
    client.submit("/login", {"username": "salma", "password": salma.password})
    client.submit("/login/code", {"code": salma.code()})
    assert client.get("/").status_code == 200
    with app.app_context():
        stored = db.session.scalars(select(ServerSession.data)).all()
    assert len(stored) == 1 and '"_user_id"' in stored[0]
    assert "_id\"" not in stored[0].replace('"_user_id"', "")
