"""Languages: Arabic (right-to-left), English and French; which one each request speaks."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Domain, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

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
    # Templates translate through TEMPLATE_GETTEXT: Jinja's "new style" (a translation is
    # always a format string, its values escaped), with the catalog looked up once per request.
    app.jinja_env.newstyle_gettext = True  # how {% trans %} blocks call them
    app.jinja_env.globals.update(TEMPLATE_GETTEXT)
    app.context_processor(_language_context)


# What Jinja's i18n extension installs with ``newstyle=True``, but given the evaluation
# context (whether the template escapes) rather than the template's context: Jinja makes a
# copy of a template's context for each call of a function that takes it once a block has
# set a variable (``Context.call``), and its ``_`` was an alias calling ``gettext`` through
# the context again — a page paid for both on each of its dozens of words. Flask-Babel's own
# callables also looked the catalog up again for every word; ``_translations`` keeps it for
# the request.


@pass_eval_context
def _gettext(eval_ctx: EvalContext, string: str, **variables) -> str:
    return _formatted(eval_ctx, _translations().ugettext(string), variables)


@pass_eval_context
def _ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, _translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _pgettext(eval_ctx: EvalContext, context: str, string: str, **variables) -> str:
    variables.setdefault("context", context)
    return _formatted(eval_ctx, _translations().upgettext(context, string), variables)


@pass_eval_context
def _npgettext(eval_ctx: EvalContext, context: str, singular: str, plural: str, num: int,
               **variables) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _formatted(eval_ctx, _translations().unpgettext(context, singular, plural, num),
                      variables)


def _formatted(eval_ctx: EvalContext, translated: str, variables: dict) -> str:
    """Always a format string (as Jinja's new style): in an escaping template a Markup,
    so the values put into it are escaped."""
    if eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 - the catalog's text, values escaped by %
    return translated % variables


TEMPLATE_GETTEXT = {"_": _gettext, "gettext": _gettext, "ngettext": _ngettext,
                    "pgettext": _pgettext, "npgettext": _npgettext}


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
