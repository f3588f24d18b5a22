"""Usernames: one normal form for lookup, throttle, invitations and new accounts."""

import unicodedata

import pytest

from core import users
from core.extensions import db
from core.testing import all_databases


def written_otherwise(name):
    """Ways people and keyboards write ``name``, built here from Unicode's own tables rather
    than from the normalisation under test: compatibility letters (each character whose
    NFKD decomposition is a letter of the name), cases, spaces of every kind around it,
    invisible format characters inside it."""
    compatible = {}
    for point in range(0x10000):
        char = chr(point)
        decomposed = unicodedata.normalize("NFKD", char)
        if len(decomposed) == 1 and decomposed.lower() in name and char != decomposed:
            compatible.setdefault(decomposed.lower(), []).append(char)
    spaces = [chr(p) for p in range(0x3100) if chr(p).isspace()]
    forms = {name.upper(), name.title(), "\u200b".join(name), name[:2] + "\u2060" + name[2:]}
    for letter, others in compatible.items():
        for other in others:
            forms.add(name.replace(letter, other))
    forms |= {space + name + space for space in spaces}
    return sorted(forms - {name})


def test_written_otherwise_covers_what_the_issue_names():
    forms = written_otherwise("amina")
    assert "\u3000amina\u3000" in forms and "\tamina\t" in forms and "AMINA" in forms
    assert any("\uff41" in form for form in forms)  # a fullwidth letter


@all_databases
def test_every_way_of_writing_a_name_finds_her(app_context, make_user):
    amina = make_user("amina")
    for form in written_otherwise("amina"):
        found = users.find(form)
        assert found is not None and found.id == amina.id, repr(form)


@all_databases
@pytest.mark.parametrize("action", ["create", "invite"])
def test_a_name_another_account_already_has_in_normal_form_is_refused(app, make_user, action):
    make_user("amina")
    admin = make_user("nour", role="admin")
    with app.test_request_context():
        actor = db.session.get(users.User, admin.id)
        for form in written_otherwise("amina")[:40]:
            with pytest.raises(users.UserError, match="already taken"):
                if action == "create":
                    users.create(form, "a long enough password", "member")
                else:
                    users.invite(form, "member", actor=actor)
        db.session.rollback()
        assert db.session.query(users.User).count() == 2


@all_databases
def test_a_pending_invitation_holds_its_name_in_every_spelling(app, make_user):
    admin = make_user("nour", role="admin")
    with app.test_request_context():
        users.invite("Salma", "member", actor=db.session.get(users.User, admin.id))
        db.session.commit()
        with pytest.raises(users.UserError, match="already taken"):
            users.create("ＳＡＬＭＡ\u3000", "a long enough password", "member")


@all_databases
def test_a_name_typed_in_fullwidth_letters_is_stored_in_its_normal_form(app_context):
    user = users.create("\u3000ＨＵＤＡ\t", "a long enough password", "member")
    assert user.username == "huda"
