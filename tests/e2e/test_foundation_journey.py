"""An administrator signs in on a phone, finds the demo city's agencies and task force, switches
to English and signs out. Screenshots go to test-artifacts/e2e/."""

import pytest

from app.demo import data
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def sign_in(page, base, email):
    page.goto(f"{base}/masuk")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(data.DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def test_admin_journey_on_a_phone(live_server, page):
    page.goto(f"{live_server}/masuk")
    screenshot(page, "01-login")
    sign_in(page, live_server, "admin@simpul.demo")
    page.wait_for_url(f"{live_server}/beranda")
    assert page.locator("h1").inner_text().startswith("Selamat datang")
    screenshot(page, "02-home-admin")

    page.goto(f"{live_server}/admin/lembaga")
    assert page.get_by_text("UPTD PPA Kota Bandung").first.is_visible()
    screenshot(page, "03-agencies")

    page.goto(f"{live_server}/admin/gugus-tugas")
    page.get_by_role("link", name="GT P2TPPO Kota Bandung").click()
    assert page.locator("li", has_text="Unit PPA Polrestabes Bandung").first.is_visible()
    screenshot(page, "04-task-force")

    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "05-task-force-en")

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Admin Sistem").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/masuk")
    assert page.get_by_text("You have signed out.").is_visible()


def test_wrong_password_shows_a_generic_message(live_server, page):
    page.goto(f"{live_server}/masuk")
    page.get_by_label("Email").fill("admin@simpul.demo")
    page.get_by_label("Kata sandi").fill("salah sekali kata sandinya")
    page.get_by_role("button", name="Masuk").click()
    assert page.get_by_text("Email atau kata sandi salah.").is_visible()


@pytest.mark.http_error_expected
def test_case_worker_sees_no_administration(live_server, page):
    sign_in(page, live_server, "manajer@simpul.demo")
    page.wait_for_url(f"{live_server}/beranda")
    assert page.get_by_text("Administrasi").count() == 0
    response = page.goto(f"{live_server}/admin/pengguna")
    assert response.status == 403
    screenshot(page, "06-forbidden")
