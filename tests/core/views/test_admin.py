"""Administration pages: invitations, disabling, roles, second-factor resets, the audit log."""

import re

from sqlalchemy import func, select, update

from core import audit
from core.extensions import db
from core.models import AuditEntry, Invite, ServerSession, User
from core.testing import all_databases
from tests.core.test_audit import drop_append_only_guard

pytestmark = all_databases


def user_row(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def last_audit(app):
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        return entry.action, entry.actor_id, entry.target_id


def invite(client, username, role):
    response = client.submit("/admin/users", {"username": username, "role": role})
    match = re.search(r"https?://[^<\s]+/invite/[A-Za-z0-9_\-]+", response.get_data(as_text=True))
    return match.group(0) if match else response


def test_an_admin_invites_a_documenter_who_joins_and_enrols(app, make_user, login_as):
    admin = make_user("nour", role="admin")
    link = invite(login_as(admin), "salma", "documenter")
    path = link.split("localhost", 1)[1]
    newcomer = app.test_client()
    response = newcomer.submit(path, {"password": "olive tree at dawn", "confirm": "olive tree at dawn"})
    assert response.location.endswith("/login")
    # The link works once.
    assert newcomer.get(path).status_code == 404
    # She signs in and must enrol her second factor before anything else.
    response = newcomer.submit("/login", {"username": "salma", "password": "olive tree at dawn"})
    assert response.location.endswith("/second-factor")
    page = newcomer.get("/second-factor").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
    import pyotp

    response = newcomer.submit("/second-factor", {"code": pyotp.TOTP(secret).now()})
    # Her recovery codes are shown, once, and she is signed in.
    assert len(re.findall(r"<code>\d{4} \d{4} \d{4} \d{4}</code>", response.get_data(as_text=True))) == 10
    assert newcomer.get("/").status_code == 200
    with app.app_context():
        salma = db.session.scalar(select(User).where(User.username == "salma"))
        assert salma.role == "documenter" and salma.totp_secret == secret


def test_only_a_hash_of_the_invitation_is_stored(app, make_user, login_as):
    link = invite(login_as(make_user("nour", role="admin")), "salma", "member")
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalars(select(Invite.token_hash)).all()
    assert len(stored) == 1 and token not in stored[0]


def test_an_expired_invitation_is_refused(app, make_user, login_as, fake_clock):
    link = invite(login_as(make_user("nour", role="admin")), "salma", "member")
    fake_clock.advance(hours=73)
    assert app.test_client().get(link.split("localhost", 1)[1]).status_code == 404


def test_a_bad_invitation_request_changes_nothing(app, make_user, login_as):
    client = login_as(make_user("nour", role="admin"))
    for username, role in [("no spaces allowed", "member"), ("nour", "member"), ("sara", "queen")]:
        response = invite(client, username, role)
        assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invite)) == 0


def test_an_admin_disables_and_enables_a_user(app, make_user, login_as):
    admin, amina = make_user("nour", role="admin"), make_user("amina")
    amina_client = login_as(amina)
    client = login_as(admin)
    client.submit(f"/admin/users/{amina.id}/disable", page="/admin/users")
    assert not user_row(app, amina.id).is_active
    assert amina_client.get("/").status_code == 302
    assert last_audit(app) == ("user.disabled", admin.id, str(amina.id))
    client.submit(f"/admin/users/{amina.id}/enable", page="/admin/users")
    assert user_row(app, amina.id).is_active


def test_the_last_admin_cannot_be_disabled_or_demoted(app, make_user, login_as):
    admin = make_user("nour", role="admin")
    client = login_as(admin)
    response = client.submit(f"/admin/users/{admin.id}/disable", page="/admin/users",
                             follow_redirects=True)
    assert "last active administrator" in response.get_data(as_text=True)
    client.submit(f"/admin/users/{admin.id}/role", {"role": "member"}, page="/admin/users")
    assert user_row(app, admin.id).role == "admin" and user_row(app, admin.id).is_active


def test_a_role_change_signs_her_out_and_may_require_a_second_factor(app, make_user, login_as):
    admin, amina = make_user("nour", role="admin"), make_user("amina")
    amina_client = login_as(amina)
    login_as(admin).submit(f"/admin/users/{amina.id}/role", {"role": "reviewer"}, page="/admin/users")
    assert user_row(app, amina.id).role == "reviewer"
    assert amina_client.get("/").status_code == 302
    response = amina_client.submit("/login", {"username": "amina", "password": amina.password})
    assert response.location.endswith("/second-factor")
    assert amina_client.get("/").location.endswith("/login")


def test_resetting_a_second_factor(app, make_user, login_as):
    from core import recovery

    admin, salma = make_user("nour", role="admin"), make_user("salma", role="documenter")
    with app.app_context():
        recovery.make_new(db.session.get(User, salma.id))
        db.session.commit()
    on_her_phone, on_her_laptop = login_as(salma), login_as(salma)
    client = login_as(admin)
    # The users page leads to a confirmation step; looking at it changes nothing.
    users_page = client.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{salma.id}/reset-second-factor" in users_page
    confirm = client.get(f"/admin/users/{salma.id}/reset-second-factor").get_data(as_text=True)
    assert "Reset the second factor of salma?" in confirm
    assert "Every session of hers ends" in confirm
    assert user_row(app, salma.id).totp_secret is not None
    assert on_her_phone.get("/").status_code == 200
    client.submit(f"/admin/users/{salma.id}/reset-second-factor",
                  page=f"/admin/users/{salma.id}/reset-second-factor")
    assert user_row(app, salma.id).totp_secret is None
    assert last_audit(app) == ("user.second_factor_reset", admin.id, str(salma.id))
    # Every session of hers ended; her recovery codes went with the second factor.
    assert on_her_phone.get("/").status_code == 302 and on_her_laptop.get("/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ServerSession).where(
            ServerSession.user_id == salma.id)) == 0
        assert recovery.left(salma.id) == 0
    # Nothing left to reset: the confirmation page says so instead.
    again = client.get(f"/admin/users/{salma.id}/reset-second-factor", follow_redirects=True)
    assert "This user has no second factor to reset." in again.get_data(as_text=True)


def test_a_reset_needs_the_form_token_and_an_admin(app, make_user, login_as):
    admin, salma = make_user("nour", role="admin"), make_user("salma", role="documenter")
    client = login_as(admin)
    assert client.post(f"/admin/users/{salma.id}/reset-second-factor").status_code == 400
    reviewer = login_as(make_user("huda", role="reviewer"))
    assert reviewer.get(f"/admin/users/{salma.id}/reset-second-factor").status_code == 403
    assert user_row(app, salma.id).totp_secret is not None


def without_tokens(response) -> str:
    """A page with what the language switch carries blanked: its form token, and the page's
    own path (the link it was asked by)."""
    return re.sub(r'name="(csrf_token|next)"[^>]*value="[^"]+"', "",
                  response.get_data(as_text=True))


def test_pending_invitations_are_listed_with_their_expiry_and_revocable(
        app, make_user, login_as, fake_clock):
    admin = make_user("nour", role="admin")
    client = login_as(admin)
    first = invite(client, "salma", "documenter")
    fake_clock.advance(minutes=10)
    invite(client, "rim", "member")
    page = client.get("/admin/users").get_data(as_text=True)
    listed = page.split("Invitations not yet used", 1)[1].split("Everyone on this node", 1)[0]
    assert listed.index("salma") < listed.index("rim")  # the soonest to expire first
    with app.app_context():
        salma_invite = db.session.scalar(select(Invite).where(Invite.username == "salma"))
        expiry, invite_id = salma_invite.expires_at, salma_invite.id
    assert expiry.strftime("%Y-%m-%d %H:%M") in listed
    client.submit(f"/admin/invites/{invite_id}/revoke", page="/admin/users")
    assert last_audit(app) == ("user.invite_revoked", admin.id, str(invite_id))
    # The revoked link gets exactly the answer of a link that never existed.
    revoked = app.test_client().get(first.split("localhost", 1)[1])
    unknown = app.test_client().get("/invite/" + "A" * 43)
    assert revoked.status_code == unknown.status_code == 404
    assert without_tokens(revoked) == without_tokens(unknown)
    listed = client.get("/admin/users").get_data(as_text=True)
    assert "salma" not in listed and "rim" in listed
    # Nor can it be accepted by posting to it.
    posted = app.test_client().submit(first.split("localhost", 1)[1], {
        "password": "olive tree at dawn", "confirm": "olive tree at dawn"})
    assert posted.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "salma")) is None


def test_used_and_expired_invitations_are_not_listed(app, make_user, login_as, fake_clock):
    nour = make_user("nour", role="admin")
    client = login_as(nour)
    link = invite(client, "salma", "member")
    app.test_client().submit(link.split("localhost", 1)[1],
                             {"password": "olive tree at dawn", "confirm": "olive tree at dawn"})
    invite(client, "rim", "member")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Invitations not yet used" in page and "Revoke" in page
    fake_clock.advance(hours=73)
    page = login_as(nour).get("/admin/users").get_data(as_text=True)
    assert "Everyone on this node" in page and "Invitations not yet used" not in page


def test_members_cannot_revoke_invitations(app, make_user, login_as):
    admin = make_user("nour", role="admin")
    invite(login_as(admin), "salma", "member")
    with app.app_context():
        invite_id = db.session.scalar(select(Invite.id))
    member = login_as(make_user("amina"))
    response = member.post(f"/admin/invites/{invite_id}/revoke")
    assert response.status_code in (400, 403)
    with app.app_context():
        assert db.session.get(Invite, invite_id) is not None


def test_an_unknown_action_is_refused(make_user, login_as):
    admin = make_user("nour", role="admin")
    response = login_as(admin).submit(f"/admin/users/{admin.id}/promote-to-queen", page="/admin/users")
    assert response.status_code == 400


def test_members_are_refused_and_the_refusal_is_audited(app, make_user, login_as):
    amina = make_user("amina")
    client = login_as(amina)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert last_audit(app)[:2] == ("access.denied", amina.id)


def test_the_audit_page_shows_an_intact_chain(make_user, login_as):
    client = login_as(make_user("nour", role="admin"))
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "link up" in page and "People: created" in page


def change_entry(app, seq):
    """What an attacker with database access does, once she has dropped the guard."""
    with app.app_context():
        db.session.execute(
            update(AuditEntry).where(AuditEntry.seq == seq).values(details='{"step":"x"}'))
        db.session.commit()


def test_a_long_log_is_checked_from_its_newest_entries_and_whole_on_demand(
        app, make_user, login_as, monkeypatch):
    monkeypatch.setattr("core.views.admin.AUDIT_CHECKED", 5)  # a long log, in small
    client = login_as(make_user("nour", role="admin"))
    with app.app_context():
        for number in range(12):
            audit.record("test.action", target_type="thing", target_id=number)
        db.session.commit()
        total = audit.head_seq()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert f"The newest 5 of {total} entries link up" in page
    with app.app_context():
        drop_append_only_guard()
    change_entry(app, 2)  # older than the newest five
    assert "The chain is broken" not in client.get("/admin/audit").get_data(as_text=True)
    whole = client.get("/admin/audit?check=all").get_data(as_text=True)
    assert "The chain is broken at entry 2" in whole
    change_entry(app, total - 1)  # among the newest: every view sees it
    assert "The chain is broken at entry" in client.get("/admin/audit").get_data(as_text=True)


def test_the_audit_log_reads_in_words(app, make_user, login_as):
    """People by name, actions and details in words — no user id, action code or JSON."""
    nour = make_user("nour", role="admin", locale="fr")
    salma = make_user("salma", role="documenter")
    with app.app_context():
        audit.record("auth.failed", actor=salma.id, step="password")
        audit.record("user.disabled", actor=nour.id, target_type="user", target_id=salma.id)
        audit.record("consent.withdrawn", actor=salma.id, target_type="cases.case",
                     target_id="0f0e0d0c-aaaa", reason="safety")
        db.session.commit()
    page = login_as(nour).get("/admin/audit").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>\d+</td>(.*?)</tr>", page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", "", row) for row in rows)
    assert "salma" in text and "nour" in text
    for code in ("auth.failed", "user.disabled", "consent.withdrawn", "{", '"step"'):
        assert code not in text
    assert re.search(rf">\s*{salma.id}\s*<", " ".join(rows)) is None  # no bare user id
