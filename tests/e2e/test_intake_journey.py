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


class Budget:
    """What a person does on the phone, counted as the test does it:

    * a **field** is an input given a value — a text typed, a choice button tapped, a select
      chosen (one per input, however it is set);
    * a **tap** is every touch: on a text field to type in it, on a choice button, a select
      (two: open, choose), a row button ("Tambah korban"), the submit button;
    * a **page load** is a navigation of the page (htmx swapping the form is not one)."""

    def __init__(self, page):
        self.page = page
        self.fields = 0
        self.taps = 0
        self.loads = 0
        page.on("framenavigated", lambda frame: self._navigated(frame))

    def _navigated(self, frame):
        if frame == self.page.main_frame:
            self.loads += 1

    def type(self, name, text):
        self.fields += 1
        self.taps += 1
        self.page.locator(f"[name='{name}']").click()
        self.page.locator(f"[name='{name}']").fill(text)

    def choose(self, name, value):
        self.fields += 1
        self.taps += 1
        choose(self.page, name, value)

    def select(self, name, value):
        self.fields += 1
        self.taps += 2
        self.page.select_option(f"[name='{name}']", value)

    def tap(self, locator):
        self.taps += 1
        locator.click()


def test_quick_intake_of_two_victims_and_a_perpetrator_within_the_phone_budget(live_server, page):
    """Issue 17: a counselor registers a complaint with two victims and one perpetrator on a
    390 x 844 phone in at most 12 fields and 20 taps; what is left for later is listed on the
    case page, each item a link into the intake form."""
    sign_in(page, live_server, INTAKE_OFFICER)
    page.goto(f"{live_server}/beranda")
    budget = Budget(page)
    page.get_by_role("link", name="Pengaduan baru").first.click()  # from the menu
    budget.taps += 1
    page.wait_for_url(f"{live_server}/kasus/cepat")

    budget.choose("risk", "sedang")
    budget.choose("case_types", "ktp")
    budget.choose("channel", "datang_langsung")
    budget.type("victims-0-name", "Wulan Cepat Peramban")
    budget.choose("victims-0-sex", "P")
    budget.type("victims-0-age", "31")
    budget.choose("victims-0-consents-0-decision", "setuju")

    budget.tap(page.locator("button[name='add_victim']"))
    page.wait_for_selector("[name='victims-1-name']")
    budget.type("victims-1-name", "W.P.")
    budget.choose("victims-1-sex", "P")
    budget.type("victims-1-age", "24")
    budget.choose("victims-1-consents-0-decision", "setuju")

    budget.tap(page.locator("button[name='add_perpetrator']"))
    page.wait_for_selector("[name='perpetrators-0-relationships-0']")
    budget.select("perpetrators-0-relationships-0", "tetangga")
    # what was typed before the row buttons is still there
    assert page.input_value("[name='victims-0-name']") == "Wulan Cepat Peramban"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "phone-intake")

    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/kasus/cepat")
    ) as posted:
        budget.tap(page.locator("button[name='action'][value='register']"))
    page.wait_for_url(re.compile(rf"{live_server}/kasus/\d+$"))
    timing = posted.value.request.timing
    server_ms = timing["responseStart"] - timing["requestStart"]
    print(
        f"\nquick intake ({page.simpul_backend}): {budget.fields} fields, {budget.taps} taps, "
        f"{budget.loads} page loads; registration POST answered in {server_ms:.0f} ms"
    )
    assert budget.fields <= 12, budget.fields
    assert budget.taps <= 20, budget.taps
    assert budget.loads == 2, budget.loads  # the quick form, then the case page

    assert_no_error_page(page)
    reference = page.locator("h1").inner_text().strip()
    assert reference.startswith("UPTDPPA-3273-")
    body = page.locator("main").inner_text()
    assert "Wulan Cepat Peramban" in body
    checklist = page.locator("#belum-lengkap")
    assert "Masih perlu dilengkapi" in checklist.inner_text()
    listed = checklist.inner_text()
    assert "Kejadian: tanggal, tempat, wilayah" in listed
    assert "Korban 1: jenis kekerasan, NIK, alamat" in listed
    assert "Pelaku 1: hubungan dengan korban 2" in listed
    assert "persetujuan layanan" not in listed  # both decided on the quick screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "phone-case-after-intake")

    # an item leads to its field on the intake form
    checklist.get_by_role("link", name=re.compile("^Korban 2: jenis kekerasan")).click()
    page.wait_for_url(re.compile(rf"{live_server}/kasus/\d+/ubah#victims-1-violence_types$"))
    assert page.locator("#victims-1-violence_types").is_visible()
