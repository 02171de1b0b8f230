"""The agency search of the case page, on a phone (390 px): the case manager plans a service
with a provider found by typing part of its name instead of picking it from the list of the
agencies near the case, and the plan names that provider.

Elements are found by form actions, names and ids. Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.demo import data
from tests.e2e.conftest import LiveServer, screenshot
from tests.e2e.test_workflow_journey import (
    fill_assessment,
    open_details,
    record_service_consent,
    register,
    sign_in,
    submit,
    take_step,
    victim_id_of,
)

pytestmark = pytest.mark.e2e

MANAGER = "manajer@simpul.demo"
RSUD = "RSUD-3273"  # app/demo/data.py: provides rehabilitasi_kesehatan


def test_a_provider_found_by_the_search_on_a_phone(server: LiveServer, page: Any) -> None:
    base = server.url
    name = next(n for code, n, _type, _region, _services in data.AGENCIES if code == RSUD)
    sign_in(page, base, MANAGER)
    case_id = register(
        page,
        base,
        risk="sedang",
        types=["ktp"],
        victim={
            "name": "Wulan Uji Pencarian",
            "birth_date": "1991-07-02",
            "violence_types": ["fisik"],
            "kronologi": "Korban dipukul oleh suaminya di rumah.",
        },
    )
    take_step(page, base, case_id, "start_identification")
    take_step(page, base, case_id, "start_assessment")
    victim_id = victim_id_of(page, case_id)
    fill_assessment(page, base, case_id, victim_id)
    record_service_consent(page, base, case_id, victim_id)

    form = page.locator(f"section#layanan form[data-providers][action='/kasus/{case_id}/rencana']")
    open_details(form)
    form.locator("select[name='victim']").select_option(str(victim_id))
    form.locator("select[name='service_type']").select_option("rehabilitasi_kesehatan")
    search = form.locator("#plan-provider-search")
    assert search.is_visible()  # shown once the script runs
    box = search.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    search.fill("rsud")
    result = form.locator("#plan-provider-search-results button", has_text=RSUD)
    result.wait_for()
    result_box = result.bounding_box()
    assert result_box is not None and result_box["x"] + result_box["width"] <= 390
    screenshot(page, "agency-search-phone")
    result.click()
    provider = form.locator("select[name='provider']")
    chosen = provider.locator("option:checked").inner_text()
    assert chosen.startswith(name), chosen
    assert form.locator("#plan-provider-search-status").inner_text().strip()  # "Dipilih: …"

    fragment = submit(page, base, case_id, form)
    match = re.fullmatch(r"track-(\d+)", fragment)
    assert match, fragment
    card = page.locator(f"article#track-{match.group(1)}")
    assert name in card.inner_text()
