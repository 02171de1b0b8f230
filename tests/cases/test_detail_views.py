"""The case page: header, people, consent, services, timeline; a child's identity is masked until
someone allowed asks, and every reveal is recorded."""

import datetime as dt

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases import permissions
from app.cases.intake import ConsentData, GuardianData, PerpetratorData, VictimData
from app.core.enums import CaseState, Role, ServiceType, TrackState
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransition
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import login_as

CHILD_NAME = "Ani Lestari Wulandari"
CHILD_NIK = "3273015501140002"
GUARDIAN = "Rahmat Hidayat"


def child_victim(**overrides):
    values = {
        "sex": "P",
        "name": CHILD_NAME,
        "nik": CHILD_NIK,
        "birth_date": dt.date(2014, 1, 15),
        "phone": "081234567890",
        "address": "Jl. Melati Gang Tujuh No. 3",
        "violence_types": ["seksual"],
        "guardians": [GuardianData(name=GUARDIAN, relation="ayah", phone="081298765432")],
        "consents": [
            ConsentData(
                purpose="layanan",
                decision="setuju",
                given_by="wali",
                given_by_name=GUARDIAN,
                at=RECEIVED,
            )
        ],
    }
    values.update(overrides)
    return VictimData(**values)


@pytest.fixture
def agency():
    return AgencyFactory(code="UPTD-DTL", name="UPTD PPA Kota Uji")


@pytest.fixture
def manager(agency):
    return UserFactory(name="Dewi Manajer", roles=[(Role.MANAJER_KASUS, agency)])


@pytest.fixture
def supervisor(agency):
    return UserFactory(name="Kepala Supervisor", roles=[(Role.SUPERVISOR, agency)])


@pytest.fixture
def intake_officer(agency):
    return UserFactory(name="Petugas Pengaduan", roles=[(Role.PETUGAS_PENGADUAN, agency)])


@pytest.fixture
def adult_case(agency, intake_officer, manager):
    return create_case(agency, actor=intake_officer, case_manager=manager)


@pytest.fixture
def child_case(agency, intake_officer, manager):
    return create_case(
        agency,
        actor=intake_officer,
        case_manager=manager,
        case_types=["kta"],
        risk="tinggi",
        reporter_kind="pihak_ketiga",
        reporter_name="Sri Wahyuni Tetangga",
        reporter_phone="081311112222",
        victims=[child_victim()],
        perpetrators=[PerpetratorData(name="Tono Pelaku", sex="L", age=40)],
    )


def english(client):
    client.post("/bahasa", data={"locale": "en"})
    return client


def test_header_shows_reference_state_risk_types_owner(app, client, adult_case, manager):
    login_as(client, manager)
    page = english(client).get(f"/kasus/{adult_case.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert adult_case.reference in html
    assert "UPTD PPA Kota Uji" in html and "UPTD-DTL" in html
    assert "Dewi Manajer" in html  # case manager
    assert "Petugas Pengaduan" in html  # registered by
    assert "Risk" in html and "badge text-bg-warning" in html  # sedang
    assert "9:30" in html  # received 02:30 UTC, shown in Asia/Jakarta
    assert page.headers["Cache-Control"].startswith("no-store")


def test_adult_victim_identity_is_shown_to_people_in_scope(client, adult_case, manager):
    login_as(client, manager)
    html = client.get(f"/kasus/{adult_case.id}").get_data(as_text=True)
    assert "Siti Aminah" in html
    assert "Joko" in html  # perpetrator of an adult victim
    assert "/identitas" not in html  # nothing to reveal


def test_child_identity_is_masked_by_default(client, child_case, manager):
    login_as(client, manager)
    html = client.get(f"/kasus/{child_case.id}").get_data(as_text=True)
    for secret in (
        CHILD_NAME,
        "Lestari",
        CHILD_NIK,
        "081234567890",
        "Melati",
        GUARDIAN,
        "081298765432",
        "Sri Wahyuni",
        "081311112222",
        "Tono Pelaku",
        "2014",
    ):
        assert secret not in html, secret
    assert "A.L.W." in html  # initials
    assert f"/kasus/{child_case.id}/korban/{child_case.victims[0].id}/identitas" in html
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.reveal_identity"))
        is None
    )


def test_reveal_shows_the_identity_once_and_records_it(client, child_case, manager):
    login_as(client, manager)
    victim = child_case.victims[0]
    response = client.post(f"/kasus/{child_case.id}/korban/{victim.id}/identitas")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert CHILD_NAME in html and CHILD_NIK in html and GUARDIAN in html
    assert "Sri Wahyuni Tetangga" in html  # the reporter, now that no child is masked
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "case.reveal_identity",
            AuditEntry.object_id == str(child_case.id),
        )
    )
    assert entry is not None
    assert entry.actor_id == manager.id and entry.changes == {"victim": "K1"}
    # For that response only: the next visit is masked again.
    assert CHILD_NAME not in client.get(f"/kasus/{child_case.id}").get_data(as_text=True)


def test_each_reveal_is_recorded(client, child_case, supervisor):
    login_as(client, supervisor)
    victim = child_case.victims[0]
    for _ in range(2):
        client.post(f"/kasus/{child_case.id}/korban/{victim.id}/identitas")
    count = len(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.reveal_identity")
        ).all()
    )
    assert count == 2


def test_reveal_refused_as_not_found_without_the_right(client, child_case, manager, monkeypatch):
    # the route's ``case_route(can=permissions.can_reveal_identity)`` holds the predicate itself;
    # the rule it is built on is taken away (the page asks the same predicate)
    monkeypatch.setattr(permissions, "can_edit_case", lambda user, case: False)
    assert not permissions.can_reveal_identity(manager, child_case)
    login_as(client, manager)
    victim = child_case.victims[0]
    html = client.get(f"/kasus/{child_case.id}").get_data(as_text=True)
    assert "/identitas" not in html
    response = client.post(f"/kasus/{child_case.id}/korban/{victim.id}/identitas")
    assert response.status_code == 404
    assert CHILD_NAME not in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.reveal_identity"))
        is None
    )


def test_revealing_an_adult_records_nothing(client, adult_case, manager):
    login_as(client, manager)
    victim = adult_case.victims[0]
    response = client.post(f"/kasus/{adult_case.id}/korban/{victim.id}/identitas")
    assert response.status_code == 302
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.reveal_identity"))
        is None
    )


def test_reveal_of_a_victim_of_another_case_is_not_found(client, child_case, adult_case, manager):
    login_as(client, manager)
    other = adult_case.victims[0]
    assert client.post(f"/kasus/{child_case.id}/korban/{other.id}/identitas").status_code == 404


def test_perpetrator_under_18_is_marked(client, agency, manager):
    case = create_case(
        agency,
        actor=manager,
        case_types=["kta"],
        victims=[child_victim(consents=[])],
        perpetrators=[PerpetratorData(name="Remaja Pelaku", sex="L", age=16)],
    )
    login_as(client, manager)
    html = english(client).get(f"/kasus/{case.id}").get_data(as_text=True)
    assert "Child in conflict with the law" in html
    assert "Remaja Pelaku" not in html


def test_kronologi_is_collapsed(client, adult_case, manager):
    login_as(client, manager)
    html = client.get(f"/kasus/{adult_case.id}").get_data(as_text=True)
    start = html.index('<details class="border rounded p-2">')
    assert "Korban datang dengan luka memar." in html[start : html.index("</details>", start)]


def test_service_tracks_are_listed(client, adult_case, manager):
    login_as(client, manager)
    html = english(client).get(f"/kasus/{adult_case.id}").get_data(as_text=True)
    assert "No services planned yet" in html
    provider = AgencyFactory(name="RSUD Kota Uji")
    db.session.add(
        ServiceTrack(
            case_id=adult_case.id,
            victim_id=adult_case.victims[0].id,
            service_type=ServiceType.REHABILITASI_KESEHATAN,
            provider_id=provider.id,
            state=TrackState.DIRENCANAKAN,
        )
    )
    html = client.get(f"/kasus/{adult_case.id}").get_data(as_text=True)
    assert "RSUD Kota Uji" in html and "Health rehabilitation" in html
    assert "No services planned yet" not in html


def test_timeline_merges_everything_in_time_order(
    client, adult_case, manager, tmp_path, app, monkeypatch
):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    victim = adult_case.victims[0]
    ops.add_consent(
        victim,
        ConsentData(purpose="dokumentasi", decision="setuju", given_by="korban", at=RECEIVED),
        actor=manager,
    )
    ops.add_attachment(adult_case, "surat.pdf", b"%PDF-1.4 surat", actor=manager)
    note = ops.add_note(adult_case, "Korban dihubungi.", actor=manager)
    db.session.add(
        CaseTransition(
            case_id=adult_case.id,
            actor_id=manager.id,
            event="identify",
            from_state=CaseState.DITERIMA.value,
            to_state=CaseState.IDENTIFIKASI.value,
            at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
        )
    )
    login_as(client, manager)
    client.post(f"/kasus/{adult_case.id}/korban/{victim.id}/identitas")
    html = client.get(f"/kasus/{adult_case.id}").get_data(as_text=True)
    timeline = html[html.index('id="timeline"') :]
    kinds = [part.split('"', 1)[0] for part in timeline.split('data-kind="')[1:]]
    # registration (transition), the intake consent, then the later consent, file, note, transition
    assert kinds == ["transition", "consent", "consent", "attachment", "note", "transition"]
    assert f"#note-{note.id}" in timeline and "surat.pdf" in timeline
    assert "Dewi Manajer" in timeline


def test_draft_page_for_its_author(client, agency, intake_officer):
    draft = create_case(agency, actor=intake_officer, draft=True)
    login_as(client, intake_officer)
    response = client.get(f"/kasus/{draft.id}")
    assert response.status_code == 200
    assert f'action="/kasus/{draft.id}/catatan"' not in response.get_data(as_text=True)
