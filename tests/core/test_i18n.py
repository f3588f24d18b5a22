"""Languages: Arabic right-to-left, English, French; every core string translated."""

import re

import pytest

from tools import catalogs


def html_tag(client, **kw):
    body = client.get("/login", **kw).get_data(as_text=True)
    return body[body.index("<html"):body.index(">", body.index("<html")) + 1]


def test_accept_language_picks_the_page_language(client):
    assert 'lang="ar" dir="rtl"' in html_tag(client, headers={"Accept-Language": "ar,fr;q=0.5"})
    assert 'lang="fr" dir="ltr"' in html_tag(client, headers={"Accept-Language": "fr-TN"})
    assert 'lang="en" dir="ltr"' in html_tag(client, headers={"Accept-Language": "de"})


def test_the_switcher_overrides_the_browser(client):
    client.submit("/language", {"language": "ar", "next": "/login"}, page="/login")
    assert 'dir="rtl"' in html_tag(client, headers={"Accept-Language": "fr"})
    assert "تسجيل الدخول" in client.get("/login").get_data(as_text=True)


def test_her_saved_preference_wins(make_user, login_as):
    client = login_as(make_user("amina", locale="fr"))
    page = client.get("/", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'lang="fr"' in page and "Bienvenue" in page


def test_choosing_a_language_when_signed_in_saves_it(app, make_user, login_as):
    from core.extensions import db
    from core.models import User

    amina = make_user("amina")
    login_as(amina).submit("/language", {"language": "ar", "next": "/"}, page="/")
    with app.app_context():
        assert db.session.get(User, amina.id).locale == "ar"


def test_an_unknown_language_or_foreign_target_is_ignored(client):
    response = client.submit("/language", {"language": "xx", "next": "https://evil.example/"},
                             page="/login")
    assert response.location == "/"
    response = client.submit("/language", {"language": "fr", "next": "//evil.example/x"},
                             page="/login")
    assert response.location == "/"


@pytest.mark.parametrize("locale", catalogs.LOCALES)
@pytest.mark.parametrize("package", catalogs.packages(), ids=lambda p: p.name)
def test_every_string_is_translated(package, locale):
    assert catalogs.untranslated(package, locale) == []


def test_each_app_has_its_own_catalogs(make_app):
    """Apps in one process (tests, the demo) must not share translations: a plugin's
    catalog is there for the app that runs the plugin, whatever app translated first."""
    from flask_babel import gettext

    plain = make_app()
    with plain.test_request_context(headers={"Accept-Language": "ar"}):
        assert gettext("Hub operations") == "Hub operations"  # a string of federation's only
    federated = make_app(PLUGINS=["federation"])
    with federated.test_request_context(headers={"Accept-Language": "ar"}):
        assert gettext("Hub operations") == "تشغيل المحور"


def test_the_chosen_language_outlives_the_session(app, make_user, login_as):
    """Chosen on the sign-in page, the language is kept by a cookie of its own that holds the
    language code alone and lasts a year: after sign-out, or in a browser that kept nothing
    else, the sign-in page speaks it."""
    from core.i18n import LANGUAGE_COOKIE

    client = login_as(make_user("amina", role="member"))
    response = client.submit("/language", {"language": "fr", "next": "/"}, page="/")
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith(LANGUAGE_COOKIE + "="))
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=fr;") and "Max-Age=31536000" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    client.submit("/logout", {}, page="/")
    assert 'lang="fr"' in html_tag(client, headers={"Accept-Language": "ar"})
    fresh = app.test_client()
    fresh.set_cookie(LANGUAGE_COOKIE, "fr")
    assert 'lang="fr"' in html_tag(fresh, headers={"Accept-Language": "ar"})
    fresh.set_cookie(LANGUAGE_COOKIE, "xx")  # not a language of this node: ignored
    assert 'lang="ar"' in html_tag(fresh, headers={"Accept-Language": "ar"})


# One French name per concept across packages: the hub is « le pôle régional » everywhere (the
# case pages said so while the federation pages said « hub »).
FRENCH_NAMES = {r"\bhubs?\b": "pôle régional"}


@pytest.mark.parametrize("package", catalogs.packages(), ids=lambda p: p.name)
def test_french_names_each_concept_one_way(package):
    catalog = catalogs.read(catalogs.po_path(package, "fr"), "fr")
    found = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        for text in filter(None, strings):
            found += [(text, name) for pattern, name in FRENCH_NAMES.items()
                      if re.search(pattern, text, re.IGNORECASE)]
    assert found == []


# Templates translate as Jinja's own "new style" does, without the template's context.
TRANSLATED = (
    "{% block words %}{% set shown = 1 %}"
    "{{ _('Sign in') }}|{{ gettext('Hello %(name)s', name=who) }}|"
    "{{ ngettext('%(num)d result', '%(num)d results', n) }}|"
    "{{ ngettext('%(num)d result of %(name)s', '%(num)d results of %(name)s', n, name=who) }}|"
    "{{ pgettext('menu', 'Sign in') }}|{{ npgettext('menu', '%(num)d case', '%(num)d cases', n) }}|"
    "{% trans count=n %}{{ count }} result{% pluralize %}{{ count }} results{% endtrans %}|"
    "{% trans %}Sign in{% endtrans %}|"
    "{% autoescape false %}{{ _('Hello %(name)s', name=who) }}{% endautoescape %}"
    "{% endblock %}"
)
NAMES = ("Salma", "<b>Salma</b> & \"co\"", "سلمى <i>", "%(num)d", "{{ who }}", "O'Brien ‮")


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_templates_translate_as_jinja_new_style_does(app, language):
    """The same text as Jinja's i18n extension with newstyle=True gives, on the same catalog
    (escaping, plural forms, a value with markup, a format string inside a value)."""
    import jinja2
    from flask import render_template_string
    from flask_babel import get_translations

    reference = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    reference.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    template = reference.from_string(TRANSLATED)
    compared = 0
    with app.test_request_context(headers={"Accept-Language": language}):
        for who in NAMES:
            for n in (0, 1, 2, 3, 11, 100, 101):
                ours = render_template_string(TRANSLATED, who=who, n=n)
                assert ours == template.render(who=who, n=n)
                compared += 1
        if language != "en":
            assert render_template_string("{{ _('Sign in') }}") != "Sign in"
    assert compared == len(NAMES) * 7


def test_a_translation_after_a_set_copies_no_context(app, monkeypatch):
    """Jinja copies a template's context for each call of a function that takes it, once a
    block has set a variable: a page translating dozens of words paid for a copy each."""
    import jinja2.runtime
    from flask import render_template_string

    copies = []
    derived = jinja2.runtime.Context.derived
    monkeypatch.setattr(jinja2.runtime.Context, "derived",
                        lambda self, locals=None: copies.append(locals) or derived(self, locals))
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        page = render_template_string(
            "{% block b %}{% set n = 2 %}" + "{{ _('Sign in') }}," * 20
            + "{{ ngettext('%(num)d result', '%(num)d results', n) }}{% endblock %}")
    assert page == "Se connecter," * 20 + "2 résultats"
    assert len(copies) == 0, f"{len(copies)} copies of the context"
