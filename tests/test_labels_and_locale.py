"""Every label a label, every page in one language (issue #17 item 8).

Over the demo data, as every demo user and in both languages, the pages are crawled — every GET
route without parameters (from the URL map, so a new page is crawled without touching this
file) and every link those pages lead to, a few pages of each route — and so are the monthly
reports (XLSX cells, PDF text) and the e-mails. In the text a person reads (tags, scripts, styles
and attributes stripped) the test looks for:

- raw codes: a ``snake_case`` word, a vocabulary code (every value of every ``StrEnum`` of the
  application) standing as a word where it is not a word of that language, or a code made to look
  like a label ("Pacar teman" for ``pacar_teman``), and agency codes ("RSUD-3273") outside the
  administration pages;
- dates not in the locale's one style ("7 Des 2026" / "7 Dec 2026"): ``7/12/26``, ``12/7/26``,
  ISO ``2026-11-28``, US ``Dec 7, 2026``;
- status badges starting with a lower-case letter;
- the other language's words (a short list of each) on a page: Indonesian words on English pages
  and English words on Indonesian pages. Text people typed (the kronologi, notes, names) is
  neither: templates mark it ``data-free-text`` and the test skips it.

It fails with the offences of each page.
"""

from __future__ import annotations

import enum
import importlib
import io
import pkgutil
import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from werkzeug.exceptions import HTTPException

import app as app_package
from app.demo import data
from tests.fixtures import login_as
from tests.test_pages import post_form

HREF = re.compile(r'href="(/[^"#]*)"')
PAGES_PER_ROUTE = 2  # a route's pages differ by their data, not by their words
MAX_PAGES = 160
SKIPPED_PATHS = ("/keluar", "/static/")
# administration pages name agencies by their code on purpose (the code is what is edited there)
CODE_PAGES = ("/admin",)

# --- what people read ---------------------------------------------------------------------------

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


# not read as text: scripts and styles; what people typed (a textarea's content) and literals
# to type as they are (<code>: a CSV header, an agency's code on the administration pages)
SKIPPED_TAGS = frozenset({"script", "style", "template", "textarea", "code"})


class VisibleText(HTMLParser):
    """The text of a page a person reads, one string per element's run of text: no tags, no
    attributes, nothing of ``SKIPPED_TAGS``, nothing inside ``data-free-text`` (what people
    typed). Badges (``class="badge ..."``) are collected on their own too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.badges: list[str] = []
        self._skip: list[str] = []  # the open tags of a skipped subtree (script, free text)
        self._badge: list[str] = []  # the open tags of a badge
        self._badge_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        names = dict(attrs)
        if self._skip:
            self._skip.append(tag)
            return
        if tag in SKIPPED_TAGS or "data-free-text" in names:
            self._skip.append(tag)
            return
        if self._badge:
            self._badge.append(tag)
        elif "badge" in (names.get("class") or "").split():
            self._badge.append(tag)
            self._badge_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self._skip:
            self._skip.pop()
            return
        if self._badge:
            self._badge.pop()
            if not self._badge:
                text = " ".join("".join(self._badge_text).split())
                if text:
                    self.badges.append(text)

    def handle_data(self, text: str) -> None:
        if self._skip:
            return
        if self._badge:
            self._badge_text.append(text)
        text = " ".join(text.split())
        if text:
            self.texts.append(text)


def visible(page: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(page)
    parser.close()
    return parser


# --- what is wrong in it ------------------------------------------------------------------------

SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-])")
DATE_SLASHES = re.compile(r"(?<![\w/])\d{1,2}/\d{1,2}/\d{2,4}(?![\w/])")
DATE_ISO = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])")
DATE_US = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}\b"
)
URL = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # links and e-mail addresses
WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-zÀ-ÿ]+)*")

# Words of one language that have no place in the other's pages (case-sensitive: a capitalised
# word may be a name, "Korban" in an agency's name).
INDONESIAN_WORDS = frozenset(
    {
        *("yang", "tidak", "belum", "sudah", "dengan", "untuk", "oleh", "pada", "atau"),
        *("orang", "jam", "hari", "menit", "rujukan", "dirahasiakan", "korban", "kasus"),
        *("layanan", "tanggal", "terlambat", "selesai"),
    }
)
ENGLISH_WORDS = frozenset(
    {
        *("the", "and", "with", "not", "has", "been", "from", "this", "of", "by"),
        *("hidden", "people", "hours", "days", "minutes", "referrals", "overdue"),
    }
)


def vocabularies() -> dict[str, set[str]]:
    """Every value of every vocabulary of the application, with the vocabularies naming it."""
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        if module.name.endswith((".labels", ".enums", ".models")):
            importlib.import_module(module.name)
    found: dict[str, set[str]] = defaultdict(set)
    pending = list(enum.StrEnum.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__module__.startswith(("app.", "workflows.")):
            continue
        for member in cls:
            found[member.value].add(cls.__name__)
    return found


def catalogue_texts(locale: str) -> list[str]:
    """What the pages in ``locale`` say: the catalogue's translations (the English catalogue's
    message ids too)."""
    path = Path(app_package.__file__).parent / "translations" / locale / "LC_MESSAGES/messages.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    texts: list[str] = []
    for message in catalogue:
        texts += [message.string] if isinstance(message.string, str) else list(message.string)
        if locale == "en":
            texts += [message.id] if isinstance(message.id, str) else list(message.id)
    return [t for t in texts if t]


class Checker:
    def __init__(self, agency_codes: set[str]) -> None:
        codes = vocabularies()
        texts = {locale: catalogue_texts(locale) for locale in ("id", "en")}
        self.words = {
            locale: {w.lower() for text in texts[locale] for w in WORD.findall(text)}
            for locale in ("id", "en")
        }
        said = {locale: "\n".join(texts[locale]).lower() for locale in ("id", "en")}
        # a code standing alone reads as a code when it is not a word of the page's language
        self.single = {
            locale: {
                code
                for code in codes
                if len(code) > 2 and "_" not in code and code.lower() not in self.words[locale]
            }
            for locale in ("id", "en")
        }
        # a code dressed as a label ("Pacar teman", "Suami istri") where the language has no such
        # words (in Bahasa Indonesia many labels are the words their code was made of)
        self.dressed = {
            locale: {
                code.replace("_", " ").capitalize(): code
                for code in codes
                if "_" in code and code.replace("_", " ") not in said[locale]
            }
            for locale in ("id", "en")
        }
        self.agency_codes = agency_codes

    def offences(
        self, texts: list[str], locale: str, *, badges: tuple[str, ...] = (), path: str = ""
    ) -> list[str]:
        found: list[str] = []
        other = INDONESIAN_WORDS if locale == "en" else ENGLISH_WORDS
        for text in texts:
            text = URL.sub("", text)
            for code in SNAKE.findall(text):
                found.append(f"raw code {code!r} in {text[:80]!r}")
            for word in WORD.findall(text):
                if word in self.single[locale]:
                    found.append(f"raw code {word!r} in {text[:80]!r}")
                if word in other:
                    found.append(f"other language's word {word!r} in {text[:80]!r}")
            for dressed, code in self.dressed[locale].items():
                if re.search(rf"(?<!\w){re.escape(dressed)}(?!\w)", text):
                    found.append(f"code {code!r} shown as {dressed!r} in {text[:80]!r}")
            for pattern in (DATE_SLASHES, DATE_ISO, DATE_US):
                for date in pattern.findall(text):
                    found.append(f"date {date!r} not in the locale's style in {text[:80]!r}")
            if not path.startswith(CODE_PAGES):
                for code in self.agency_codes:
                    if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text):
                        found.append(f"agency code {code!r} instead of its name in {text[:80]!r}")
        for badge in badges:
            if badge[:1].islower():
                found.append(f"lower-case badge {badge!r}")
        return found


@pytest.fixture(scope="module")
def checker(demo_app):
    from app.agencies.models import Agency
    from app.extensions import db

    with demo_app.app_context():
        codes = set(db.session.scalars(sa.select(Agency.code)))
        return Checker(codes)


# --- the pages ----------------------------------------------------------------------------------


def start_urls(app) -> list[str]:
    """Every GET route without parameters (a new page is crawled without a change here)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.endpoint == "static":
            continue
        if rule.rule.startswith(SKIPPED_PATHS):
            continue
        urls.append(rule.rule)
    return sorted(urls)


def crawl(app, client, locale: str, checker: Checker) -> tuple[dict[str, list[str]], int]:
    """The offences of each page reached from the home page and the routes without parameters;
    and the number of pages read."""
    adapter = app.url_map.bind("localhost")
    per_route: dict[str, int] = defaultdict(int)
    queue = ["/beranda", *start_urls(app)]
    seen: set[str] = set()
    offences: dict[str, list[str]] = {}
    pages = 0
    while queue and pages < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        path = urlsplit(url).path
        try:
            endpoint, _args = adapter.match(path, method="GET")
        except HTTPException:  # not a page of the application (or POST only, or a redirect)
            continue
        if per_route[endpoint] >= PAGES_PER_ROUTE:
            continue
        per_route[endpoint] += 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        pages += 1
        page = response.get_data(as_text=True)
        text = visible(page)
        found = checker.offences(text.texts, locale, badges=tuple(text.badges), path=path)
        if found:
            offences[url] = sorted(set(found))
        for href in HREF.findall(page):
            href = href.replace("&amp;", "&")
            if href.startswith(SKIPPED_PATHS) or href in seen:
                continue
            queue.append(href)
    return offences, pages


def report(offences: dict[str, list[str]]) -> str:
    return "\n".join(
        f"{where}:\n  " + "\n  ".join(found) for where, found in sorted(offences.items())
    )


@pytest.mark.demo_database
@pytest.mark.parametrize("email", [u[0] for u in data.USERS])
@pytest.mark.parametrize("locale", ["id", "en"])
def test_pages_show_labels_in_one_language(demo_app, checker, email, locale):
    from app.auth.models import User
    from app.extensions import db, limiter

    with demo_app.app_context():
        limiter.reset()
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None, email
        client = login_as(demo_app.test_client(), user)
    assert post_form(client, "/beranda", "/bahasa", {"locale": locale}).status_code == 302
    try:
        offences, pages = crawl(demo_app, client, locale, checker)
    finally:
        post_form(client, "/beranda", "/bahasa", {"locale": "id"})
    assert pages >= 2
    assert not offences, f"{email} ({locale}), {len(offences)} pages:\n{report(offences)}"


# --- the reports and the e-mails ----------------------------------------------------------------


def _report_region(demo_app):
    from app.extensions import db
    from app.indicators.models import IndicatorValue

    row = db.session.execute(
        sa.select(IndicatorValue.region_id, IndicatorValue.period)
        .where(sa.func.length(IndicatorValue.period) == 7)
        .order_by(IndicatorValue.period.desc())
        .limit(1)
    ).first()
    assert row is not None, "the demo has no monthly indicator values"
    return row


def _readable(sheet: str, row) -> list:
    """A row of the report without the one column of codes: the definitions' "Kode" (the
    identifier of each indicator, as the JSON of the indicators names it), where the code is the
    point; the name is beside it."""
    row = list(row)
    return row[1:] if sheet == "Definisi" and row and row[0] != "Kode" else row


@pytest.mark.demo_database
def test_reports_show_labels(demo_app, checker):
    """The monthly report (Bahasa Indonesia only) as XLSX cells and PDF text."""
    from openpyxl import load_workbook

    from app.indicators.report import build_report, render_xlsx
    from app.indicators.report.pdf import _pdf_text

    with demo_app.test_request_context():
        region_id, period = _report_region(demo_app)
        built = build_report(region_id, period, lambda _n: None)
        workbook = load_workbook(io.BytesIO(render_xlsx(built)), read_only=True)
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in _readable(sheet.title, row)
            if value is not None
        ]
    # the PDF's text is not extractable (fpdf2 writes glyph ids): what it prints, as it prints it
    pdf_lines = [built.title, built.subtitle]
    for section in built.sections:
        pdf_lines += [section.title, *section.lines]
        for table in section.tables:
            pdf_lines += [table.title or "", *table.header]
            pdf_lines += [
                _pdf_text(value) for row in table.rows for value in _readable(section.sheet, row)
            ]
    assert cells and pdf_lines
    offences = {}
    for name, texts in (("xlsx", cells), ("pdf", pdf_lines)):
        found = checker.offences(texts, "id")
        if found:
            offences[name] = sorted(set(found))
    assert not offences, report(offences)


@pytest.mark.demo_database
@pytest.mark.parametrize("locale", ["id", "en"])
def test_emails_show_labels(demo_app, checker, locale):
    """The e-mail copy of every notification of the demo, and of every kind of notification."""
    from app.extensions import db
    from app.notifications.labels import KINDS
    from app.notifications.models import Notification
    from app.notifications.tasks import compose

    with demo_app.test_request_context():
        notes = list(db.session.scalars(sa.select(Notification).limit(200)))
        examples = {n.kind: n for n in notes}
        assert notes
        offences = {}
        for note in notes:
            subject, body = compose(note, locale)
            found = checker.offences([subject, *body.splitlines()], locale)
            if found:
                offences[f"notification {note.id} ({note.kind})"] = sorted(set(found))
        for kind in KINDS:
            note = examples.get(kind) or Notification(kind=kind, user_id=notes[0].user_id)
            subject, _body = compose(note, locale)
            found = checker.offences([subject], locale)
            if found:
                offences[f"kind {kind}"] = sorted(set(found))
    assert not offences, report(offences)
