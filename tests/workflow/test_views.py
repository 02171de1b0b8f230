"""The workflow from the case page: the panel and its step forms, the intervention plan, the
service-track steps, transfers between agencies and the assessment page.

Steps are posted the way a browser posts the page's own form (every field the form renders, as
rendered), then changed where the person would type or tick something. A refused step answers
422 with the reason on the case page and saves nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlparse

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.assessments.models import Assessment
from app.assessments.operations import FindingData, save_assessment
from app.cases.intake import ConsentData, VictimData
from app.cases.models import Case, ConsentEntry
from app.core.enums import (
    AssessmentArea,
    CaseState,
    Channel,
    Risk,
    Role,
    ServiceType,
    TrackState,
    TransferState,
)
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow import operations as engine
from app.workflow.facts import PLAN_APPROVED
from app.workflow.labels import CASE_STAGES
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.operations import REASONS
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import login_as
from workflows import definition, ktpa_v1, track_v1

VICTIM_NAME = "Siti Aminah"  # the victim of the default intake (tests/factories/cases.py)
PERPETRATOR_NAME = "Joko"
AREAS = [a.value for a in AssessmentArea]
TRANSFER_REASON = "Korban pindah domisili ke wilayah lembaga penerima."


# --- reading pages -----------------------------------------------------------------------------


@dataclass
class Form:
    """One ``<form>`` of a page: what a browser sends for it (no button pressed) and the
    attributes of its controls."""

    action: str | None
    pairs: list[tuple[str, str]] = field(default_factory=list)
    controls: list[dict[str, str | None]] = field(default_factory=list)

    def data(self, **changes: Any) -> MultiDict[str, str]:
        """The browser's submission with ``changes`` (None leaves a field out)."""
        data = MultiDict(self.pairs)
        for key, value in changes.items():
            data.poplist(key)
            if value is not None:
                data.add(key, str(value))
        return data

    def has_control(self, name: str, kind: str | None = None) -> bool:
        return any(
            c.get("name") == name and (kind is None or c.get("type") == kind) for c in self.controls
        )


class _FormReader(HTMLParser):
    TEXT_INPUTS = ("text", "hidden", "date", "number", "email", None)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.form = Form(action=a.get("action"))
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        if tag in ("input", "select", "textarea", "button"):
            self.form.controls.append({"tag": tag, **a})
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.form.pairs.append((name, a.get("value") or "on"))
            elif kind in self.TEXT_INPUTS:
                self.form.pairs.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select:
            self.options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select and self.form is not None:
            chosen = [v for v, selected in self.options if selected] or [
                v for v, _ in self.options[:1]
            ]
            if chosen:
                self.form.pairs.append((self.select, chosen[0]))
            self.select = None
        elif tag == "textarea" and self.textarea and self.form is not None:
            self.form.pairs.append((self.textarea, "".join(self.text).lstrip("\n")))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text.append(data)


def forms_of(html: str) -> list[Form]:
    reader = _FormReader()
    reader.feed(html)
    return reader.forms


def actions_of(html: str) -> list[str]:
    return [f.action for f in forms_of(html) if f.action]


def form_for(html: str, action: str) -> Form:
    found = [f for f in forms_of(html) if f.action == action]
    assert found, f"no form posting to {action}; forms: {actions_of(html)}"
    return found[0]


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<section id="{element_id}".*?</section>', html, flags=re.S)
    assert match, f"no section {element_id}"
    return match.group(0)


def alerts(html: str) -> list[str]:
    """The texts of the workflow's error alerts (not the flashed messages), spaces collapsed."""
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", m)).split())
        for m in re.findall(
            r'<div class="alert alert-danger py-2[^"]*" role="alert">(.*?)</div>', html, flags=re.S
        )
    ]


def en(text: Any) -> str:
    with force_locale("en"):
        return str(text)


def english(client: Any) -> Any:
    client.post("/bahasa", data={"locale": "en"})
    return client


def signed_in(app: Any, user: Any) -> Any:
    """A browser of its own, signed in as ``user``, reading English."""
    client = app.test_client()
    login_as(client, user)
    return english(client)


def page(client: Any, case: Any) -> str:
    response = client.get(f"/kasus/{case.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the database ------------------------------------------------------------------------------


def fresh(model: Any, id_: int) -> Any:
    db.session.expire_all()
    return db.session.get(model, id_)


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def case_rows(case: Any) -> int:
    return count(CaseTransition, CaseTransition.case_id == case.id)


def step_url(case: Any, event: str) -> str:
    return f"/kasus/{case.id}/langkah/{event}"


def track_url(case: Any, track: Any, event: str) -> str:
    return f"/kasus/{case.id}/layanan/{track.id}/{event}"


# --- moving a case along (through the engine, as the people would) -----------------------------


def findings(level: str = "rendah") -> list[FindingData]:
    return [FindingData(area=a, level=level) for a in AssessmentArea]


def to_assessment(case: Any, actor: Any) -> None:
    engine.apply_case_event(
        case.id, "start_identification", actor=actor, expected_version=case.version
    )
    engine.apply_case_event(case.id, "start_assessment", actor=actor, expected_version=case.version)


def complete_assessments(case: Any, actor: Any) -> None:
    for victim in case.victims:
        save_assessment(case, victim, findings(), "Ringkasan.", complete=True, actor=actor)


def to_plan(case: Any, manager: Any) -> None:
    to_assessment(case, manager)
    complete_assessments(case, manager)
    engine.apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)


def plan(case: Any, actor: Any, service: ServiceType = ServiceType.PENDAMPINGAN) -> ServiceTrack:
    return engine.plan_service(
        case.id,
        case.victims[0].id,
        service,
        provider=None,
        target_date=None,
        actor=actor,
        expected_version=case.version,
    )


def to_intervention(case: Any, manager: Any, supervisor: Any) -> ServiceTrack:
    to_plan(case, manager)
    track = plan(case, manager)
    engine.apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({PLAN_APPROVED}),
        expected_version=case.version,
    )
    return track


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def agency():
    return AgencyFactory(
        services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.REHABILITASI_SOSIAL]
    )


@pytest.fixture
def receiving():
    return AgencyFactory(services=[ServiceType.PENGADUAN])


@pytest.fixture
def third():
    return AgencyFactory(services=[ServiceType.PENGADUAN])


@pytest.fixture
def intake_officer(agency):
    return UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])


@pytest.fixture
def case(agency, intake_officer, manager):
    case = create_case(agency, actor=intake_officer, case_manager=manager)
    db.session.flush()
    return case


# --- the panel ---------------------------------------------------------------------------------


def test_the_case_manager_sees_the_stage_and_the_first_step(app, case, manager):
    html = page(signed_in(app, manager), case)
    panel = section(html, "alur")
    assert en(CASE_STAGES[CaseState.DITERIMA]) in unescape(panel)
    form = form_for(panel, step_url(case, "start_identification"))
    assert form.data()["version"] == str(case.version)
    assert not form.has_control("approve")  # nothing to confirm on this step


def test_an_intake_officer_sees_no_step_forms(app, agency, intake_officer):
    case = create_case(agency, actor=intake_officer)  # nobody manages it yet: still theirs
    html = page(signed_in(app, intake_officer), case)
    assert en(CASE_STAGES[CaseState.DITERIMA]) in unescape(section(html, "alur"))
    actions = actions_of(html)
    assert not [a for a in actions if "/langkah/" in a], actions
    assert f"/kasus/{case.id}/pelimpahan" not in actions
    assert f"/kasus/{case.id}/rencana" not in actions


def test_only_the_supervisor_gets_the_approval_of_the_plan(app, case, manager, supervisor):
    to_plan(case, manager)
    plan(case, manager)
    url = step_url(case, "start_intervention")

    form = form_for(section(page(signed_in(app, supervisor), case), "alur"), url)
    assert form.has_control("approve", "checkbox")
    assert "approve" not in form.data()  # not ticked for them

    html = page(signed_in(app, manager), case)
    assert url not in actions_of(html)


# --- case steps --------------------------------------------------------------------------------


def test_a_step_taken_from_the_page_moves_the_case(app, case, manager):
    client = signed_in(app, manager)
    url = step_url(case, "start_identification")
    data = form_for(page(client, case), url).data(reason="Telepon korban, risiko dikonfirmasi.")
    before = case_rows(case)

    response = client.post(url, data=data, follow_redirects=True)

    assert response.status_code == 200, alerts(response.get_data(as_text=True))
    assert response.request.path == f"/kasus/{case.id}"
    assert fresh(Case, case.id).state is CaseState.IDENTIFIKASI
    assert case_rows(case) == before + 1
    row = db.session.scalar(
        select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.event == "start_identification"
        )
    )
    assert (row.from_state, row.to_state, row.actor_id) == ("diterima", "identifikasi", manager.id)
    assert row.reason == "Telepon korban, risiko dikonfirmasi."


def test_a_step_on_a_stale_page_is_refused_and_changes_nothing(app, case, manager):
    client = signed_in(app, manager)
    url = step_url(case, "start_identification")
    data = form_for(page(client, case), url).data()
    case.risk = Risk.RENDAH  # someone else changed the case since the page was shown
    db.session.flush()
    version, before = case.version, case_rows(case)

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert [a for a in alerts(response.get_data(as_text=True)) if "Someone else changed" in a]
    stored = fresh(Case, case.id)
    assert (stored.state, stored.version) == (CaseState.DITERIMA, version)
    assert case_rows(case) == before


def test_a_step_whose_guard_fails_is_refused_with_the_reason(app, case, manager):
    to_assessment(case, manager)  # no assessment written yet
    db.session.flush()
    client = signed_in(app, manager)
    before = case_rows(case)

    response = client.post(
        step_url(case, "propose_plan"), data={"version": str(case.version), "reason": ""}
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert en(REASONS[ktpa_v1.ASSESSMENT_INCOMPLETE]) in alerts(html)
    assert fresh(Case, case.id).state is CaseState.ASESMEN
    assert case_rows(case) == before


def test_starting_the_intervention_needs_the_approval_ticked(app, case, manager, supervisor):
    to_plan(case, manager)
    plan(case, manager)
    client = signed_in(app, supervisor)
    url = step_url(case, "start_intervention")
    form = form_for(page(client, case), url)
    before = case_rows(case)

    refused = client.post(url, data=form.data())  # the box left unticked

    assert refused.status_code == 422
    assert "Tick the confirmation to take this step." in alerts(refused.get_data(as_text=True))
    assert fresh(Case, case.id).state is CaseState.RENCANA_INTERVENSI
    assert case_rows(case) == before

    taken = client.post(url, data=form.data(approve="y"))
    assert taken.status_code == 302, alerts(taken.get_data(as_text=True))
    assert fresh(Case, case.id).state is CaseState.INTERVENSI
    row = db.session.scalar(
        select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.event == "start_intervention"
        )
    )
    assert row.actor_id == supervisor.id
    assert row.data["approvals"] == [PLAN_APPROVED]


def test_closing_needs_a_reason(app, case, supervisor):
    client = signed_in(app, supervisor)
    url = step_url(case, "close")
    data = form_for(page(client, case), url).data(closure_kind="lainnya", reason="")
    before = case_rows(case)

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert en(REASONS[definition.REASON_REQUIRED]) in alerts(response.get_data(as_text=True))
    stored = fresh(Case, case.id)
    assert (stored.state, stored.closed_at) == (CaseState.DITERIMA, None)
    assert case_rows(case) == before


def test_a_step_submitted_twice_is_refused_with_the_reason_shown(app, case, manager):
    """The second click of a double submission: the case moved on, the step is no longer on the
    page; the person is still told why nothing happened."""
    client = signed_in(app, manager)
    url = step_url(case, "start_identification")
    data = form_for(page(client, case), url).data()
    assert client.post(url, data=data).status_code == 302
    rows = case_rows(case)

    again = client.post(url, data=data)

    assert again.status_code == 422
    assert fresh(Case, case.id).state is CaseState.IDENTIFIKASI
    assert case_rows(case) == rows
    assert alerts(again.get_data(as_text=True)), "the refusal is not shown anywhere"


def test_closing_needs_a_kind_from_the_list(app, case, supervisor):
    client = signed_in(app, supervisor)
    url = step_url(case, "close")
    data = form_for(page(client, case), url).data(closure_kind="sesuka_hati", reason="Alasan.")
    before = case_rows(case)

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert alerts(section(response.get_data(as_text=True), "alur"))
    assert fresh(Case, case.id).state is CaseState.DITERIMA
    assert case_rows(case) == before


@pytest.mark.parametrize("whose", ["another_agency", "unknown"])
def test_a_duplicate_of_a_case_the_user_cannot_see_is_refused(app, case, supervisor, third, whose):
    if whose == "another_agency":
        other = create_case(third)
        db.session.flush()
        reference = other.reference
    else:
        reference = "TIDAK-ADA/2025/0001"
    client = signed_in(app, supervisor)
    url = step_url(case, "close")
    data = form_for(page(client, case), url).data(
        closure_kind="duplikat", duplicate_reference=reference, reason="Pengaduan ganda."
    )

    response = client.post(url, data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give the reference of the case it duplicates (a case you can see)." in alerts(html)
    stored = fresh(Case, case.id)
    assert (stored.state, stored.duplicate_of_id) == (CaseState.DITERIMA, None)


def test_a_duplicate_of_a_visible_case_is_linked(app, agency, case, supervisor):
    original = create_case(agency)
    db.session.flush()
    client = signed_in(app, supervisor)
    url = step_url(case, "close")
    data = form_for(page(client, case), url).data(
        closure_kind="duplikat",
        duplicate_reference=original.reference,
        reason="Pengaduan yang sama dicatat dua kali.",
    )

    response = client.post(url, data=data)

    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    stored = fresh(Case, case.id)
    assert stored.state is CaseState.DITUTUP
    assert stored.duplicate_of_id == original.id
    assert stored.closed_reason == "Pengaduan yang sama dicatat dua kali."
    assert stored.closed_at is not None


# --- the intervention plan ---------------------------------------------------------------------


def test_the_plan_form_adds_a_track(app, case, manager):
    to_plan(case, manager)
    db.session.flush()
    client = signed_in(app, manager)
    url = f"/kasus/{case.id}/rencana"
    data = form_for(section(page(client, case), "layanan"), url).data(
        service_type=ServiceType.PENDAMPINGAN.value
    )

    response = client.post(url, data=data)

    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    track = db.session.scalar(select(ServiceTrack).where(ServiceTrack.case_id == case.id))
    assert track is not None
    assert (track.service_type, track.state) == (ServiceType.PENDAMPINGAN, TrackState.DIRENCANAKAN)
    assert track.victim_id == case.victims[0].id
    assert urlparse(response.headers["Location"]).fragment == f"track-{track.id}"
    assert f'id="track-{track.id}"' in section(page(client, case), "layanan")


@pytest.mark.parametrize("service", ["bukan_layanan", ""])
def test_a_service_outside_the_list_is_refused(app, case, manager, service):
    to_plan(case, manager)
    db.session.flush()
    client = signed_in(app, manager)
    url = f"/kasus/{case.id}/rencana"
    data = form_for(page(client, case), url).data(service_type=service)

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert alerts(section(response.get_data(as_text=True), "layanan"))
    assert count(ServiceTrack, ServiceTrack.case_id == case.id) == 0


# --- service-track steps -----------------------------------------------------------------------


def test_a_track_is_started_then_completed_with_its_outcome(app, case, manager, supervisor):
    track = to_intervention(case, manager, supervisor)
    db.session.flush()
    client = signed_in(app, manager)

    url = track_url(case, track, "start")
    started = client.post(url, data=form_for(page(client, case), url).data())
    assert started.status_code == 302, alerts(started.get_data(as_text=True))
    assert fresh(ServiceTrack, track.id).state is TrackState.BERJALAN

    url = track_url(case, track, "complete")
    data = form_for(page(client, case), url).data(outcome="Pendampingan psikologis 4 sesi.")
    completed = client.post(url, data=data)
    assert completed.status_code == 302, alerts(completed.get_data(as_text=True))
    stored = fresh(ServiceTrack, track.id)
    assert stored.state is TrackState.SELESAI
    assert stored.end_reason == "Pendampingan psikologis 4 sesi."
    assert stored.ended_at is not None
    row = db.session.scalar(
        select(CaseTransition).where(
            CaseTransition.track_id == track.id, CaseTransition.event == "complete"
        )
    )
    assert row.data == {"outcome": "Pendampingan psikologis 4 sesi."}


def test_completing_a_track_needs_the_outcome(app, case, manager, supervisor):
    track = to_intervention(case, manager, supervisor)
    engine.apply_track_event(track.id, "start", actor=manager, expected_version=track.version)
    db.session.flush()
    client = signed_in(app, manager)
    url = track_url(case, track, "complete")
    data = form_for(page(client, case), url).data(outcome="")
    before = case_rows(case)

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert en(REASONS[track_v1.NO_OUTCOME]) in alerts(
        section(response.get_data(as_text=True), "layanan")
    )
    assert fresh(ServiceTrack, track.id).state is TrackState.BERJALAN
    assert case_rows(case) == before


def test_the_victims_refusal_is_recorded_in_the_consent_ledger(app, case, manager, supervisor):
    track = to_intervention(case, manager, supervisor)
    db.session.flush()
    client = signed_in(app, manager)
    url = track_url(case, track, "decline_by_victim")
    data = form_for(page(client, case), url).data(given_by="korban", reason="Korban menolak.")

    response = client.post(url, data=data)

    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    assert fresh(ServiceTrack, track.id).state is TrackState.DITOLAK_KORBAN
    entries = list(
        db.session.scalars(
            select(ConsentEntry).where(
                ConsentEntry.victim_id == track.victim_id,
                ConsentEntry.purpose == f"layanan:{ServiceType.PENDAMPINGAN.value}",
            )
        )
    )
    assert [(e.decision.value, e.given_by.value) for e in entries] == [("menolak", "korban")]


def test_a_guardians_refusal_names_the_guardian(app, case, manager, supervisor):
    track = to_intervention(case, manager, supervisor)
    db.session.flush()
    client = signed_in(app, manager)
    url = track_url(case, track, "decline_by_victim")
    data = form_for(page(client, case), url).data(given_by="wali", given_by_name="Ibu Korban")

    assert client.post(url, data=data).status_code == 302
    entry = db.session.scalar(
        select(ConsentEntry).where(
            ConsentEntry.victim_id == track.victim_id,
            ConsentEntry.purpose == f"layanan:{ServiceType.PENDAMPINGAN.value}",
        )
    )
    assert (entry.decision.value, entry.given_by.value, entry.given_by_name) == (
        "menolak",
        "wali",
        "Ibu Korban",
    )


def test_a_refusal_stated_by_someone_outside_the_list_is_refused(app, case, manager, supervisor):
    track = to_intervention(case, manager, supervisor)
    db.session.flush()
    client = signed_in(app, manager)
    url = track_url(case, track, "decline_by_victim")
    data = form_for(page(client, case), url).data(given_by="tetangga")
    consents = count(ConsentEntry)

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert alerts(section(response.get_data(as_text=True), "layanan"))
    assert fresh(ServiceTrack, track.id).state is TrackState.DIRENCANAKAN
    assert count(ConsentEntry) == consents


def test_a_refused_refusal_step_writes_no_consent_entry(app, case, manager, supervisor):
    track = to_intervention(case, manager, supervisor)
    engine.apply_track_event(track.id, "start", actor=manager, expected_version=track.version)
    engine.apply_track_event(
        track.id, "complete", actor=manager, outcome="Selesai.", expected_version=track.version
    )
    db.session.flush()
    client = signed_in(app, manager)
    consents, rows = count(ConsentEntry), case_rows(case)

    response = client.post(
        track_url(case, track, "decline_by_victim"),
        data={"version": str(track.version), "given_by": "korban", "reason": ""},
    )

    assert response.status_code == 422
    assert fresh(ServiceTrack, track.id).state is TrackState.SELESAI
    assert count(ConsentEntry) == consents
    assert case_rows(case) == rows
    assert alerts(response.get_data(as_text=True)), "the refusal is not shown anywhere"


# --- transfers ---------------------------------------------------------------------------------


def request_from_page(app: Any, case: Any, user: Any, to: Any) -> CaseTransfer:
    client = signed_in(app, user)
    url = f"/kasus/{case.id}/pelimpahan"
    form = form_for(section(page(client, case), "alur"), url)
    response = client.post(url, data=form.data(to_agency=to.id, reason=TRANSFER_REASON))
    assert response.status_code == 302, alerts(response.get_data(as_text=True))
    transfer = db.session.scalar(select(CaseTransfer).where(CaseTransfer.case_id == case.id))
    assert transfer is not None
    return transfer


def test_a_transfer_is_requested_accepted_and_both_cases_stay_readable(
    app, case, manager, supervisor, receiving
):
    transfer = request_from_page(app, case, manager, receiving)
    assert (transfer.state, transfer.to_agency_id) == (TransferState.MENUNGGU, receiving.id)
    assert transfer.reason == TRANSFER_REASON
    assert fresh(Case, case.id).state is CaseState.DITERIMA  # nothing moves until accepted

    boss = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    client = signed_in(app, boss)
    inbox = client.get("/pelimpahan")
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    assert f'id="transfer-{transfer.id}"' in html
    assert case.reference in html
    for secret in (VICTIM_NAME, "Aminah", PERPETRATOR_NAME):
        assert secret not in html, secret
    accept = form_for(html, f"/pelimpahan/{transfer.id}/terima")

    response = client.post(accept.action, data=accept.data())

    assert response.status_code == 302
    transfer = fresh(CaseTransfer, transfer.id)
    assert transfer.state is TransferState.DITERIMA
    new_case = db.session.get(Case, transfer.new_case_id)
    assert urlparse(response.headers["Location"]).path == f"/kasus/{new_case.id}"
    assert new_case.agency_id == receiving.id
    assert new_case.transferred_from_id == case.id
    assert new_case.channel is Channel.PELIMPAHAN_MASUK
    opened = client.get(f"/kasus/{new_case.id}")
    assert opened.status_code == 200
    assert VICTIM_NAME in opened.get_data(as_text=True)  # now theirs: the people are shown

    original = fresh(Case, case.id)
    assert original.state is CaseState.DILIMPAHKAN
    assert original.closed_at is not None
    for sender in (supervisor, manager):
        assert signed_in(app, sender).get(f"/kasus/{case.id}").status_code == 200
    # the case's history went with it: the receiving supervisor reads the original, read-only
    history = client.get(f"/kasus/{case.id}")
    assert history.status_code == 200
    assert f'action="/kasus/{case.id}/' not in history.get_data(as_text=True)  # no forms


def test_a_supervisor_of_a_third_agency_cannot_answer(app, case, manager, receiving, third):
    transfer = request_from_page(app, case, manager, receiving)
    outsider = signed_in(app, UserFactory(roles=[(Role.SUPERVISOR, third)]))
    cases = count(Case)

    inbox = outsider.get("/pelimpahan")
    assert inbox.status_code == 200
    assert f'id="transfer-{transfer.id}"' not in inbox.get_data(as_text=True)
    for answer, data in (
        ("terima", {"version": str(transfer.version)}),
        ("tolak", {"version": str(transfer.version), "decision_reason": TRANSFER_REASON}),
    ):
        response = outsider.post(f"/pelimpahan/{transfer.id}/{answer}", data=data)
        assert response.status_code == 404, answer

    assert fresh(CaseTransfer, transfer.id).state is TransferState.MENUNGGU
    assert count(Case) == cases
    assert fresh(Case, case.id).state is CaseState.DITERIMA


def test_declining_a_transfer_needs_a_reason(app, case, manager, receiving):
    transfer = request_from_page(app, case, manager, receiving)
    client = signed_in(app, UserFactory(roles=[(Role.SUPERVISOR, receiving)]))
    html = client.get("/pelimpahan").get_data(as_text=True)
    decline = form_for(html, f"/pelimpahan/{transfer.id}/tolak")

    refused = client.post(decline.action, data=decline.data(decision_reason=""))

    assert refused.status_code == 422
    assert alerts(refused.get_data(as_text=True))
    assert fresh(CaseTransfer, transfer.id).state is TransferState.MENUNGGU

    declined = client.post(
        decline.action, data=decline.data(decision_reason="Bukan wilayah kewenangan kami.")
    )
    assert declined.status_code == 302
    stored = fresh(CaseTransfer, transfer.id)
    assert (stored.state, stored.decision_reason) == (
        TransferState.DITOLAK,
        "Bukan wilayah kewenangan kami.",
    )
    assert stored.new_case_id is None
    assert fresh(Case, case.id).state is CaseState.DITERIMA


def test_the_sender_withdraws_a_request(app, case, manager, receiving):
    transfer = request_from_page(app, case, manager, receiving)
    client = signed_in(app, manager)
    url = f"/kasus/{case.id}/pelimpahan/{transfer.id}/tarik"
    response = client.post(url, data=form_for(page(client, case), url).data())
    assert response.status_code == 302
    assert fresh(CaseTransfer, transfer.id).state is TransferState.DIBATALKAN


def test_a_refused_withdrawal_is_explained(app, case, manager, receiving):
    """Withdrawing from a stale page (the request changed since): refused, and told why."""
    transfer = request_from_page(app, case, manager, receiving)
    client = signed_in(app, manager)
    url = f"/kasus/{case.id}/pelimpahan/{transfer.id}/tarik"
    data = form_for(page(client, case), url).data(version=str(transfer.version + 1))

    response = client.post(url, data=data)

    assert response.status_code == 422
    assert fresh(CaseTransfer, transfer.id).state is TransferState.MENUNGGU
    assert alerts(section(response.get_data(as_text=True), "alur")), "the refusal is not shown"


# --- the assessment page -----------------------------------------------------------------------


def assessment_url(case: Any, victim: Any) -> str:
    return f"/kasus/{case.id}/korban/{victim.id}/asesmen"


def assessment_data(
    level: str | None = "rendah", summary: str = "Korban butuh pendampingan.", **changes: Any
) -> dict[str, str]:
    data: dict[str, str] = {"version": "", "summary": summary, "complete": "y"}
    for area in AREAS:
        if level is not None:
            data[f"{area}-level"] = level
        data[f"{area}-needs"] = ""
        data[f"{area}-risks"] = ""
    data.update({k.replace("__", "-"): v for k, v in changes.items()})
    return {k: v for k, v in data.items() if v is not None}


def assessment_form(html: str) -> str:
    match = re.search(r'<form method="post" novalidate>.*?</form>', html, flags=re.S)
    assert match, "no assessment form"
    return match.group(0)


def test_the_case_manager_completes_the_assessment(app, case, manager):
    to_assessment(case, manager)
    db.session.flush()
    client = signed_in(app, manager)
    url = assessment_url(case, case.victims[0])
    shown = client.get(url)
    assert shown.status_code == 200
    form = assessment_form(shown.get_data(as_text=True))
    assert 'type="submit"' in form and "<fieldset disabled>" not in form
    assert f'href="{url}"' in section(page(client, case), "asesmen")

    response = client.post(
        url, data=assessment_data(ekonomi__level="sedang", ekonomi__needs="Modal usaha.")
    )

    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    location = urlparse(response.headers["Location"])
    assert (location.path, location.fragment) == (f"/kasus/{case.id}", "asesmen")
    assessment = db.session.scalar(select(Assessment).where(Assessment.case_id == case.id))
    assert assessment.completed_at is not None
    assert assessment.completed_by_id == manager.id
    assert assessment.finding(AssessmentArea.EKONOMI).needs == "Modal usaha."
    assert fresh(Case, case.id).assessment_completed_at == assessment.completed_at


def test_one_of_two_victims_assessed_leaves_the_case_incomplete(app, agency, manager):
    second = VictimData(
        sex="P",
        name="Rina Marlina",
        birth_date=dt.date(1990, 2, 2),
        violence_types=["psikis"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
    )
    first = VictimData(
        sex="P",
        name=VICTIM_NAME,
        birth_date=dt.date(1994, 5, 1),
        violence_types=["fisik"],
        consents=[
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED)
        ],
    )
    case = create_case(agency, actor=manager, case_manager=manager, victims=[first, second])
    to_assessment(case, manager)
    db.session.flush()
    client = signed_in(app, manager)

    response = client.post(assessment_url(case, case.victims[0]), data=assessment_data())

    assert response.status_code == 302
    assert count(Assessment, Assessment.case_id == case.id) == 1
    assert fresh(Case, case.id).assessment_completed_at is None


def test_completing_an_incomplete_assessment_is_refused(app, case, manager):
    to_assessment(case, manager)
    db.session.flush()
    client = signed_in(app, manager)

    response = client.post(
        assessment_url(case, case.victims[0]), data=assessment_data(fisik__level=None)
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a level for every area to complete the assessment." in unescape(html)
    assert count(Assessment, Assessment.case_id == case.id) == 0
    assert fresh(Case, case.id).assessment_completed_at is None


def test_someone_who_sees_but_does_not_manage_reads_only(app, agency, intake_officer, supervisor):
    case = create_case(agency, actor=intake_officer)  # unassigned: the intake officer sees it
    to_assessment(case, supervisor)
    db.session.flush()
    client = signed_in(app, intake_officer)
    url = assessment_url(case, case.victims[0])

    shown = client.get(url)

    assert shown.status_code == 200
    form = assessment_form(shown.get_data(as_text=True))
    assert "<fieldset disabled>" in form
    assert 'type="submit"' not in form
    assessments_before = count(Assessment)
    assert client.post(url, data=assessment_data()).status_code == 404
    assert count(Assessment) == assessments_before
    assert fresh(Case, case.id).assessment_completed_at is None


def test_the_assessment_is_read_only_once_the_case_moved_on(app, case, manager):
    to_plan(case, manager)
    db.session.flush()
    client = signed_in(app, manager)
    url = assessment_url(case, case.victims[0])
    form = assessment_form(client.get(url).get_data(as_text=True))
    assert "<fieldset disabled>" in form and 'type="submit"' not in form
    before = db.session.scalar(select(Assessment.version).where(Assessment.case_id == case.id))
    assert client.post(url, data=assessment_data(complete=None)).status_code == 404
    assert fresh(Case, case.id).assessment_completed_at is not None
    assert (
        db.session.scalar(select(Assessment.version).where(Assessment.case_id == case.id)) == before
    )


@pytest.mark.parametrize("who", ["other_agency_supervisor", "unassigned_case_manager"])
def test_out_of_scope_users_do_not_find_the_assessment(app, agency, third, case, manager, who):
    to_assessment(case, manager)
    complete_assessments(case, manager)
    db.session.flush()
    user = (
        UserFactory(roles=[(Role.SUPERVISOR, third)])
        if who == "other_agency_supervisor"
        else UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    )
    client = signed_in(app, user)
    response = client.get(assessment_url(case, case.victims[0]))
    assert response.status_code == 404
    assert "Ringkasan." not in response.get_data(as_text=True)
