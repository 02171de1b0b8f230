"""The case manager prints a summary of a demo case on a phone (issue #17 item 5): the form from
the case page, the PDF downloaded, its first page rendered to
test-artifacts/e2e/case-summary-pdf.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from app.demo import data
from tests.e2e.conftest import ARTIFACTS, screenshot

pytestmark = pytest.mark.e2e


def sign_in(page: Any, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/masuk")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(data.DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{base}/beranda")


def test_the_case_manager_prints_a_case_summary_on_a_phone(live_server: str, page: Any) -> None:
    sign_in(page, live_server, "manajer@simpul.demo")
    # a demo case in intervention: victims, a plan, services and referrals to print
    page.goto(f"{live_server}/kasus?state=intervensi")
    page.locator("a[href^='/kasus/']", has_text=re.compile(r"\d{4}-\d+")).first.click()
    page.wait_for_url(re.compile(rf"{re.escape(live_server)}/kasus/\d+$"))
    reference = page.locator("h1").inner_text().strip()

    page.get_by_role("link", name="Cetak ringkasan (PDF)").click()
    page.wait_for_url(re.compile(r"/kasus/\d+/ringkasan$"))
    assert page.locator("h1").inner_text() == "Cetak ringkasan kasus"
    # every section but the notes is chosen to start with; the notes are added
    assert page.get_by_label("Identitas korban").is_checked()
    assert not page.get_by_label("Catatan", exact=True).is_checked()
    page.get_by_label("Catatan", exact=True).check()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form scrolls sideways: {width} px"
    screenshot(page, "case-summary-form")

    with page.expect_download() as waiting:
        page.get_by_role("button", name="Unduh PDF").click()
    download = waiting.value
    assert download.suggested_filename.startswith("ringkasan-kasus-")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")

    document = pdfium.PdfDocument(content)
    try:
        texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
        for number, text in enumerate(texts, start=1):
            flat = " ".join(text.split())
            assert flat.startswith("RAHASIA"), number
            assert f"halaman {number} dari {len(texts)}" in flat
            assert "Dicetak oleh" in flat
        first = " ".join(texts[0].split())
        assert f"Ringkasan kasus {reference}" in first
        assert "Identitas korban" in first
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        backend = getattr(page, "simpul_backend", "postgres")
        name = (
            "case-summary-pdf.png" if backend == "postgres" else f"case-summary-pdf-{backend}.png"
        )
        image = document[0].render(scale=2).to_pil()
        image.save(ARTIFACTS / name)
        assert image.width > 1000 and image.height > image.width  # A4 portrait, readable
    finally:
        document.close()
