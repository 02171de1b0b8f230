"""An intake officer, on a phone, registers a complaint with two victims and one perpetrator,
finds it in the case list and opens it. Screenshots go to test-artifacts/e2e/."""

import re

import pytest

from app.demo import data
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def choose(page, name, value):
    """Click the label of a radio/checkbox button (the inputs are styled as buttons)."""
    box = page.locator(f"input[name='{name}'][value='{value}']")
    page.locator(f"label[for='{box.get_attribute('id')}']").click()


def test_intake_officer_registers_two_victims_and_finds_the_case(live_server, page):
    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email").fill("pengaduan@simpul.demo")
    page.get_by_label("Kata sandi").fill(data.DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{live_server}/beranda")

    page.goto(f"{live_server}/kasus/baru")
    screenshot(page, "10-intake-empty")
    choose(page, "risk", "sedang")
    choose(page, "case_types", "ktp")
    choose(page, "case_types", "kta")
    page.select_option("[name='channel']", "datang_langsung")
    page.fill("[name='incident_date']", "2026-11-01")
    page.select_option("[name='incident_place']", "rumah_tangga")
    page.fill("[name='kronologi']", "Korban dan anaknya datang setelah kejadian di rumah.")

    choose(page, "victims-0-sex", "P")
    page.fill("[name='victims-0-name']", "Ratna Uji Peramban")
    page.fill("[name='victims-0-birth_date']", "1990-02-03")
    choose(page, "victims-0-violence_types", "fisik")

    page.locator("button[name='add_victim']").click()
    page.wait_for_selector("[name='victims-1-name']")
    choose(page, "victims-1-sex", "L")
    page.fill("[name='victims-1-name']", "Bima Uji Peramban")
    page.fill("[name='victims-1-age']", "9")
    choose(page, "victims-1-violence_types", "psikis")

    page.fill("[name='perpetrators-0-name']", "Pelaku Uji Peramban")
    page.select_option("[name='perpetrators-0-sex']", "L")
    page.fill("[name='perpetrators-0-age']", "41")
    page.select_option("[name='perpetrators-0-relationships-0']", "suami_istri")
    page.select_option("[name='perpetrators-0-relationships-1']", "orang_tua")
    screenshot(page, "11-intake-filled")

    page.locator("button[name='action'][value='register']").click()
    page.wait_for_url(re.compile(rf"{live_server}/kasus/\d+$"))
    reference = page.locator("h1").inner_text().strip()
    assert reference.startswith("UPTDPPA-3273-2026-")
    body = page.locator("main").inner_text()
    assert "Ratna Uji Peramban" in body  # an adult's identity is shown to the case's staff
    assert "Bima Uji Peramban" not in body  # a child's is masked until revealed
    screenshot(page, "12-case-detail")

    page.goto(f"{live_server}/kasus")
    page.fill("[name='q']", reference)
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(rf"{live_server}/kasus/\d+$"))
    assert page.locator("h1").inner_text().strip() == reference
    screenshot(page, "13-case-found")
