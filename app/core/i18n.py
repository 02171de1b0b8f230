"""Translating strings: Flask-Babel's ``gettext`` family, with the translations of the request
found once instead of at every call.

Flask-Babel looks up its per-request namespace three times for each string it translates (the
domain, the translations, the locale) and turns the locale into a string to find the catalogue:
about 9 context-local lookups per string. A case page translates several hundred strings, so
that lookup was a tenth of the page's time. Here the catalogue found for the request is kept in
Flask-Babel's own namespace beside the locale it belongs to; a different locale in force
(``flask_babel.force_locale``, e.g. for an e-mail in the recipient's language) finds its own.

Import ``gettext``, ``ngettext`` and ``lazy_gettext`` from here rather than from Flask-Babel;
the template callables (``{{ _("…") }}``) are installed by ``init_i18n``. Outside a request or
application context the strings are returned untranslated, as Flask-Babel does.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import LazyString
from flask_babel import get_translations as _babel_translations

_NULL = NullTranslations()
_CACHED = "simpul_translations"


def translations() -> Any:
    """The catalogue of the locale in force for this request (Flask-Babel's, found once)."""
    try:
        space = g._flask_babel
    except (AttributeError, RuntimeError):  # no namespace yet, or no application context
        if not g:
            return _NULL
        return _found()
    cached = space.__dict__.get(_CACHED)
    if cached is not None and cached[0] is space.__dict__.get("babel_locale"):
        return cached[1]
    return _found()


def _found() -> Any:
    found = _babel_translations()  # sets the namespace and its babel_locale
    space = g._flask_babel
    space.__dict__[_CACHED] = (space.__dict__.get("babel_locale"), found)
    return found


def gettext(string: str, **variables: Any) -> str:
    text: str = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    text: str = translations().ungettext(singular, plural, num)
    return text % variables


def pgettext(context: str, string: str, **variables: Any) -> str:
    text: str = translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    return LazyString(gettext, string, **variables)


def lazy_ngettext(singular: str, plural: str, num: int, **variables: Any) -> LazyString:
    return LazyString(ngettext, singular, plural, num, **variables)


def _template_gettext(string: str) -> str:
    text: str = translations().ugettext(string)
    return text


def _template_ngettext(singular: str, plural: str, num: int) -> str:
    text: str = translations().ungettext(singular, plural, num)
    return text


def _template_pgettext(context: str, string: str) -> str:
    text: str = translations().upgettext(context, string)
    return text


def _template_npgettext(context: str, singular: str, plural: str, num: int) -> str:
    text: str = translations().unpgettext(context, singular, plural, num)
    return text


def init_i18n(app: Flask) -> None:
    """Templates translate through the request's catalogue found once (after Flask-Babel's
    ``init_app``, which installs its own callables)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        newstyle=True,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )
