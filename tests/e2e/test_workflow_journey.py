"""A case taken through its whole workflow in the browser, by the people whose step it is.

KtP/A (on a phone): the case manager registers a complaint, identifies, assesses the victim,
records the consent to services, plans two services of the own agency and proposes the plan;
the supervisor approves it; the two services run in parallel, one ends completed and one
declined by the victim; monitoring; the supervisor terminates the case.

TPPO, high risk (on a desktop): registered with the trafficking screening, identification →
emergency handling → assessment (note and confirmation) → the same path to termination, with the
"not possible yet" steps and the "still needed" list checked on the way.

Elements are found by form actions, names and ids; expected labels come from the application's
own vocabulary in Indonesian. Screenshots go to test-artifacts/e2e/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask_babel import force_locale

from app.core.enums import AssessmentArea, CaseState, TrackState
from app.core.labels import label
from app.demo import data
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

MANAGER = "manajer@simpul.demo"
SUPERVISOR = "supervisor@simpul.demo"
S = CaseState
T = TrackState


# --- helpers -----------------------------------------------------------------------------------


class Labels:
    """The Indonesian names the pages show for workflow states (any app of this code base
    knows them: the test session's own serves for both servers)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, value: Any) -> str:
        with self.app.test_request_context(), force_locale("id"):
            return str(label(value))


def sign_in(page: Any, base: str, email: str) -> None:
    """Sign in as ``email`` (whoever was signed in before is dropped with the cookies)."""
    page.context.clear_cookies()
    page.goto(f"{base}/masuk")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(data.DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{base}/beranda")


def choose(page: Any, name: str, value: str) -> None:
    """Click the label of a radio/checkbox styled as a button."""
    box = page.locator(f"input[name='{name}'][value='{value}']")
    page.locator(f"label[for='{box.get_attribute('id')}']").click()


def case_page_pattern(base: str, case_id: int) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(base)}/kasus/{case_id}(#[\w-]+)?$")


def submit(page: Any, base: str, case_id: int, form: Any) -> str:
    """Submit ``form``; the browser must land on the case page with a success message.
    Returns the fragment of the URL landed on."""
    with page.expect_navigation():
        form.locator("button[type='submit']").click()
    if not case_page_pattern(base, case_id).match(page.url):
        errors = page.locator("main .alert-danger, main .invalid-feedback").all_inner_texts()
        pytest.fail(f"the step was refused: {page.url} {errors}")
    flash = page.locator("main > .alert-success[role='alert']")
    assert flash.count() == 1 and flash.is_visible(), "no success message after the step"
    return page.url.partition("#")[2]


def open_details(form: Any) -> None:
    """Open the <details> whose <summary> reveals ``form`` (a no-op when already open)."""
    if not form.is_visible():
        form.locator("xpath=ancestor::details[1]").locator(":scope > summary").click()
    assert form.is_visible()


def step_form(page: Any, case_id: int, event: str) -> Any:
    return page.locator(f"section#alur form[action='/kasus/{case_id}/langkah/{event}']")


def take_step(
    page: Any,
    base: str,
    case_id: int,
    event: str,
    *,
    note: str | None = None,
    approve: bool = False,
) -> None:
    form = step_form(page, case_id, event)
    assert form.count() == 1, f"the step {event} is not offered"
    open_details(form)
    if note is not None:
        form.locator("textarea[name='reason']").fill(note)
    if approve:
        form.locator("input[name='approve']").check()
    submit(page, base, case_id, form)


def track_form(page: Any, case_id: int, track_id: int, event: str) -> Any:
    return page.locator(
        f"article#track-{track_id} form[action='/kasus/{case_id}/layanan/{track_id}/{event}']"
    )


def take_track_step(
    page: Any, base: str, case_id: int, track_id: int, event: str, **fill: str
) -> None:
    form = track_form(page, case_id, track_id, event)
    assert form.count() == 1, f"the step {event} of track {track_id} is not offered"
    open_details(form)
    for name, value in fill.items():
        form.locator(f"[name='{name}']").fill(value)
    submit(page, base, case_id, form)


def stage(page: Any) -> str:
    return page.locator("section#alur .card-body > div .badge").first.inner_text().strip()


def still_needed(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("section#alur .alert-warning li").all_inner_texts()]


def disabled_steps(page: Any) -> int:
    return page.locator("section#alur .wf-actions button[type='button'][disabled]").count()


def register(page: Any, base: str, *, risk: str, types: list[str], victim: dict[str, Any]):
    """Register a complaint with one adult victim; returns the case id."""
    page.goto(f"{base}/kasus/baru")
    choose(page, "risk", risk)
    for t in types:
        choose(page, "case_types", t)
    page.select_option("[name='channel']", "datang_langsung")
    page.fill("[name='incident_date']", "2026-10-20")
    page.select_option("[name='incident_place']", victim.get("place", "rumah_tangga"))
    page.fill("[name='kronologi']", victim["kronologi"])
    choose(page, "victims-0-sex", "P")
    page.fill("[name='victims-0-name']", victim["name"])
    page.fill("[name='victims-0-birth_date']", victim["birth_date"])
    for v in victim["violence_types"]:
        page.check(f"input[name='victims-0-violence_types'][value='{v}']")
    screening = victim.get("tppo")
    if screening:
        section = page.locator("#victims-0 details[data-case-type='tppo']")
        if section.get_attribute("open") is None:
            section.locator(":scope > summary").click()
        for field, values in screening.items():
            for value in values:
                section.locator(f"input[name='victims-0-{field}'][value='{value}']").check()
    with page.expect_navigation():
        page.locator("button[name='action'][value='register']").click()
    match = re.match(rf"{re.escape(base)}/kasus/(\d+)$", page.url)
    assert match, f"the complaint was not registered: {page.url}"
    assert page.locator("main > .alert-success[role='alert']").is_visible()
    return int(match.group(1))


def victim_id_of(page: Any, case_id: int) -> int:
    links = page.locator(f"section#asesmen a[href^='/kasus/{case_id}/korban/']")
    assert links.count() == 1
    href = links.get_attribute("href") or ""
    match = re.fullmatch(rf"/kasus/{case_id}/korban/(\d+)/asesmen", href)
    assert match, href
    return int(match.group(1))


def record_service_consent(page: Any, base: str, case_id: int, victim_id: int) -> None:
    form = page.locator(
        f"section#persetujuan form[action^='/kasus/{case_id}/korban/{victim_id}/persetujuan']"
    )
    open_details(form)
    prefix = f"consent{victim_id}"
    form.locator(f"[name='{prefix}-purpose']").select_option("layanan")
    form.locator(f"[name='{prefix}-decision']").select_option("setuju")
    form.locator(f"[name='{prefix}-given_by']").select_option("korban")
    assert submit(page, base, case_id, form) == f"persetujuan-{victim_id}"
    assert page.locator(f"#persetujuan-{victim_id} [data-consent-in-force]").count() == 1


def fill_assessment(page: Any, base: str, case_id: int, victim_id: int) -> None:
    page.locator(f"section#asesmen a[href='/kasus/{case_id}/korban/{victim_id}/asesmen']").click()
    page.wait_for_url(f"{base}/kasus/{case_id}/korban/{victim_id}/asesmen")
    levels = {
        AssessmentArea.FISIK: "sedang",
        AssessmentArea.PSIKOLOGIS: "tinggi",
        AssessmentArea.SOSIAL: "sedang",
        AssessmentArea.EKONOMI: "rendah",
        AssessmentArea.PENDIDIKAN: "tidak_ada",
        AssessmentArea.HUKUM: "rendah",
        AssessmentArea.SPIRITUAL: "tidak_ada",
    }
    for area, level in levels.items():
        page.check(f"input[name='{area.value}-level'][value='{level}']")
        if level in ("sedang", "tinggi"):
            page.fill(f"[name='{area.value}-needs']", f"Kebutuhan {area.value}: pendampingan.")
            page.fill(f"[name='{area.value}-risks']", f"Risiko {area.value} dipantau.")
    page.fill("[name='summary']", "Korban membutuhkan rehabilitasi sosial dan pendampingan.")
    page.check("input[name='complete']")
    assert submit(page, base, case_id, page.locator("main form[method='post']")) == "asesmen"
    done = page.locator("section#asesmen li .badge.text-bg-success")
    assert done.count() == 1


def plan_service(page: Any, base: str, case_id: int, victim_id: int, service: str) -> int:
    """Add a service of the case's own agency to the plan; returns the track id."""
    form = page.locator(f"section#layanan form[data-providers][action='/kasus/{case_id}/rencana']")
    open_details(form)
    form.locator("select[name='victim']").select_option(str(victim_id))
    form.locator("select[name='service_type']").select_option(service)
    form.locator("select[name='provider']").select_option("")  # this agency
    form.locator("input[name='target_date']").fill("2026-12-15")
    fragment = submit(page, base, case_id, form)
    match = re.fullmatch(r"track-(\d+)", fragment)
    assert match, fragment
    track_id = int(match.group(1))
    assert page.locator(f"article#track-{track_id}.wf-track-direncanakan").is_visible()
    return track_id


def assert_track(page: Any, track_id: int, state: TrackState, name: Labels) -> None:
    card = page.locator(f"article#track-{track_id}")
    assert f"wf-track-{state.value}" in (card.get_attribute("class") or "").split()
    assert card.locator(".card-header .badge").inner_text().strip() == name(state)


def assert_timeline(page: Any, name: Labels, steps: list[tuple[Any, Any]]) -> None:
    items = page.locator("section#timeline li[data-kind='transition']").all_inner_texts()
    text = [" ".join(i.split()) for i in items]
    for before, after in steps:
        wanted = f"{name(before)} → {name(after)}"
        assert any(wanted in t for t in text), f"timeline lacks {wanted!r}: {text}"


# --- the journeys ------------------------------------------------------------------------------


def test_ktpa_case_from_registration_to_termination_on_a_phone(live_server, page, app):
    base, name = live_server, Labels(app)

    # The intake form has no case-manager field and no other page assigns one, so the case
    # manager registers the complaint (a case manager sees the unassigned cases they registered).
    sign_in(page, base, MANAGER)
    case_id = register(
        page,
        base,
        risk="sedang",
        types=["ktp"],
        victim={
            "name": "Sekar Uji Alur",
            "birth_date": "1991-05-06",
            "violence_types": ["fisik", "psikis"],
            "kronologi": "Korban datang setelah kekerasan berulang di rumah.",
        },
    )
    assert stage(page) == name(S.DITERIMA)

    take_step(page, base, case_id, "start_identification")
    assert stage(page) == name(S.IDENTIFIKASI)
    # a case of medium risk goes straight to the assessment: no emergency step is offered
    assert step_form(page, case_id, "start_emergency").count() == 0
    take_step(page, base, case_id, "start_assessment")
    assert stage(page) == name(S.ASESMEN)

    # the plan cannot be proposed yet: consent and assessment are missing
    assert step_form(page, case_id, "propose_plan").count() == 0
    assert disabled_steps(page) == 1
    assert len(still_needed(page)) == 2

    victim_id = victim_id_of(page, case_id)
    fill_assessment(page, base, case_id, victim_id)
    assert len(still_needed(page)) == 1  # the consent only
    assert step_form(page, case_id, "propose_plan").count() == 0
    record_service_consent(page, base, case_id, victim_id)
    assert still_needed(page) == []
    assert disabled_steps(page) == 0

    rehab = plan_service(page, base, case_id, victim_id, "rehabilitasi_sosial")
    accompany = plan_service(page, base, case_id, victim_id, "pendampingan")
    take_step(page, base, case_id, "propose_plan")
    assert stage(page) == name(S.RENCANA_INTERVENSI)
    # only a supervisor starts the intervention: the case manager sees it as someone else's step
    assert step_form(page, case_id, "start_intervention").count() == 0
    screenshot(page, "30-ktpa-plan-proposed")

    sign_in(page, base, SUPERVISOR)
    page.goto(f"{base}/kasus/{case_id}")
    form = step_form(page, case_id, "start_intervention")
    open_details(form)
    assert form.locator("input[name='approve']").get_attribute("required") is not None
    take_step(page, base, case_id, "start_intervention", approve=True)
    assert stage(page) == name(S.INTERVENSI)

    sign_in(page, base, MANAGER)
    page.goto(f"{base}/kasus/{case_id}")
    take_track_step(page, base, case_id, rehab, "start")
    take_track_step(page, base, case_id, accompany, "start")
    # both services run at the same time
    assert_track(page, rehab, T.BERJALAN, name)
    assert_track(page, accompany, T.BERJALAN, name)
    assert stage(page) == name(S.INTERVENSI)
    screenshot(page, "31-ktpa-parallel-tracks")

    take_track_step(
        page,
        base,
        case_id,
        rehab,
        "complete",
        outcome="Korban mengikuti enam sesi konseling; kondisi membaik.",
    )
    assert_track(page, rehab, T.SELESAI, name)
    assert_track(page, accompany, T.BERJALAN, name)
    take_track_step(
        page,
        base,
        case_id,
        accompany,
        "decline_by_victim",
        reason="Korban memilih didampingi keluarga; sudah dijelaskan manfaat layanan.",
    )
    assert_track(page, accompany, T.DITOLAK_KORBAN, name)
    # the informed refusal is in the consent ledger
    assert page.locator(f"#persetujuan-{victim_id} tbody tr").count() == 2

    take_step(page, base, case_id, "start_monitoring")
    assert stage(page) == name(S.PEMANTAUAN)
    assert step_form(page, case_id, "terminate").count() == 0  # a supervisor's step

    sign_in(page, base, SUPERVISOR)
    page.goto(f"{base}/kasus/{case_id}")
    take_step(page, base, case_id, "terminate", approve=True)
    assert stage(page) == name(S.TERMINASI)
    assert page.locator("header .badge").first.inner_text().strip() == name(S.TERMINASI)
    assert_track(page, rehab, T.SELESAI, name)
    assert_track(page, accompany, T.DITOLAK_KORBAN, name)
    assert page.locator("section#alur .wf-actions").count() == 0  # nothing left to do
    assert_timeline(
        page,
        name,
        [
            (S.DITERIMA, S.IDENTIFIKASI),
            (S.IDENTIFIKASI, S.ASESMEN),
            (S.ASESMEN, S.RENCANA_INTERVENSI),
            (S.RENCANA_INTERVENSI, S.INTERVENSI),
            (S.INTERVENSI, S.PEMANTAUAN),
            (S.PEMANTAUAN, S.TERMINASI),
            (T.DIRENCANAKAN, T.BERJALAN),
            (T.BERJALAN, T.SELESAI),
            (T.BERJALAN, T.DITOLAK_KORBAN),
        ],
    )
    screenshot(page, "32-ktpa-terminated")


def test_high_risk_tppo_case_through_emergency_to_termination(live_server, page, app):
    base, name = live_server, Labels(app)
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in(page, base, MANAGER)
    case_id = register(
        page,
        base,
        risk="tinggi",
        types=["tppo"],
        victim={
            "name": "Melati Uji Alur",
            "birth_date": "1999-08-17",
            "violence_types": ["trafficking", "eksploitasi"],
            "place": "tempat_kerja",
            "kronologi": "Korban direkrut dengan janji kerja di luar negeri lalu disekap.",
            "tppo": {
                "tppo_proses": ["perekrutan", "pengiriman"],
                "tppo_cara": ["penipuan", "penyekapan"],
                "tppo_tujuan": ["kerja_paksa"],
            },
        },
    )
    assert stage(page) == name(S.DITERIMA)
    take_step(page, base, case_id, "start_identification")
    assert stage(page) == name(S.IDENTIFIKASI)

    # high risk: the assessment waits for the emergency handling
    assert step_form(page, case_id, "start_assessment").count() == 0
    assert disabled_steps(page) == 1
    assert len(still_needed(page)) == 1
    screenshot(page, "40-tppo-emergency-first")
    take_step(page, base, case_id, "start_emergency")
    assert stage(page) == name(S.KEDARURATAN)

    # leaving the emergency asks what was done and a confirmation (both required)
    form = step_form(page, case_id, "start_assessment")
    open_details(form)
    assert form.locator("textarea[name='reason']").get_attribute("required") is not None
    assert form.locator("input[name='approve']").get_attribute("required") is not None
    take_step(
        page,
        base,
        case_id,
        "start_assessment",
        note="Korban dijemput dan ditempatkan di rumah aman; pemeriksaan kesehatan awal.",
        approve=True,
    )
    assert stage(page) == name(S.ASESMEN)

    # the plan cannot be proposed before the assessment and the consent
    assert step_form(page, case_id, "propose_plan").count() == 0
    assert disabled_steps(page) == 1
    assert len(still_needed(page)) == 2

    victim_id = victim_id_of(page, case_id)
    record_service_consent(page, base, case_id, victim_id)
    assert len(still_needed(page)) == 1  # the assessment only
    fill_assessment(page, base, case_id, victim_id)
    assert still_needed(page) == []

    shelter = plan_service(page, base, case_id, victim_id, "penampungan_sementara")
    accompany = plan_service(page, base, case_id, victim_id, "pendampingan")
    take_step(page, base, case_id, "propose_plan")
    assert stage(page) == name(S.RENCANA_INTERVENSI)

    sign_in(page, base, SUPERVISOR)
    page.goto(f"{base}/kasus/{case_id}")
    take_step(page, base, case_id, "start_intervention", approve=True)
    assert stage(page) == name(S.INTERVENSI)

    sign_in(page, base, MANAGER)
    page.goto(f"{base}/kasus/{case_id}")
    take_track_step(page, base, case_id, shelter, "start")
    take_track_step(page, base, case_id, accompany, "start")
    assert_track(page, shelter, T.BERJALAN, name)
    assert_track(page, accompany, T.BERJALAN, name)
    take_track_step(
        page, base, case_id, shelter, "complete", outcome="Korban tinggal 30 hari di rumah aman."
    )
    take_track_step(page, base, case_id, accompany, "decline_by_victim")
    take_step(page, base, case_id, "start_monitoring")
    assert stage(page) == name(S.PEMANTAUAN)

    sign_in(page, base, SUPERVISOR)
    page.goto(f"{base}/kasus/{case_id}")
    take_step(page, base, case_id, "terminate", approve=True)
    assert stage(page) == name(S.TERMINASI)
    assert_track(page, shelter, T.SELESAI, name)
    assert_track(page, accompany, T.DITOLAK_KORBAN, name)
    assert_timeline(
        page,
        name,
        [
            (S.IDENTIFIKASI, S.KEDARURATAN),
            (S.KEDARURATAN, S.ASESMEN),
            (S.PEMANTAUAN, S.TERMINASI),
        ],
    )
    screenshot(page, "41-tppo-terminated")
