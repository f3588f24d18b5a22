"""Languages: Arabic (right-to-left), English and French; which one each request speaks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Domain, get_locale, get_translations
from flask_login import current_user

from core.extensions import babel

RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})
# Each language is offered in its own name, so anyone can find hers.
NATIVE_NAMES = {"ar": "العربية", "en": "English", "fr": "Français"}
# Her choice of language, kept by her browser for a year: the sign-in page speaks it after
# sign-out or a closed browser, when no session remembers anything. It holds a language code
# and nothing else (an unknown value is ignored).
LANGUAGE_COOKIE = "rabita_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


class _PerAppDomain(Domain):
    """Flask-Babel keeps one translations cache per Babel object, keyed by language only, and
    core's Babel object serves every app in the process: an app whose plugins bring catalogs
    of their own (federation's) would get another app's translations. One cache per app."""

    def get_translations_cache(self, ctx):
        return current_app.extensions.setdefault("rabita.translations", {})


def init_app(app: Flask, translation_directories: list[str]) -> None:
    directories = [str(Path(__file__).parent / "translations"), *translation_directories]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    babel.init_app(app, locale_selector=select_locale)
    babel.domain_instance = _PerAppDomain()
    # Flask-Babel looks the catalog up again for every string a template translates; a page
    # has dozens. Look it up once per request instead.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.context_processor(_language_context)


def _translations():
    if not has_request_context():
        return get_translations()
    found = g.get("rabita_translations")
    if found is None:
        found = g.rabita_translations = get_translations()
    return found


def select_locale() -> str:
    """The user's saved preference, then her choice this session, then the language her
    browser remembers (``LANGUAGE_COOKIE``), then Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered in languages:
        return remembered
    return request.accept_languages.best_match(languages) or default


def remember(response, code: str) -> None:
    """Have her browser keep ``code`` (a language of this node) as her language."""
    response.set_cookie(
        LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_AGE, httponly=True,
        samesite=current_app.config["SESSION_COOKIE_SAMESITE"],
        secure=current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure,
    )


def language() -> str:
    """The language code ("ar", "en", "fr") the current request speaks."""
    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def direction(locale: str) -> str:
    return "rtl" if locale.split("_")[0] in RIGHT_TO_LEFT else "ltr"


def _language_context() -> dict:
    locale = select_locale()
    return {
        "current_locale": locale,
        "text_direction": direction(locale),
        "languages": [
            (code, NATIVE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]
        ],
    }
