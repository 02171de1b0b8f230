"""Planning services, transferring a case to another agency, and who may take a step on a case
(the engine's per-agency permission check)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from app.cases.intake import ConsentData, PerpetratorData, VictimData
from app.cases.models import Case, ConsentEntry
from app.core.enums import CaseState, Channel, Role, ServiceType, TrackState, TransferState
from app.core.errors import DomainError
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow.facts import PLAN_APPROVED
from app.workflow.models import CaseTransition
from app.workflow.operations import (
    TransitionRefused,
    accept_transfer,
    apply_case_event,
    apply_track_event,
    decline_transfer,
    open_transfer_of,
    plan_service,
    request_transfer,
    withdraw_transfer,
)
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case

TODAY = dt.date(2025, 3, 20)
SERVICES = [
    ServiceType.PENGADUAN,
    ServiceType.PENDAMPINGAN,
    ServiceType.BANTUAN_HUKUM,
    ServiceType.MEDIASI,
    ServiceType.REHABILITASI_SOSIAL,
]


@pytest.fixture
def agency():
    return AgencyFactory(services=SERVICES)


@pytest.fixture
def receiving():
    return AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(roles=[(Role.SUPERVISOR, receiving)])


def new_case(agency: Any, manager: Any, **intake: Any) -> Case:
    case = create_case(agency, actor=manager, case_manager=manager, **intake)
    db.session.flush()
    return case


def to_assessment(case: Case, actor: Any) -> None:
    apply_case_event(case.id, "start_identification", actor=actor, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=actor, expected_version=case.version)


def to_plan(case: Case, actor: Any) -> None:
    to_assessment(case, actor)
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page
    apply_case_event(case.id, "propose_plan", actor=actor, expected_version=case.version)


def to_intervention(case: Case, manager: Any, supervisor: Any) -> ServiceTrack:
    to_plan(case, manager)
    track = plan(case, manager, ServiceType.PENDAMPINGAN)
    apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({PLAN_APPROVED}),
        expected_version=case.version,
    )
    assert case.state is CaseState.INTERVENSI
    return track


def plan(
    case: Case,
    actor: Any,
    service: ServiceType | str,
    *,
    provider: Any = None,
    target_date: dt.date | None = None,
    victim_id: int | None = None,
) -> ServiceTrack:
    return plan_service(
        case.id,
        victim_id if victim_id is not None else case.victims[0].id,
        service,
        provider=provider,
        target_date=target_date,
        actor=actor,
        today=TODAY,
        expected_version=case.version,
    )


def tracks_of(case: Case) -> list[ServiceTrack]:
    return list(db.session.scalars(select(ServiceTrack).where(ServiceTrack.case_id == case.id)))


def domain_error(call: Any, /, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    return info.value


# --- plan_service ---------------------------------------------------------------------------


def test_the_case_manager_plans_services_at_assessment_and_plan_stages(agency, manager):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    first = plan(case, manager, ServiceType.PENDAMPINGAN, target_date=TODAY)
    assert first.state is TrackState.DIRENCANAKAN
    assert (first.case_id, first.victim_id) == (case.id, case.victims[0].id)
    assert first.target_date == TODAY

    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    second = plan(case, manager, ServiceType.BANTUAN_HUKUM, target_date=TODAY.replace(day=30))
    assert case.state is CaseState.RENCANA_INTERVENSI
    assert {t.id for t in tracks_of(case)} == {first.id, second.id}
    rows = db.session.scalars(
        select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.event == "plan"
        )
    ).all()
    assert sorted(r.track_id for r in rows) == sorted([first.id, second.id])
    assert all(r.actor_id == manager.id for r in rows)


def test_without_a_provider_the_case_agency_provides(agency, manager):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    track = plan(case, manager, ServiceType.PENDAMPINGAN)
    assert track.provider_id == agency.id


def test_another_agency_may_be_named_provider(agency, manager):
    lawyers = AgencyFactory(services=[ServiceType.BANTUAN_HUKUM])
    case = new_case(agency, manager)
    to_assessment(case, manager)
    track = plan(case, manager, ServiceType.BANTUAN_HUKUM, provider=lawyers)
    assert track.provider_id == lawyers.id


@pytest.mark.parametrize("state", [CaseState.INTERVENSI, CaseState.PEMANTAUAN])
def test_once_the_services_run_only_a_supervisor_adds_a_service(agency, manager, supervisor, state):
    case = new_case(agency, manager)
    track = to_intervention(case, manager, supervisor)
    if state is CaseState.PEMANTAUAN:
        apply_track_event(track.id, "start", actor=manager, expected_version=track.version)
        apply_case_event(case.id, "start_monitoring", actor=manager, expected_version=case.version)
        assert case.state is CaseState.PEMANTAUAN

    error = domain_error(plan, case, manager, ServiceType.BANTUAN_HUKUM)
    assert type(error) is DomainError  # told why, not refused as a stranger
    assert len(tracks_of(case)) == 1

    added = plan(case, supervisor, ServiceType.BANTUAN_HUKUM)
    assert added.state is TrackState.DIRENCANAKAN
    assert len(tracks_of(case)) == 2


@pytest.mark.parametrize("events", [[], ["start_identification"]])
def test_services_are_not_planned_before_the_assessment(agency, manager, supervisor, events):
    case = new_case(agency, manager)
    for event in events:
        apply_case_event(case.id, event, actor=manager, expected_version=case.version)
    for actor in (manager, supervisor):
        error = domain_error(plan, case, actor, ServiceType.PENDAMPINGAN)
        assert error.field == "service_type"
    assert tracks_of(case) == []


def test_services_are_not_planned_in_a_closed_case(agency, manager, supervisor):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    apply_case_event(
        case.id,
        "close",
        data={"closure": "lainnya"},
        actor=supervisor,
        reason="Korban pindah domisili",
        expected_version=case.version,
    )
    error = domain_error(plan, case, supervisor, ServiceType.PENDAMPINGAN)
    assert error.field == "service_type"
    assert tracks_of(case) == []


def test_others_may_not_plan(agency, manager):
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    outsider = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory(services=SERVICES))])
    case = new_case(agency, manager)
    to_assessment(case, manager)
    for actor in (officer, colleague, outsider):
        with pytest.raises(TransitionRefused):
            plan(case, actor, ServiceType.PENDAMPINGAN)
    assert tracks_of(case) == []


def test_mediation_is_refused_in_a_tpks_case_with_an_adult_perpetrator(agency, manager):
    case = new_case(
        agency,
        manager,
        case_types=["ktp", "tpks"],
        perpetrators=[
            PerpetratorData(name="Andi", sex="L", age=16, relationships={1: "tetangga"}),
            PerpetratorData(name="Joko", sex="L", age=35, relationships={1: "tetangga"}),
        ],
    )
    to_assessment(case, manager)
    error = domain_error(plan, case, manager, ServiceType.MEDIASI)
    assert error.field == "service_type"
    assert tracks_of(case) == []


def test_mediation_is_refused_in_a_tpks_case_when_a_perpetrator_age_is_unknown(agency, manager):
    case = new_case(
        agency,
        manager,
        case_types=["tpks"],
        perpetrators=[PerpetratorData(name="X", sex="L", age=None, relationships={1: "lainnya"})],
    )
    to_assessment(case, manager)
    assert domain_error(plan, case, manager, ServiceType.MEDIASI).field == "service_type"


def test_mediation_is_allowed_in_a_tpks_case_when_every_perpetrator_is_a_child(agency, manager):
    case = new_case(
        agency,
        manager,
        case_types=["tpks"],
        perpetrators=[
            PerpetratorData(name="Andi", sex="L", age=16, relationships={1: "tetangga"}),
            PerpetratorData(name="Bima", sex="L", age=17, relationships={1: "tetangga"}),
        ],
    )
    to_assessment(case, manager)
    track = plan(case, manager, ServiceType.MEDIASI)
    assert track.service_type is ServiceType.MEDIASI


def test_mediation_is_allowed_outside_tpks(agency, manager):
    case = new_case(agency, manager)  # ktp, adult perpetrator
    to_assessment(case, manager)
    assert plan(case, manager, ServiceType.MEDIASI).service_type is ServiceType.MEDIASI


def test_a_provider_that_does_not_provide_the_service_is_refused(agency, manager):
    clinic = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    case = new_case(agency, manager)
    to_assessment(case, manager)
    error = domain_error(plan, case, manager, ServiceType.BANTUAN_HUKUM, provider=clinic)
    assert error.field == "provider"
    # the case's own agency, named implicitly, must provide it too
    error = domain_error(plan, case, manager, ServiceType.PEMULANGAN)
    assert error.field == "provider"
    assert tracks_of(case) == []


def test_an_inactive_provider_is_refused(agency, manager):
    closed = AgencyFactory(services=[ServiceType.BANTUAN_HUKUM])
    closed.active = False
    case = new_case(agency, manager)
    to_assessment(case, manager)
    error = domain_error(plan, case, manager, ServiceType.BANTUAN_HUKUM, provider=closed)
    assert error.field == "provider"


def test_a_target_date_in_the_past_is_refused(agency, manager):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    error = domain_error(
        plan, case, manager, ServiceType.PENDAMPINGAN, target_date=TODAY - dt.timedelta(days=1)
    )
    assert error.field == "target_date"
    assert tracks_of(case) == []
    assert plan(case, manager, ServiceType.PENDAMPINGAN, target_date=TODAY).target_date == TODAY


def test_the_same_service_twice_for_one_victim_is_refused(agency, manager):
    case = new_case(
        agency,
        manager,
        victims=[
            VictimData(
                sex="P",
                name=name,
                birth_date=dt.date(1994, 5, 1),
                violence_types=["fisik"],
                consents=[
                    ConsentData(
                        purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                    )
                ],
            )
            for name in ("Siti Aminah", "Rina Wati")
        ],
        perpetrators=[],
    )
    to_assessment(case, manager)
    plan(case, manager, ServiceType.PENDAMPINGAN)
    error = domain_error(plan, case, manager, ServiceType.PENDAMPINGAN)
    assert error.field == "service_type"
    # the other victim may have the same service
    plan(case, manager, ServiceType.PENDAMPINGAN, victim_id=case.victims[1].id)
    assert len(tracks_of(case)) == 2


def test_a_victim_of_another_case_is_refused(agency, manager):
    case = new_case(agency, manager)
    other = new_case(agency, manager)
    to_assessment(case, manager)
    error = domain_error(
        plan, case, manager, ServiceType.PENDAMPINGAN, victim_id=other.victims[0].id
    )
    assert error.field == "victim"
    assert tracks_of(case) == [] and tracks_of(other) == []


# --- transfers ------------------------------------------------------------------------------


def deadlines_of(case: Case) -> list[Deadline]:
    return list(
        db.session.scalars(
            select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)
        )
    )


def test_a_transfer_request_needs_a_reason_of_ten_characters(agency, manager, receiving):
    case = new_case(agency, manager)
    for reason in (None, "", "   pendek  ", "123456789"):
        error = domain_error(
            request_transfer,
            case.id,
            receiving,
            reason,
            actor=manager,
            expected_version=case.version,
        )
        assert error.field == "reason"
    assert open_transfer_of(case.id) is None

    transfer = request_transfer(
        case.id, receiving, "  Di luar wilayah  ", actor=manager, expected_version=case.version
    )
    assert transfer.reason == "Di luar wilayah"
    assert transfer.state is TransferState.MENUNGGU
    assert (transfer.from_agency_id, transfer.to_agency_id) == (agency.id, receiving.id)
    assert transfer.requested_by_id == manager.id
    assert open_transfer_of(case.id) == transfer
    assert case.state is CaseState.DITERIMA  # nothing moves until the answer


def test_a_transfer_goes_to_another_active_agency_that_takes_complaints(agency, manager):
    case = new_case(agency, manager)
    reason = "Di luar kewenangan lembaga"
    no_complaints = AgencyFactory(services=[ServiceType.PENDAMPINGAN])
    inactive = AgencyFactory(services=[ServiceType.PENGADUAN])
    inactive.active = False
    for target in (agency, no_complaints, inactive):
        error = domain_error(
            request_transfer, case.id, target, reason, actor=manager, expected_version=case.version
        )
        assert error.field == "to_agency"
    assert open_transfer_of(case.id) is None


def test_only_one_open_transfer_per_case(agency, manager, receiving):
    case = new_case(agency, manager)
    first = request_transfer(
        case.id, receiving, "Di luar wilayah kerja", actor=manager, expected_version=case.version
    )
    another = AgencyFactory(services=[ServiceType.PENGADUAN])
    error = domain_error(
        request_transfer,
        case.id,
        another,
        "Di luar wilayah kerja",
        actor=manager,
        expected_version=case.version,
    )
    assert error.field == "to_agency"
    assert open_transfer_of(case.id) == first

    withdraw_transfer(first.id, actor=manager, expected_version=first.version)
    second = request_transfer(
        case.id, another, "Di luar wilayah kerja", actor=manager, expected_version=case.version
    )
    assert open_transfer_of(case.id) == second


def test_who_may_not_request_a_transfer(agency, manager, receiving):
    case = new_case(agency, manager)
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    for actor in (officer, colleague):
        with pytest.raises(TransitionRefused):
            request_transfer(
                case.id,
                receiving,
                "Di luar wilayah kerja",
                actor=actor,
                expected_version=case.version,
            )
    assert open_transfer_of(case.id) is None


def test_only_a_supervisor_of_the_receiving_agency_answers(
    agency, manager, supervisor, receiving, receiving_supervisor
):
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id, receiving, "Di luar wilayah kerja", actor=manager, expected_version=case.version
    )
    receiving_manager = UserFactory(roles=[(Role.MANAJER_KASUS, receiving)])
    for actor in (supervisor, manager, receiving_manager):
        with pytest.raises(TransitionRefused):
            accept_transfer(transfer.id, actor=actor, expected_version=transfer.version)
        with pytest.raises(TransitionRefused):
            decline_transfer(
                transfer.id, "Bukan wilayah kami", actor=actor, expected_version=transfer.version
            )
    assert transfer.state is TransferState.MENUNGGU
    assert case.state is CaseState.DITERIMA
    assert db.session.scalar(select(func.count(Case.id)).where(Case.agency_id == receiving.id)) == 0


def test_an_accepted_transfer_gives_the_receiving_agency_a_case_of_its_own(
    agency, manager, receiving, receiving_supervisor
):
    case = new_case(
        agency,
        manager,
        case_types=["ktp", "tpks"],
        victims=[
            VictimData(
                sex=sex,
                name=name,
                birth_date=dt.date(1994, 5, 1),
                violence_types=["seksual"],
                consents=[
                    ConsentData(
                        purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                    )
                ],
            )
            for name, sex in (("Siti Aminah", "P"), ("Budi Santoso", "L"))
        ],
        perpetrators=[PerpetratorData(name="Joko", sex="L", age=35, relationships={1: "lainnya"})],
    )
    apply_case_event(
        case.id, "start_identification", actor=manager, expected_version=case.version
    )  # first response met
    open_before = [d for d in deadlines_of(case) if d.is_open]
    assert [d.code for d in open_before] == [DeadlineCode.POLICE_REPORT_TPKS]

    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    accepted = accept_transfer(
        transfer.id, actor=receiving_supervisor, expected_version=transfer.version
    )

    assert accepted is transfer
    assert transfer.state is TransferState.DITERIMA
    assert transfer.decided_by_id == receiving_supervisor.id
    assert transfer.decided_at is not None
    assert open_transfer_of(case.id) is None

    # the original case is closed as transferred, its clocks stopped
    assert case.state is CaseState.DILIMPAHKAN
    assert case.closed_at is not None
    assert all(d.cancelled_at is not None for d in open_before)
    assert [d for d in deadlines_of(case) if d.is_open] == []

    # the receiving agency's own case
    new = transfer.new_case
    assert new is not None and new.id != case.id
    assert new.agency_id == receiving.id
    assert new.reference and new.reference != case.reference
    assert new.channel is Channel.PELIMPAHAN_MASUK
    assert new.transferred_from_id == case.id
    assert new.state is CaseState.DITERIMA
    assert new.case_manager_id is None
    assert sorted(t.value for t in new.case_types) == ["ktp", "tpks"]
    assert [(v.name, v.sex) for v in new.victims] == [(v.name, v.sex) for v in case.victims]
    assert len(new.victims) == 2
    assert [p.name for p in new.perpetrators] == ["Joko"]
    consents = db.session.scalar(
        select(func.count(ConsentEntry.id)).where(
            ConsentEntry.victim_id.in_([v.id for v in new.victims])
        )
    )
    assert consents == 0  # the consent is asked again by the agency that now serves them
    new_open = [d for d in deadlines_of(new) if d.is_open]
    assert DeadlineCode.FIRST_RESPONSE_SEDANG in {d.code for d in new_open}
    assert all(d.responsible_agency_id == receiving.id for d in new_open)


def test_the_transfer_transition_is_the_accepting_supervisors(
    agency, manager, receiving, receiving_supervisor
):
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    accept_transfer(transfer.id, actor=receiving_supervisor, expected_version=transfer.version)
    (row,) = db.session.scalars(
        select(CaseTransition).where(
            CaseTransition.case_id == case.id, CaseTransition.event == "transfer"
        )
    ).all()
    assert (row.from_state, row.to_state) == ("diterima", "dilimpahkan")
    assert (row.actor_id, row.actor_label) == (receiving_supervisor.id, "user")
    assert row.data["new_case"] == transfer.new_case.reference
    assert row.data["to_agency"] == receiving.code
    assert row.reason == "Korban pindah ke wilayah lain"


def test_a_declined_transfer_needs_a_reason_and_leaves_the_case(
    agency, manager, receiving, receiving_supervisor
):
    case = new_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    version = case.version
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    for reason in (None, "", "tidak"):
        error = domain_error(
            decline_transfer,
            transfer.id,
            reason,
            actor=receiving_supervisor,
            expected_version=transfer.version,
        )
        assert error.field == "decision_reason"
    assert transfer.state is TransferState.MENUNGGU

    decline_transfer(
        transfer.id,
        "Alamat korban di luar wilayah kami",
        actor=receiving_supervisor,
        expected_version=transfer.version,
    )
    assert transfer.state is TransferState.DITOLAK
    assert transfer.decision_reason == "Alamat korban di luar wilayah kami"
    assert transfer.decided_by_id == receiving_supervisor.id
    assert transfer.new_case_id is None
    assert case.state is CaseState.IDENTIFIKASI
    assert case.closed_at is None
    assert case.version == version
    assert open_transfer_of(case.id) is None
    assert db.session.scalar(select(func.count(Case.id)).where(Case.agency_id == receiving.id)) == 0


def test_the_sending_case_manager_withdraws_a_request(agency, manager, receiving):
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    with pytest.raises(TransitionRefused):
        withdraw_transfer(transfer.id, actor=colleague, expected_version=transfer.version)
    assert transfer.state is TransferState.MENUNGGU

    withdraw_transfer(transfer.id, actor=manager, expected_version=transfer.version)
    assert transfer.state is TransferState.DIBATALKAN
    assert transfer.decided_by_id == manager.id
    assert case.state is CaseState.DITERIMA
    assert open_transfer_of(case.id) is None


@pytest.mark.parametrize("first_answer", ["accept", "decline", "withdraw"])
def test_a_transfer_is_answered_once(
    agency, manager, receiving, receiving_supervisor, first_answer
):
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    if first_answer == "accept":
        accept_transfer(transfer.id, actor=receiving_supervisor, expected_version=transfer.version)
    elif first_answer == "decline":
        decline_transfer(
            transfer.id,
            "Alamat di luar wilayah",
            actor=receiving_supervisor,
            expected_version=transfer.version,
        )
    else:
        withdraw_transfer(transfer.id, actor=manager, expected_version=transfer.version)
    state = transfer.state
    cases_at_receiving = db.session.scalar(
        select(func.count(Case.id)).where(Case.agency_id == receiving.id)
    )

    domain_error(
        accept_transfer, transfer.id, actor=receiving_supervisor, expected_version=transfer.version
    )
    domain_error(
        decline_transfer,
        transfer.id,
        "Alamat di luar wilayah",
        actor=receiving_supervisor,
        expected_version=transfer.version,
    )
    domain_error(withdraw_transfer, transfer.id, actor=manager, expected_version=transfer.version)
    assert transfer.state is state
    assert (
        db.session.scalar(select(func.count(Case.id)).where(Case.agency_id == receiving.id))
        == cases_at_receiving
    )


# --- engine scoping -------------------------------------------------------------------------


def test_a_case_manager_not_managing_the_case_is_refused(agency, manager):
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = new_case(agency, manager)
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id, "start_identification", actor=colleague, expected_version=case.version
        )
    assert case.state is CaseState.DITERIMA
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    assert case.state is CaseState.IDENTIFIKASI


def test_a_case_manager_may_pick_up_an_unmanaged_case(agency, manager):
    case = create_case(agency, actor=manager)  # nobody manages it
    db.session.flush()
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    assert case.state is CaseState.IDENTIFIKASI


def test_a_supervisor_of_another_agency_is_refused(agency, manager, supervisor):
    outsider = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    case = new_case(agency, manager)
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id, "start_identification", actor=outsider, expected_version=case.version
        )
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id,
            "close",
            actor=outsider,
            reason="Kasus ganda",
            data={"closure": "lainnya"},
            expected_version=case.version,
        )
    assert case.state is CaseState.DITERIMA
    apply_case_event(
        case.id, "start_identification", actor=supervisor, expected_version=case.version
    )  # own supervisor may
    assert case.state is CaseState.IDENTIFIKASI


def test_an_intake_officer_is_refused(agency, manager):
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    case = create_case(agency, actor=officer)  # nobody manages it yet
    db.session.flush()
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id, "start_identification", actor=officer, expected_version=case.version
        )
    assert case.state is CaseState.DITERIMA


# --- duplicates -----------------------------------------------------------------------------


def test_closing_as_a_duplicate_links_the_case_and_reopening_clears_it(agency, manager, supervisor):
    original = new_case(agency, manager)
    duplicate = new_case(agency, manager)
    row = apply_case_event(
        duplicate.id,
        "close",
        actor=supervisor,
        reason="Pengaduan ganda",
        # the duplicated case by its reference (among those the actor may see), kept by its id
        data={"closure": "duplikat", "duplicate_of": original.reference},
        expected_version=duplicate.version,
    )
    assert duplicate.state is CaseState.DITUTUP
    assert duplicate.duplicate_of_id == original.id
    assert row.data["duplicate_of"] == original.id
    db.session.expire(duplicate)
    assert duplicate.duplicate_of_id == original.id

    apply_case_event(
        duplicate.id,
        "reopen",
        actor=supervisor,
        reason="Ternyata bukan ganda",
        expected_version=duplicate.version,
    )
    assert duplicate.state is CaseState.ASESMEN
    assert duplicate.duplicate_of_id is None
    assert original.duplicate_of_id is None


def test_closing_without_duplicate_data_links_nothing(agency, manager, supervisor):
    case = new_case(agency, manager)
    apply_case_event(
        case.id,
        "close",
        data={"closure": "lainnya"},
        actor=supervisor,
        reason="Korban tidak bisa dihubungi",
        expected_version=case.version,
    )
    assert case.duplicate_of_id is None


def test_the_receiving_agency_reads_the_history_of_the_case_it_took_over(
    agency, manager, supervisor
):
    from app.cases.queries import get_case_for

    receiving = AgencyFactory(services=[ServiceType.PENGADUAN])
    answering = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    other_manager = UserFactory(roles=[(Role.MANAJER_KASUS, receiving)])
    case = create_case(agency, actor=manager, case_manager=manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pulang ke kabupaten asal",
        actor=manager,
        expected_version=case.version,
    )
    assert get_case_for(answering, case.id) is None  # not before accepting
    accept_transfer(transfer.id, actor=answering, expected_version=transfer.version)
    assert get_case_for(answering, case.id) is not None  # the original, read-only
    assert get_case_for(answering, transfer.new_case_id) is not None
    assert get_case_for(other_manager, case.id) is None  # not their case over there
    assert get_case_for(manager, case.id) is not None  # the sender keeps what it wrote
    assert get_case_for(manager, transfer.new_case_id) is None
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id, "reopen", actor=answering, reason="Dibuka lagi", expected_version=case.version
        )
