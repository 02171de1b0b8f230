"""Every page on a 360 px phone, for each kind of user: no sideways scroll, and axe-core finds
no serious or critical accessibility violation.

The pages are not listed here: the crawl starts at the home page and follows the same-origin
links of each page it visits (a breadth-first walk), so a page added later is checked as soon as
a link reaches it. Links are grouped by their route pattern (the endpoint of the application
that answers them, and the names of their query): only the first ``PER_PATTERN`` pages of a
pattern and the first ``PER_PATH`` query variants of an endpoint are visited (two case pages
stand for all of them).
Downloads (exports, files, PDFs) and JSON are not pages and are left out.

axe-core is vendored (app/static/vendor/axe-core-*/) and injected by the test only; the
application never serves it to a page.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from app.demo import data
from tests.e2e.conftest import ROOT, screenshot

pytestmark = pytest.mark.e2e

AXE = next((ROOT / "app" / "static" / "vendor").glob("axe-core-*/axe.min.js"))
# Evaluated through the DevTools protocol: the page's Content-Security-Policy (scripts of the
# site or with the page's nonce) would refuse it as a <script> tag (page.add_script_tag).
AXE_SOURCE = AXE.read_text(encoding="utf-8")
PHONE = {"width": 360, "height": 780}
PER_PATTERN = 2  # pages visited of one route pattern (the rest look the same)
PER_PATH = 3  # query variants of one path (its sort orders, pages, tabs: the same template)
MAX_PAGES = 80  # per user: a guard against a crawl that never ends (a page linking to itself
# with an ever-changing query); reaching it fails the test rather than leaving pages unchecked
ROLES = {
    "pengaduan": "pengaduan@simpul.demo",  # intake officer
    "manajer": "manajer@simpul.demo",  # counselor / case manager
    "supervisor": "supervisor@simpul.demo",
    "koordinator": "koordinator@simpul.demo",  # Sub GT coordinator
    "analis": "analis@simpul.demo",  # data officer
    "admin": "admin@simpul.demo",
    "rsud": "rsud@simpul.demo",  # a partner agency's service officer (the referral inbox)
}
# Not pages: downloads, machine-readable answers, and what a GET link must not trigger.
SKIP_PATH = re.compile(
    r"^/static/|\.(json|csv|xlsx|pdf|png|jpe?g|svg|zip|txt)$|/(ekspor|unduh|berkas|lampiran)(/|$)"
    r"|/export|/download|/keluar"
)
# A path segment that is an id or a token: numbers, long hex or random strings, dates.
ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f]{8,}|[A-Za-z0-9_-]{20,}|\d{4}-\d{2}(-\d{2})?)$")
SEVERE = ("serious", "critical")
# A demo case whose victim has a guardian who is also an alleged perpetrator (a long warning badge)
GUARDIAN_CASE = "UPTDPPA-3273-2025-00002"
# The page's width, the screen's, and what sticks out on the right (elements, and the text of
# elements: a long word or e-mail address that does not wrap), the innermost last.
WIDTHS = """() => {
  const limit = window.innerWidth + 0.5, wide = [];
  if (document.documentElement.scrollWidth <= window.innerWidth) return [0, 0, []];
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map(c => '.' + c).join('')
    + ' "' + (e.textContent || '').trim().slice(0, 40) + '"';
  // inside a box that scrolls or clips (a .table-responsive) nothing widens the page
  const contained = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    return false;
  };
  for (const e of document.querySelectorAll('body *')) {
    if (contained(e)) continue;
    if (e.getBoundingClientRect().right > limit) { wide.push(name(e)); continue; }
    for (const n of e.childNodes) {
      if (n.nodeType !== Node.TEXT_NODE || !n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      if (range.getBoundingClientRect().right > limit) { wide.push('text in ' + name(e)); break; }
    }
  }
  return [document.documentElement.scrollWidth, window.innerWidth, wide.slice(-3)];
}"""


def pattern_of(url: str, routes: MapAdapter) -> str:
    """The route pattern of a URL: the application's endpoint that answers it (any id or slug
    in the path is one of its arguments), the query's names sorted. A path the map does not
    know keeps its segments, ids replaced by ``<id>``."""
    parts = urlsplit(url)
    try:
        path, _arguments = routes.match(parts.path, method="GET")
    except HTTPException:
        path = "/".join("<id>" if ID_SEGMENT.match(s) else s for s in parts.path.split("/"))
    names = sorted({name for name, _value in parse_qsl(parts.query, keep_blank_values=True)})
    return path + ("?" + "&".join(names) if names else "")


def links_of(page: Any, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.href)"
    )
    found = []
    for href in hrefs:
        url = urldefrag(href).url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base or SKIP_PATH.search(parts.path):
            continue
        found.append(url)
    return found


def check_page(page: Any) -> list[str]:
    """What is wrong with the page shown: sideways scroll and axe's serious/critical findings."""
    problems = []
    widths = page.evaluate(WIDTHS)
    scroll_width, inner_width, wide = widths
    if scroll_width > inner_width:
        problems.append(
            f"scrolls sideways: {scroll_width} px on {inner_width} px; wider than the screen: "
            + " | ".join(wide)
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 4)})))"
    )
    for v in results:
        if v["impact"] in SEVERE:
            problems.append(f"axe {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}")
    return problems


def sign_in(page: Any, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/masuk")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(data.DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{base}/beranda")


def crawl(page: Any, base: str, routes: MapAdapter) -> tuple[dict[str, list[str]], list[str]]:
    """Visit the pages reachable from the home page; returns the problems per page and the
    pages visited."""
    problems: dict[str, list[str]] = {}
    visited: list[str] = []
    seen_urls: set[str] = set()
    per_pattern: dict[str, int] = {}
    variants: dict[str, set[str]] = {}
    queue = deque([f"{base}/beranda"])
    while queue:
        url = queue.popleft()
        if url in seen_urls:
            continue
        seen_urls.add(url)
        pattern = pattern_of(url, routes)
        if per_pattern.get(pattern, 0) >= PER_PATTERN:
            continue
        path_variants = variants.setdefault(pattern.split("?")[0], set())
        if pattern not in path_variants and len(path_variants) >= PER_PATH:
            continue
        path_variants.add(pattern)
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        assert len(visited) < MAX_PAGES, f"more than {MAX_PAGES} pages: {visited}"
        response = page.goto(url)
        visited.append(url)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 400:
            problems[url] = [f"answered {response.status} to a link the user was shown"]
            continue
        found = check_page(page)
        if found:
            problems[url] = found
        queue.extend(u for u in links_of(page, base) if u not in seen_urls)
    return problems, visited


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_a_phone_and_passes_axe(
    live_server: str, page: Any, app: Flask, role: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, ROLES[role])
    started = time.process_time()
    # the routes of this code base: the served application has the same
    problems, visited = crawl(page, live_server, app.url_map.bind("localhost"))
    print(f"{role}: {len(visited)} pages, {time.process_time() - started:.1f} s CPU (test side)")
    assert len(visited) >= 5, f"the crawl found almost nothing from the home page: {visited}"
    assert not problems, f"{len(problems)} of {len(visited)} pages fail on a 360 px phone:\n" + (
        "\n".join(
            f"{url.removeprefix(live_server)}:\n  " + "\n  ".join(found)
            for url, found in problems.items()
        )
    )


def test_axe_is_not_served_to_pages(live_server: str, page: Any) -> None:
    sign_in(page, live_server, ROLES["manajer"])
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert scripts and not [s for s in scripts if "axe" in s], scripts
    assert not page.evaluate("() => typeof window.axe !== 'undefined'")


def tab_to(page: Any, selector: str, limit: int = 400) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} not reached with {limit} presses of Tab on {page.url}")


def test_sign_in_and_a_case_note_by_keyboard_alone(live_server: str, page: Any) -> None:
    """No mouse: Tab to each field, type, Enter to send."""
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/masuk")
    # the one page the crawl does not reach (it starts signed in)
    problems = check_page(page)
    assert not problems, problems
    tab_to(page, "input[name=email]")
    page.keyboard.type(ROLES["manajer"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(data.DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/beranda")

    page.goto(f"{live_server}/kasus")
    tab_to(page, "table a[href^='/kasus/']")
    case_url = page.evaluate("document.activeElement.href")
    page.keyboard.press("Enter")
    page.wait_for_url(case_url)

    text = f"Dihubungi lewat telepon; korban aman di rumah kerabat ({uuid.uuid4().hex[:8]})."
    tab_to(page, "textarea#body")
    page.keyboard.type(text)
    counter = page.locator("#body-counter")
    assert counter.inner_text().startswith(f"{len(text)} / "), counter.inner_text()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Tambahkan catatan"
    with page.expect_navigation():
        page.keyboard.press("Space")
    notes = page.locator("#catatan")
    assert notes.locator("li", has_text=text).count() == 1, notes.inner_text()[:1500]


def test_case_page_on_a_phone(live_server: str, page: Any) -> None:
    """The case page at 390 x 844 (a common phone), with the safety warning of a guardian who is
    an alleged perpetrator wrapped inside the screen; saved as test-artifacts/e2e/."""
    sign_in(page, live_server, ROLES["supervisor"])
    page.goto(f"{live_server}/kasus")
    page.locator("#q").fill(GUARDIAN_CASE)
    page.locator("#q").press("Enter")
    page.get_by_role("link", name=GUARDIAN_CASE).click()
    warning = page.locator(".badge", has_text="terduga pelaku").first
    warning.scroll_into_view_if_needed()
    box = warning.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390, box
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, "phone-case-page")
