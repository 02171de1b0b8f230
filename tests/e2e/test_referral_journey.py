"""A service referred to another agency, in the browser, by the people of both agencies.

The case manager of the UPTD PPA registers a complaint, assesses the victim, records the
victim's consent to services and to a referral to the RSUD, plans a health rehabilitation
(rehabilitasi_kesehatan) provided by the RSUD and a social rehabilitation of the own agency, and
proposes the plan; the supervisor approves it; the case manager sends the referral sharing the
incident summary. The RSUD's staff find it among the new referrals, open it, accept it, start
the service and complete it with its outcome. Back at the UPTD the track card shows the service
completed and when the RSUD first opened the referral. The Sub GT coordinator (demo: Sub GT
rehabilitasi sosial, pemulangan dan reintegrasi) sees the case on the board, pseudonymised.

Elements are found by form actions, names, ids and data attributes; ids (the RSUD's, the
referral's) are read from the pages, so the journey runs on both servers. On the PostgreSQL one,
served in this process, the database is checked as well. Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.cases.labels import consent_purpose_label
from app.cases.models import ConsentEntry
from app.core.enums import CaseState, TrackState
from app.demo import data
from app.extensions import db
from app.referrals.models import Referral
from tests.e2e.conftest import LiveServer, screenshot
from tests.e2e.test_workflow_journey import (
    Labels,
    assert_track,
    case_page_pattern,
    fill_assessment,
    open_details,
    plan_service,
    record_service_consent,
    register,
    sign_in,
    stage,
    step_form,
    submit,
    take_step,
    victim_id_of,
)

pytestmark = pytest.mark.e2e

MANAGER = "manajer@simpul.demo"
SUPERVISOR = "supervisor@simpul.demo"
HOSPITAL = "rsud@simpul.demo"
COORDINATOR = "koordinator@simpul.demo"
HEALTH_COORDINATOR = "kesehatan@simpul.demo"
RSUD = "RSUD-3273"  # app/demo/data.py: RSUD Kota Bandung, provides rehabilitasi_kesehatan
VICTIM = "Laras Uji Rujukan"
KRONOLOGI = "Korban dipukul di rumah dan mengalami luka di kepala."
# what the case manager writes for the hospital (the referral's own incident summary)
INCIDENT_SUMMARY = "Luka robek di kepala setelah dipukul; perlu visum dan perawatan luka."
S = CaseState
T = TrackState


def translated(app: Any, message: str) -> str:
    """The Indonesian text of ``message`` up to its first placeholder."""
    with app.test_request_context(), force_locale("id"):
        return gettext(message, at="\x00").split("\x00")[0].strip()


def purpose_in_indonesian(app: Any, purpose: str) -> str:
    kind, _sep, code = purpose.partition(":")
    with app.test_request_context(), force_locale("id"):
        if kind == "rujukan":
            # the page names the agency, never its code; by its name in the demo (this test
            # session's own database, which ``app`` reads, does not hold the served agencies)
            name = next(n for c, n, *_rest in data.AGENCIES if c == code)
            return gettext("Referral to %(agency)s", agency=name)
        return consent_purpose_label(purpose)


def plan_referred_service(
    page: Any, base: str, case_id: int, victim_id: int, service: str, provider: str
) -> tuple[int, int]:
    """Add a service provided by the agency coded ``provider`` to the plan; returns the track id
    and the agency's id (the value of its option)."""
    name = next(n for code, n, _type, _region, _services in data.AGENCIES if code == provider)
    form = page.locator(f"section#layanan form[data-providers][action='/kasus/{case_id}/rencana']")
    open_details(form)
    form.locator("select[name='victim']").select_option(str(victim_id))
    form.locator("select[name='service_type']").select_option(service)
    form.locator("select[name='provider']").select_option(label=name)
    provider_id = int(form.locator("select[name='provider']").input_value())
    form.locator("input[name='target_date']").fill("2026-12-15")
    fragment = submit(page, base, case_id, form)
    match = re.fullmatch(r"track-(\d+)", fragment)
    assert match, fragment
    track_id = int(match.group(1))
    assert page.locator(f"article#track-{track_id}.wf-track-direncanakan").is_visible()
    return track_id, provider_id


def referral_step(page: Any, base: str, referral_id: int, step: str, **fill: str) -> None:
    form = page.locator(f"section#tindakan form[action='/rujukan/{referral_id}/{step}']")
    assert form.count() == 1, f"the step {step} is not offered"
    open_details(form)
    for name, value in fill.items():
        form.locator(f"[name='{name}']").fill(value)
    with page.expect_navigation():
        form.locator("button[type='submit']").click()
    assert page.url == f"{base}/rujukan/{referral_id}", page.url
    assert page.locator("main > .alert-success[role='alert']").count() == 1


def board_row(page: Any, track_id: int) -> Any:
    """The board's row of the track, on whichever page it is: the board shows the longest
    waiting first, 50 to a page, so a service referred just now may be on a later page; each
    page on the way is checked for names like the first."""
    for _ in range(50):
        row = page.locator(f"a[data-track='{track_id}']")
        if row.count():
            return row
        assert VICTIM not in page.content() and KRONOLOGI not in page.content()
        following = page.locator("ul.pagination li.page-item:last-child a.page-link")
        assert following.count() == 1, f"track {track_id} is on no page of the board"
        with page.expect_navigation():
            following.click()
    raise AssertionError(f"track {track_id} not found in 50 pages of the board")


def test_a_service_referred_to_the_hospital_and_completed_there(
    server: LiveServer, page: Any, app: Any
) -> None:
    base, name = server.url, Labels(app)

    # --- the case manager: registration to the proposed plan ---
    sign_in(page, base, MANAGER)
    case_id = register(
        page,
        base,
        risk="sedang",
        types=["ktp"],
        victim={
            "name": VICTIM,
            "birth_date": "1993-02-11",
            "violence_types": ["fisik"],
            "kronologi": KRONOLOGI,
        },
    )
    ref = page.locator("h1").inner_text().strip()  # the case's reference
    assert re.fullmatch(r"[A-Z]+-\d{4}-\d{4}-\d+", ref), ref
    take_step(page, base, case_id, "start_identification")
    take_step(page, base, case_id, "start_assessment")
    victim_id = victim_id_of(page, case_id)
    fill_assessment(page, base, case_id, victim_id)
    record_service_consent(page, base, case_id, victim_id)
    health, rsud_id = plan_referred_service(
        page, base, case_id, victim_id, "rehabilitasi_kesehatan", RSUD
    )
    social = plan_service(page, base, case_id, victim_id, "rehabilitasi_sosial")
    take_step(page, base, case_id, "propose_plan")
    assert stage(page) == name(S.RENCANA_INTERVENSI)

    # --- the supervisor approves the plan ---
    sign_in(page, base, SUPERVISOR)
    page.goto(f"{base}/kasus/{case_id}")
    assert step_form(page, case_id, "start_intervention").count() == 1
    take_step(page, base, case_id, "start_intervention", approve=True)
    assert stage(page) == name(S.INTERVENSI)

    # --- the case manager sends the referral, sharing the incident summary only ---
    sign_in(page, base, MANAGER)
    page.goto(f"{base}/kasus/{case_id}")
    form = page.locator(
        f"article#track-{health} form[action='/kasus/{case_id}/layanan/{health}/rujukan']"
    )
    assert form.count() == 1, "the referral form is not offered"
    open_details(form)
    form.locator("select[name='to_agency']").select_option(str(rsud_id))
    assert not form.locator("input[name='share_identity']").is_checked()
    form.locator("input[name='share_incident']").check()
    # the summary comes prefilled with a suggestion from this victim's facts: never the chronology
    summary = form.locator("textarea[name='incident_summary']")
    assert KRONOLOGI not in summary.input_value()
    summary.fill(INCIDENT_SUMMARY)
    form.locator("textarea[name='message']").fill("Mohon pemeriksaan luka kepala dan visum.")
    # the victim agrees to this referral now: the consent goes into the ledger with the sending
    form.locator("input[name='consent_now']").check()
    form.locator("select[name='given_by']").select_option("korban")
    with page.expect_navigation():
        form.locator("button[name='action'][value='send']").click()
    assert case_page_pattern(base, case_id).match(page.url), page.url
    assert page.locator("main > .alert-success[role='alert']").count() == 1, page.locator(
        "main .alert-danger"
    ).all_inner_texts()
    assert_track(page, health, T.DIRUJUK, name)
    sent = page.locator(f"article#track-{health} [id^='referral-']")
    assert sent.count() == 1
    referral_id = int((sent.get_attribute("id") or "").removeprefix("referral-"))
    # recorded in the ledger with the sending
    ledger = page.locator(f"#persetujuan-{victim_id}").text_content() or ""
    assert purpose_in_indonesian(app, f"rujukan:{RSUD}") in ledger, ledger
    if server.app is not None:  # served from this process: its database says the same
        with server.app.app_context():
            assert referral_id == db.session.scalar(
                select(Referral.id).where(Referral.track_id == health)
            )
            purposes = set(
                db.session.scalars(
                    select(ConsentEntry.purpose).where(ConsentEntry.victim_id == victim_id)
                )
            )
            db.session.remove()
        assert f"rujukan:{RSUD}" in purposes
    screenshot(page, "50-referral-sent")

    # --- the hospital: the inbox, the referral, accept, start, complete ---
    sign_in(page, base, HOSPITAL)
    page.goto(f"{base}/rujukan?tab=baru")
    row = page.locator(f"a[data-referral='{referral_id}']")
    assert row.count() == 1, "the referral is not among the new ones"
    assert ref in row.inner_text()
    assert VICTIM not in page.content()
    screenshot(page, "51-referral-inbox")
    with page.expect_navigation():
        row.click()
    assert page.url == f"{base}/rujukan/{referral_id}"
    content = page.content()
    assert INCIDENT_SUMMARY in content  # the incident summary was shared
    assert KRONOLOGI not in content  # never the case's chronology
    assert VICTIM not in content  # the identity was not
    assert page.locator("section#kejadian").count() == 1
    assert page.locator("section#identitas").count() == 0
    # the hospital reaches nothing of the case itself
    response = page.request.get(f"{base}/kasus/{case_id}")
    assert response.status in (403, 404)

    referral_step(page, base, referral_id, "terima")
    referral_step(page, base, referral_id, "mulai")
    referral_step(
        page,
        base,
        referral_id,
        "selesai",
        outcome="Luka dijahit, visum et repertum diterbitkan.",
    )
    assert page.locator(f"section#tindakan form[action^='/rujukan/{referral_id}/']").count() == 0
    assert page.locator("section#riwayat li").count() >= 5  # sent, opened, 3 steps
    screenshot(page, "52-referral-completed")
    page.goto(f"{base}/rujukan?tab=selesai")
    assert page.locator(f"a[data-referral='{referral_id}']").count() == 1

    # --- the case manager: the track completed, the referral opened ---
    sign_in(page, base, MANAGER)
    page.goto(f"{base}/kasus/{case_id}")
    assert_track(page, health, T.SELESAI, name)
    card = page.locator(f"article#track-{health} #referral-{referral_id}")
    text = " ".join(card.inner_text().split())
    assert translated(app, "opened %(at)s") in text
    assert translated(app, "not opened yet") not in text
    assert "Luka dijahit, visum et repertum diterbitkan." in text
    screenshot(page, "53-referral-seen-by-the-sender")

    # --- the Sub GT coordinator: the case on the board, pseudonymised ---
    sign_in(page, base, COORDINATOR)
    response = page.goto(f"{base}/subgt")
    assert response is not None and response.status == 200, "the Sub GT board does not answer"
    row = board_row(page, social)
    assert ref in page.content()
    assert VICTIM not in page.content() and KRONOLOGI not in page.content()
    assert row.count() == 1 and ref in row.inner_text()
    screenshot(page, "54-subgt-board")
    with page.expect_navigation():
        row.click()
    assert page.url == f"{base}/subgt/layanan/{social}"
    assert page.locator("section#langkah li").count() >= 1
    assert ref in page.content() and VICTIM not in page.content()
    # the health service belongs to the Sub GT Rehabilitasi Kesehatan, not this coordinator's
    assert page.request.get(f"{base}/subgt/layanan/{health}").status == 404
    screenshot(page, "55-subgt-history")

    # --- the Sub GT Rehabilitasi Kesehatan coordinator: the referral's whole history ---
    # (seven sign-ins from one address within a minute: the login rate limit, rightly, would
    # refuse the next one — a test artefact, so the counters start again here)
    server.reset_limits()
    sign_in(page, base, HEALTH_COORDINATOR)
    page.goto(f"{base}/subgt?state=semua")  # the service has ended: shown with the ended ones
    row = board_row(page, health)
    assert row.count() == 1 and ref in row.inner_text()
    with page.expect_navigation():
        row.click()
    assert page.url == f"{base}/subgt/layanan/{health}"
    history = page.content()
    assert ref in history and VICTIM not in history and KRONOLOGI not in history
    assert "Luka dijahit" not in history  # the outcome is a narrative: not for the board
    # the track's steps: planned, referred, accepted, started, completed
    assert page.locator("section#langkah li").count() >= 5
    screenshot(page, "56-subgt-health-history")
