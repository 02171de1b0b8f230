"""An intake officer, on a phone, registers a complaint with two victims and one perpetrator,
finds it in the case list and opens it; then registers ten high-risk complaints in a row.
Screenshots go to test-artifacts/e2e/."""

import re

import pytest

from app.demo import data
from tests.e2e.conftest import assert_no_error_page, screenshot
from tests.e2e.test_workflow_journey import register, sign_in

pytestmark = pytest.mark.e2e

INTAKE_OFFICER = "pengaduan@simpul.demo"


def choose(page, name, value):
    """Click the label of a radio/checkbox button (the inputs are styled as buttons)."""
    box = page.locator(f"input[name='{name}'][value='{value}']")
    page.locator(f"label[for='{box.get_attribute('id')}']").click()


def test_intake_officer_registers_two_victims_and_finds_the_case(live_server, page):
    sign_in(page, live_server, INTAKE_OFFICER)

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


def test_intake_officer_registers_ten_high_risk_cases_in_a_row(live_server, page):
    """High-risk complaints one after the other (each sends its notifications in the
    background while the next is entered): every one ends on its case page, none on an error
    page (the page fixture also fails the test on any 5xx answer or server log failure)."""
    agency = next(a for e, _name, _role, a in data.USERS if e == INTAKE_OFFICER)
    sign_in(page, live_server, INTAKE_OFFICER)
    references = []
    for n in range(1, 11):
        case_id = register(
            page,
            live_server,
            risk="tinggi",
            types=["ktp"],
            victim={
                "name": f"Sinta Uji Risiko {chr(64 + n)}",
                "birth_date": f"{1980 + n}-05-{n:02d}",
                "violence_types": ["fisik", "psikis"],
                "kronologi": f"Korban ke-{n} diancam dengan senjata tajam oleh pasangannya.",
            },
        )
        assert_no_error_page(page)
        assert page.url == f"{live_server}/kasus/{case_id}", page.url
        reference = page.locator("h1").inner_text().strip()
        assert re.fullmatch(rf"{re.escape(agency)}-\d{{4}}-\d+", reference), reference
        references.append(reference)
    assert len(set(references)) == 10, references
    screenshot(page, "14-intake-tenth-high-risk-case")
