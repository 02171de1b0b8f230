""" "Tugas saya" on a phone (390 x 844): the demo case manager sees her counters on the home page,
opens her list (deadlines, plan targets, follow-ups as cards, no sideways scroll), sets a
follow-up from a case page and marks it done. The screenshot is
test-artifacts/e2e/phone-tasks.png."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import LiveServer, assert_no_error_page, screenshot
from tests.e2e.test_workflow_journey import open_details, sign_in

pytestmark = pytest.mark.e2e

MANAGER = "manajer@simpul.demo"
NOTE = "Uji ponsel: telepon pendamping"


def count(page: Any, scope: str, bucket: str) -> int:
    return int(page.locator(f"{scope} [data-count='{bucket}']").inner_text())


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url}: {width} px wide"


def fits(page: Any, selector: str) -> None:
    """The element ends within the 390 px screen and does not scroll sideways itself (the case
    page around it is others' to fit)."""
    right, scroll, client = page.locator(selector).evaluate(
        "e => [e.getBoundingClientRect().right, e.scrollWidth, e.clientWidth]"
    )
    assert right <= 390 and scroll <= client, (selector, right, scroll, client)


def test_my_tasks_on_a_phone(server: LiveServer, page: Any) -> None:
    base = server.url
    sign_in(page, base, MANAGER)
    home = {b: count(page, "#home-task-counts", b) for b in ("overdue", "today", "week")}
    assert home["overdue"] >= 1 and home["today"] >= 1 and home["week"] >= 1, home

    page.locator("#my-tasks a").click()
    page.wait_for_url(f"{base}/tugas")
    assert_no_error_page(page)
    assert page.locator("h1").inner_text() == "Tugas saya"
    for bucket in ("overdue", "today", "week"):
        assert count(page, "#task-counts", bucket) == home[bucket]
    kinds = set(
        page.locator("article.task-card").evaluate_all("els => els.map(e => e.dataset.kind)")
    )
    assert "follow_up" in kinds, kinds
    no_sideways_scroll(page)
    screenshot(page, "phone-tasks")

    # a follow-up set from the case page of the first card
    page.locator("article.task-card[data-kind='follow_up'] a").first.click()
    assert_no_error_page(page)
    form = page.locator("section#tindak-lanjut form")
    open_details(form)
    tomorrow = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date() + dt.timedelta(days=1)
    form.locator("input[name='due_on']").fill(tomorrow.isoformat())
    form.locator("input[name='note']").fill(NOTE)
    form.locator("button[type='submit']").click()
    page.wait_for_load_state()
    assert_no_error_page(page)
    assert NOTE in page.locator("section#tindak-lanjut").inner_text()
    fits(page, "section#tindak-lanjut")

    page.goto(f"{base}/tugas")
    assert count(page, "#task-counts", "week") == home["week"] + 1
    card = page.locator("article.task-card", has_text=NOTE)
    card.get_by_role("button", name="Selesai").click()
    page.wait_for_url(f"{base}/tugas")
    assert page.locator("article.task-card", has_text=NOTE).count() == 0
    assert count(page, "#task-counts", "week") == home["week"]
