"""The Indonesian catalogue is complete and current; both languages render."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalog(locale):
    with open(ROOT / "app" / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def source_messages():
    method_map = [("app/**.py", "python"), ("app/**/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", ["id", "en"])
def test_catalogue_holds_every_string_of_the_source(locale):
    in_catalogue = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    missing = sorted(source_messages() - in_catalogue)
    assert missing == [], "run `make translations` and translate the new strings"


def test_every_indonesian_string_is_translated_and_not_fuzzy():
    untranslated = [m.id for m in catalog("id") if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_placeholders_survive_translation():
    broken = []
    for m in catalog("id"):
        if (
            m.id
            and m.string
            and isinstance(m.id, str)
            and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))
        ):
            broken.append(m.id)
    assert broken == []


def test_login_page_in_both_languages(client):
    page = client.get("/masuk").get_data(as_text=True)
    assert 'lang="id"' in page and "Masuk" in page
    client.post("/bahasa", data={"locale": "en", "next": "/masuk"})
    page = client.get("/masuk").get_data(as_text=True)
    assert 'lang="en"' in page and "Sign in" in page


def test_language_choice_is_kept_on_the_account(client, admin_user):
    from tests.fixtures import login_as

    login_as(client, admin_user)
    client.post("/bahasa", data={"locale": "en"})
    assert admin_user.locale == "en"
    assert "Welcome" in client.get("/beranda").get_data(as_text=True)


def test_unknown_language_is_refused(client):
    assert client.post("/bahasa", data={"locale": "fr"}).status_code == 400


@pytest.mark.parametrize("code", [403, 404])
def test_error_pages_in_both_languages(client, admin_user, code):
    from app.core.enums import Role
    from tests.factories import AgencyFactory, UserFactory
    from tests.fixtures import login_as

    user = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])
    login_as(client, user)
    url = "/admin/pengguna" if code == 403 else "/tidak-ada"
    id_page = client.get(url)
    assert id_page.status_code == code
    client.post("/bahasa", data={"locale": "en"})
    en_page = client.get(url)
    assert en_page.status_code == code
    assert id_page.get_data(as_text=True) != en_page.get_data(as_text=True)
    assert 'lang="en"' in en_page.get_data(as_text=True)


# --- app.core.i18n: the request's catalogue found once -----------------------------------------


def test_strings_follow_the_locale_in_force_within_one_request(app):
    from flask import session
    from flask_babel import force_locale, refresh

    from app.core.i18n import gettext, lazy_gettext, ngettext

    later = lazy_gettext("Consent")
    with app.test_request_context():
        refresh()
        assert gettext("Consent") == "Persetujuan"
        assert str(later) == "Persetujuan"
        with force_locale("en"):  # e.g. an e-mail in the recipient's language
            assert gettext("Consent") == "Consent"
            assert str(later) == "Consent"
        assert gettext("Consent") == "Persetujuan"  # and back after it
        assert ngettext("%(num)d case", "%(num)d cases", 3) == "3 kasus"
    with app.test_request_context():
        session["locale"] = "en"  # a visitor who chose English
        refresh()  # (the fixture's application context outlives a request)
        assert gettext("Consent") == "Consent"  # the locale chosen again finds its catalogue


def test_templates_translate_through_the_same_catalogue(app):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context():
        assert render_template_string('{{ _("Consent") }}') == "Persetujuan"
        with force_locale("en"):
            assert render_template_string('{{ _("Consent") }}') == "Consent"


def test_outside_any_application_context_strings_are_left_as_written():
    import threading

    from app.core.i18n import gettext

    found: list[str] = []
    # a new thread starts with no application context (the suite's fixtures hold one here)
    worker = threading.Thread(
        target=lambda: found.extend([gettext("Consent"), gettext("%(n)s cases", n=2)])
    )
    worker.start()
    worker.join()
    assert found == ["Consent", "2 cases"]
