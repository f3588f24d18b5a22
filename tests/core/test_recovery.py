"""Recovery codes: shown once, each spent once (also by two requests at once), revoked when
new ones are made or the second factor is reset, and nowhere in a copy of the database."""

import re
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import clock, recovery, users
from core.extensions import db
from core.models import AuditEntry, RecoveryCode, User
from core.testing import all_databases

pytestmark = all_databases

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN_ARABIC_INDIC = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def codes_of(app, user_id):
    with app.app_context():
        codes = recovery.make_new(db.session.get(User, user_id))
        db.session.commit()
        return codes


def spend(app, user_id, typed):
    with app.app_context():
        used = recovery.use(db.session.get(User, user_id), typed)
        db.session.commit()
        return used


def digits(code):
    return re.sub(r"\D", "", code)


def test_ten_codes_of_sixteen_digits_each_work_once(app, make_user):
    salma = make_user("salma", role="documenter")
    codes = codes_of(app, salma.id)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", code) for code in codes)
    for code in codes:
        assert spend(app, salma.id, code)
        assert not spend(app, salma.id, code)
    with app.app_context():
        assert recovery.left(salma.id) == 0


def test_a_code_is_hers_only(app, make_user):
    salma, huda = make_user("salma", role="documenter"), make_user("huda", role="reviewer")
    code = codes_of(app, salma.id)[0]
    codes_of(app, huda.id)
    assert not spend(app, huda.id, code)
    assert spend(app, salma.id, code)


def test_new_codes_revoke_the_old_ones(app, make_user):
    salma = make_user("salma", role="documenter")
    old = codes_of(app, salma.id)
    new = codes_of(app, salma.id)
    assert not set(old) & set(new)
    assert not any(spend(app, salma.id, code) for code in old)
    assert spend(app, salma.id, new[3])
    with app.app_context():
        assert recovery.left(salma.id) == 9


def test_a_second_factor_reset_revokes_her_codes(app, make_user):
    nour, salma = make_user("nour", role="admin"), make_user("salma", role="documenter")
    code = codes_of(app, salma.id)[0]
    with app.app_context():
        users.reset_second_factor(db.session.get(User, salma.id),
                                  actor=db.session.get(User, nour.id))
        db.session.commit()
        assert recovery.left(salma.id) == 0
    assert not spend(app, salma.id, code)


@pytest.mark.parametrize("retype", [
    lambda code: code,
    digits,
    lambda code: code.replace(" ", "-"),
    lambda code: code.replace(" ", "\u2013"),  # an en dash, as some keyboards make it
    lambda code: f"  {code}\t",
    lambda code: digits(code).translate(ARABIC_INDIC),
    lambda code: code.translate(EASTERN_ARABIC_INDIC),
    lambda code: code.translate(FULL_WIDTH),
    lambda code: "\u200f" + code.replace(" ", "\u200e \u200e") + "\u200f",  # copied from RTL
    lambda code: code.replace(" ", "\u00a0"),
], ids=["as-shown", "digits", "dashes", "en-dashes", "spaces-around", "arabic-indic",
        "eastern-arabic-indic", "full-width", "bidi-marks", "no-break-spaces"])
def test_a_code_is_accepted_however_it_is_typed(app, make_user, retype):
    salma = make_user("salma", role="documenter")
    code = codes_of(app, salma.id)[0]
    assert spend(app, salma.id, retype(code))


@pytest.mark.parametrize("spoil", [
    lambda code: digits(code)[:-1],  # a digit short
    lambda code: digits(code) + "0",  # a digit too many
    lambda code: digits(code)[:-1] + str((int(digits(code)[-1]) + 1) % 10),
    lambda code: digits(code)[:8] + "O" + digits(code)[9:],  # a letter O for a zero
    lambda code: code + " " * 60,
    lambda code: "",
], ids=["short", "long", "one-digit-off", "letter", "overlong", "empty"])
def test_anything_else_is_refused_and_spends_nothing(app, make_user, spoil):
    salma = make_user("salma", role="documenter")
    code = codes_of(app, salma.id)[0]
    assert not spend(app, salma.id, spoil(code))
    with app.app_context():
        assert recovery.left(salma.id) == 10


def test_two_uses_of_one_code_at_once_give_one_success(app, make_user):
    salma = make_user("salma", role="documenter")
    code = codes_of(app, salma.id)[0]
    attempts = 8
    start = threading.Barrier(attempts)
    results = []

    def attempt():
        with app.app_context():
            user = db.session.get(User, salma.id)
            start.wait()
            results.append(recovery.use(user, code))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * (attempts - 1) + [True]


def test_the_audit_log_says_codes_were_made_but_holds_none(app, make_user):
    salma = make_user("salma", role="documenter")
    codes = codes_of(app, salma.id)
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "auth.recovery_codes_made" and entry.target_id == str(salma.id)
        stored = " ".join(f"{e.details} {e.target_id}" for e in db.session.scalars(
            select(AuditEntry)))
    for code in codes:
        assert digits(code) not in stored and code.split()[0] not in stored


def test_no_code_can_be_read_from_a_copy_of_the_database(app, make_user, db_backend,
                                                         database_url, tmp_path):
    salma = make_user("salma", role="documenter")
    codes = codes_of(app, salma.id)
    spend(app, salma.id, codes[0])  # a used one is deleted: not in the WAL either
    with app.app_context():
        stored = db.session.scalars(select(RecoveryCode.code_mac)).all()
        assert len(stored) == 9
    copy = database_copy(db_backend, database_url, tmp_path)
    assert len(copy) > 10_000  # a real copy: the tables are in it
    for code in codes:
        for form in (digits(code), code, code.replace(" ", "-")):
            assert form.encode() not in copy
        # nor its digits in any other encoding a database might use
        assert digits(code).encode("utf-16-le") not in copy


def database_copy(db_backend, database_url, tmp_path) -> bytes:
    """Everything an attacker who copies the database gets: the SQLite file and its WAL, or
    a PostgreSQL dump."""
    if db_backend == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    url, _, options = database_url.partition("?")
    schema = re.search(r"search_path%3D(\w+)", options).group(1)
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    dumped = subprocess.run(["pg_dump", "--schema", schema, plain], capture_output=True,
                            check=True)
    return dumped.stdout


def test_the_table_holds_one_row_per_unused_code(app, make_user):
    salma = make_user("salma", role="documenter")
    codes_of(app, salma.id)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 10


# -- through the pages -----------------------------------------------------------------------

def sign_in(client, person, password=None):
    return client.submit("/login", {"username": person.username,
                                    "password": password or person.password})


def shown_codes(page: str) -> list[str]:
    return re.findall(r"<code>(\d{4} \d{4} \d{4} \d{4})</code>", page)


def enrol(client, page="/second-factor"):
    """Turn on a second factor on the enrolment page; return its secret and the codes shown."""
    import pyotp

    form = client.get(page).get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", form).group(1).replace(" ", "")
    response = client.submit(page, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    return secret, shown_codes(response.get_data(as_text=True))


def actions(app):
    with app.app_context():
        return [(e.action, e.details) for e in db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq))]


def test_enrolment_shows_codes_once_and_one_signs_her_in(app, make_user, db_backend,
                                                         database_url, tmp_path):
    salma = make_user("salma", role="documenter", second_factor=False)
    client = app.test_client()
    assert sign_in(client, salma).location.endswith("/second-factor")
    _secret, codes = enrol(client)
    assert len(codes) == 10
    assert client.get("/").status_code == 200  # signed in, with her second factor on
    assert not shown_codes(client.get("/account/").get_data(as_text=True))  # shown once
    # Her phone is lost: she signs in with a code instead of the six digits.
    other = app.test_client()
    assert sign_in(other, salma).location.endswith("/login/code")
    response = other.submit("/login/code", {"code": codes[4]})
    assert response.location.endswith("/account/")
    page = other.get("/account/").get_data(as_text=True)
    assert "You signed in with a recovery code. 9 codes are left." in page
    assert "9 unused recovery codes." in page
    used = [details for action, details in actions(app) if action == "auth.recovery_code_used"]
    assert len(used) == 1 and '"left":9' in used[0].replace(" ", "")
    assert all(digits(code) not in str(actions(app)) for code in codes)
    # The same code never works again.
    again = app.test_client()
    sign_in(again, salma)
    assert again.submit("/login/code", {"code": codes[4]}).location.endswith("/login/code")
    assert again.get("/").status_code == 302
    # Sessions are database rows: none of them, nor anything else, holds a code.
    copy = database_copy(db_backend, database_url, tmp_path)
    assert not any(digits(code).encode() in copy or code.encode() in copy for code in codes)


def test_recovery_codes_are_under_the_throttle_of_codes(app, make_user):
    salma = make_user("salma", role="documenter")
    code = codes_of(app, salma.id)[0]
    client = app.test_client()
    sign_in(client, salma)
    wrong = "1234 5678 9012 3456"
    for _ in range(5):
        client.submit("/login/code", {"code": wrong})
    client.submit("/login/code", {"code": code})
    assert client.get("/").status_code == 302  # held: even the right code is not evaluated
    with app.app_context():
        assert recovery.left(salma.id) == 10  # and not spent
    assert [a for a, _ in actions(app)].count("auth.throttled") >= 1


def test_after_a_recovery_code_she_replaces_her_phone(app, make_user):
    import pyotp

    salma = make_user("salma", role="documenter")
    old_codes = codes_of(app, salma.id)
    client = app.test_client()
    sign_in(client, salma)
    client.submit("/login/code", {"code": old_codes[0]})
    secret, new_codes = enrol(client)
    assert secret != salma.totp_secret and len(new_codes) == 10
    with app.app_context():
        assert db.session.get(User, salma.id).totp_secret == secret
    assert not any(spend(app, salma.id, code) for code in old_codes[1:])
    # The lost phone's codes no longer open her account; the new phone's do.
    other = app.test_client()
    sign_in(other, salma)
    other.submit("/login/code", {"code": salma.code()})
    assert other.get("/").status_code == 302
    sign_in(other, salma)
    next_step = clock.now().timestamp() + 30  # the enrolment spent this step's code
    other.submit("/login/code", {"code": pyotp.TOTP(secret).at(next_step)})
    assert other.get("/").status_code == 200


def test_without_a_recovery_code_the_second_factor_is_not_replaced_by_her(app, make_user):
    salma = make_user("salma", role="documenter")
    client = app.test_client()
    sign_in(client, salma)
    client.submit("/login/code", {"code": salma.code()})
    assert client.get("/second-factor").location.endswith("/")
    with app.app_context():
        assert db.session.get(User, salma.id).totp_secret == salma.totp_secret


def test_she_makes_new_codes_with_her_password(app, make_user, login_as):
    salma = make_user("salma", role="documenter")
    old = codes_of(app, salma.id)
    client = login_as(salma)
    refused = client.submit("/account/", {"codes-password": "not her password",
                                          "codes-submit": "1"})
    assert "The current password is not right." in refused.get_data(as_text=True)
    assert not shown_codes(refused.get_data(as_text=True))
    with app.app_context():
        assert recovery.left(salma.id) == 10
    response = client.submit("/account/", {"codes-password": salma.password,
                                           "codes-submit": "1"})
    new = shown_codes(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    assert not spend(app, salma.id, old[0])
    assert spend(app, salma.id, new[0])


def test_a_lost_phone_and_a_held_account_still_let_her_in_with_a_recovery_code(make_app):
    """A stranger's failures hold her account; her phone is lost too: her password and one
    recovery code on the sign-in page open it, once."""
    from core.testing import add_person

    app = make_app(PROXY_COUNT=1)
    with app.app_context():
        salma = add_person("salma", "documenter")
    code = codes_of(app, salma.id)[0]
    stranger = app.test_client()
    stranger.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.66"
    for _ in range(8):
        sign_in(stranger, salma, password="a guess at her password")
    # The stranger's guesses with a recovery-code shape get the answer of the hold too.
    guessed = stranger.submit("/login", {"username": "salma", "password": "a guess",
                                         "code": "1234 5678 9012 3456"})
    assert guessed.status_code == 429
    her = app.test_client()
    her.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.10"
    assert sign_in(her, salma).status_code == 429
    wrong_password = her.submit("/login", {"username": "salma", "password": "not hers at all",
                                           "code": code})
    assert wrong_password.status_code == 429
    with app.app_context():
        assert recovery.left(salma.id) == 10  # a wrong password spends no code
    opened = her.submit("/login", {"username": "salma", "password": salma.password,
                                   "code": code})
    assert opened.status_code == 302 and opened.location.endswith("/account/")
    assert "9 codes are left" in her.get("/account/").get_data(as_text=True)
    logged = [action for action, _ in actions(app)]
    assert "auth.held_account_opened" in logged and "auth.recovery_code_used" in logged
    again = app.test_client()
    again.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.11"
    assert again.submit("/login", {"username": "salma", "password": salma.password,
                                   "code": code}).status_code == 429
