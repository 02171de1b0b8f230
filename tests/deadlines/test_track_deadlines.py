"""The clocks service tracks start and stop (domain.md §5): TPPO services started within 7 days,
the shelter decision within 14, the TPKS police report; and how ending a track or a case stops
what is still open."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.core.enums import CaseState, ServiceType, TrackState
from app.deadlines.models import Deadline
from app.deadlines.queries import deadlines_for
from app.deadlines.rules import DeadlineCode
from app.deadlines.tasks import check_overdue
from app.extensions import db
from app.notifications.models import Notification
from app.services.models import ServiceTrack
from app.workflow.facts import PLAN_APPROVED
from app.workflow.operations import apply_case_event, apply_track_event, plan_service
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory
from tests.factories.cases import RECEIVED, create_case

DAY = dt.timedelta(days=1)


@pytest.fixture
def agency():
    return AgencyFactory(
        services=[
            ServiceType.REHABILITASI_KESEHATAN,
            ServiceType.REHABILITASI_SOSIAL,
            ServiceType.PEMULANGAN,
            ServiceType.PENAMPUNGAN_SEMENTARA,
            ServiceType.PENEGAKAN_HUKUM,
            ServiceType.PENDAMPINGAN,
        ]
    )


def new_case(agency: Any, manager: Any, **intake: Any) -> Case:
    case = create_case(agency, actor=manager, case_manager=manager, **intake)
    db.session.flush()
    return case


def tppo_case(agency: Any, manager: Any) -> Case:
    case = new_case(agency, manager, case_types=["tppo"])
    case.victims[0].tppo_cara = ["penipuan"]
    db.session.flush()
    return case


def track(case: Case, manager: Any, service: ServiceType | str) -> ServiceTrack:
    return create_track(case, case.victims[0], service, provider=None, actor=manager)


def deadlines(case: Case, code: DeadlineCode | None = None) -> list[Deadline]:
    query = select(Deadline).where(Deadline.case_id == case.id)
    if code is not None:
        query = query.where(Deadline.code == code)
    return list(db.session.scalars(query.order_by(Deadline.id)))


def to_intervention(case: Case, manager: Any, supervisor: Any) -> None:
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=manager, expected_version=case.version)
    case.assessment_completed_at = RECEIVED + 2 * DAY
    db.session.flush()  # saved, as by the assessment page
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({PLAN_APPROVED}),
        expected_version=case.version,
    )
    assert case.state is CaseState.INTERVENSI


# --- TPPO services --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service",
    [
        ServiceType.REHABILITASI_KESEHATAN,
        ServiceType.REHABILITASI_SOSIAL,
        ServiceType.PEMULANGAN,
    ],
)
def test_a_planned_tppo_service_must_start_within_seven_days(agency, manager, service):
    case = tppo_case(agency, manager)
    planned = track(case, manager, service)
    (deadline,) = deadlines(case, DeadlineCode.TPPO_SERVICE_START)
    assert deadline.track_id == planned.id
    assert deadline.due_at - deadline.started_at == 7 * DAY
    assert deadline.responsible_user_id == manager.id
    assert deadline.responsible_agency_id == agency.id
    assert deadline.is_open


def test_a_tppo_service_planned_through_the_plan_starts_its_clock(agency, manager):
    case = tppo_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=manager, expected_version=case.version)
    planned = plan_service(
        case.id,
        case.victims[0].id,
        ServiceType.REHABILITASI_KESEHATAN,
        provider=None,
        target_date=None,
        actor=manager,
        expected_version=case.version,
    )
    (deadline,) = deadlines(case, DeadlineCode.TPPO_SERVICE_START)
    assert deadline.track_id == planned.id
    assert deadline.due_at == deadline.started_at + 7 * DAY


def test_an_untimed_service_of_a_tppo_case_starts_no_clock(agency, manager):
    case = tppo_case(agency, manager)
    track(case, manager, ServiceType.PENDAMPINGAN)
    assert deadlines(case, DeadlineCode.TPPO_SERVICE_START) == []


def test_a_ktpa_case_gets_no_tppo_clock(agency, manager):
    case = new_case(agency, manager)  # ktp
    track(case, manager, ServiceType.REHABILITASI_KESEHATAN)
    assert deadlines(case, DeadlineCode.TPPO_SERVICE_START) == []
    assert {d.code for d in deadlines(case)} == {DeadlineCode.FIRST_RESPONSE_SEDANG}


def test_an_imported_track_starts_no_clock(agency, manager):
    case = tppo_case(agency, manager)
    create_track(
        case,
        case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=None,
        actor=manager,
        kind="import",
    )
    assert deadlines(case, DeadlineCode.TPPO_SERVICE_START) == []


def test_starting_the_tppo_service_meets_its_clock(agency, manager):
    case = tppo_case(agency, manager)
    first = track(case, manager, ServiceType.REHABILITASI_KESEHATAN)
    second = track(case, manager, ServiceType.REHABILITASI_SOSIAL)
    row = apply_track_event(first.id, "start", actor=manager, expected_version=first.version)

    by_track = {d.track_id: d for d in deadlines(case, DeadlineCode.TPPO_SERVICE_START)}
    met = by_track[first.id]
    assert met.completed_at == row.at
    assert met.met_at == row.at and met.missed_at is None
    assert not met.is_open
    assert by_track[second.id].is_open  # only the started track's clock


# --- the temporary shelter ------------------------------------------------------------------


def test_a_shelter_stay_opens_the_decision_and_ending_it_meets_it(agency, manager):
    case = new_case(agency, manager)
    shelter = track(case, manager, ServiceType.PENAMPUNGAN_SEMENTARA)
    assert deadlines(case, DeadlineCode.SHELTER_DECISION) == []  # planned: not yet

    started = apply_track_event(
        shelter.id, "start", actor=manager, expected_version=shelter.version
    )
    (deadline,) = deadlines(case, DeadlineCode.SHELTER_DECISION)
    assert deadline.track_id == shelter.id
    assert deadline.started_at == started.at
    assert deadline.due_at == started.at + 14 * DAY
    assert deadline.responsible_user_id == manager.id
    assert deadline.is_open
    assert deadline in deadlines_for(manager)

    ended = apply_track_event(
        shelter.id,
        "complete",
        actor=manager,
        outcome="Kembali ke keluarga",
        expected_version=shelter.version,
    )
    assert deadline.completed_at == ended.at
    assert deadline.met_at == ended.at
    assert deadline.cancelled_at is None
    assert deadline not in deadlines_for(manager)


def test_another_service_opens_no_shelter_decision(agency, manager):
    case = new_case(agency, manager)
    other = track(case, manager, ServiceType.PENDAMPINGAN)
    apply_track_event(other.id, "start", actor=manager, expected_version=other.version)
    assert deadlines(case, DeadlineCode.SHELTER_DECISION) == []


# --- the TPKS police report -----------------------------------------------------------------


def tpks_case(agency: Any, manager: Any) -> Case:
    return new_case(agency, manager, case_types=["ktp", "tpks"])


def test_starting_the_legal_process_meets_the_tpks_police_report(agency, manager):
    case = tpks_case(agency, manager)
    (report,) = deadlines(case, DeadlineCode.POLICE_REPORT_TPKS)
    assert report.is_open
    legal = track(case, manager, ServiceType.PENEGAKAN_HUKUM)
    assert report.is_open  # planned is not yet reported

    row = apply_track_event(legal.id, "start", actor=manager, expected_version=legal.version)
    assert report.completed_at == row.at
    assert report.met_at == row.at
    assert report.cancelled_at is None


def test_referring_the_legal_process_meets_the_tpks_police_report(agency, manager):
    police = AgencyFactory(services=[ServiceType.PENEGAKAN_HUKUM])
    case = tpks_case(agency, manager)
    legal = create_track(
        case, case.victims[0], ServiceType.PENEGAKAN_HUKUM, provider=police, actor=manager
    )
    row = apply_track_event(legal.id, "refer", actor=manager, expected_version=legal.version)
    (report,) = deadlines(case, DeadlineCode.POLICE_REPORT_TPKS)
    assert report.met_at == row.at


def test_another_service_started_does_not_meet_the_police_report(agency, manager):
    case = tpks_case(agency, manager)
    other = track(case, manager, ServiceType.PENDAMPINGAN)
    apply_track_event(other.id, "start", actor=manager, expected_version=other.version)
    (report,) = deadlines(case, DeadlineCode.POLICE_REPORT_TPKS)
    assert report.is_open


# --- stopping clocks ------------------------------------------------------------------------


def test_cancelling_a_track_cancels_its_open_deadlines(agency, manager):
    case = tppo_case(agency, manager)
    cancelled = track(case, manager, ServiceType.REHABILITASI_KESEHATAN)
    kept = track(case, manager, ServiceType.PEMULANGAN)
    by_track = {d.track_id: d for d in deadlines(case, DeadlineCode.TPPO_SERVICE_START)}
    assert by_track[cancelled.id] in deadlines_for(manager)

    row = apply_track_event(
        cancelled.id,
        "cancel",
        actor=manager,
        reason="Korban menolak",
        expected_version=cancelled.version,
    )
    assert cancelled.state is TrackState.DIBATALKAN
    gone = by_track[cancelled.id]
    assert gone.cancelled_at == row.at
    assert gone.completed_at is None and gone.met_at is None
    assert gone not in deadlines_for(manager)
    assert by_track[kept.id].is_open  # another track's clock runs on
    assert by_track[kept.id] in deadlines_for(manager)
    # the case's own deadlines are not the track's
    (first_response,) = deadlines(case, DeadlineCode.FIRST_RESPONSE_SEDANG)
    assert first_response.cancelled_at is None


def test_closing_the_case_cancels_every_open_deadline(agency, manager, supervisor):
    case = new_case(agency, manager, case_types=["tppo", "tpks"])
    case.victims[0].tppo_cara = ["penipuan"]
    apply_case_event(
        case.id, "start_identification", actor=manager, expected_version=case.version
    )  # first response met
    track(case, manager, ServiceType.REHABILITASI_KESEHATAN)
    shelter = track(case, manager, ServiceType.PENAMPUNGAN_SEMENTARA)
    apply_track_event(shelter.id, "start", actor=manager, expected_version=shelter.version)
    open_ones = [d for d in deadlines(case) if d.is_open]
    assert {d.code for d in open_ones} == {
        DeadlineCode.POLICE_REPORT_TPKS,
        DeadlineCode.TPPO_SERVICE_START,
        DeadlineCode.SHELTER_DECISION,
    }
    (first_response,) = deadlines(case, DeadlineCode.FIRST_RESPONSE_SEDANG)
    met_at = first_response.met_at

    row = apply_case_event(
        case.id,
        "close",
        data={"closure": "lainnya"},
        actor=supervisor,
        reason="Korban pindah negara",
        expected_version=case.version,
    )
    assert all(d.cancelled_at == row.at for d in open_ones)
    assert [d for d in deadlines(case) if d.is_open] == []
    assert (first_response.met_at, first_response.cancelled_at) == (met_at, None)
    assert not [d for d in deadlines_for(manager) if d.case_id == case.id]
    assert not [d for d in deadlines_for(supervisor) if d.case_id == case.id]


def test_terminating_the_case_cancels_what_is_still_open(agency, manager, supervisor):
    case = tpks_case(agency, manager)
    service = track(case, manager, ServiceType.PENDAMPINGAN)
    to_intervention(case, manager, supervisor)
    apply_track_event(service.id, "start", actor=manager, expected_version=service.version)
    apply_case_event(case.id, "start_monitoring", actor=manager, expected_version=case.version)
    apply_track_event(
        service.id, "complete", actor=manager, outcome="Selesai", expected_version=service.version
    )
    (report,) = deadlines(case, DeadlineCode.POLICE_REPORT_TPKS)
    assert report.is_open
    row = apply_case_event(
        case.id,
        "terminate",
        actor=supervisor,
        approvals=frozenset({"closure_approved"}),
        expected_version=case.version,
    )
    assert report.cancelled_at == row.at


def test_the_periodic_check_ignores_cancelled_deadlines(agency, manager, supervisor):
    case = tppo_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    track(case, manager, ServiceType.REHABILITASI_KESEHATAN)
    apply_case_event(
        case.id,
        "close",
        data={"closure": "lainnya"},
        actor=supervisor,
        reason="Korban tidak bisa dihubungi",
        expected_version=case.version,
    )
    cancelled = [d for d in deadlines(case) if d.cancelled_at is not None]
    assert [d.code for d in cancelled] == [DeadlineCode.TPPO_SERVICE_START]

    later = cancelled[0].due_at + 30 * DAY
    assert check_overdue.run(now=later) == {"missed": 0, "escalated": 0}
    assert (cancelled[0].missed_at, cancelled[0].notified_at, cancelled[0].escalated_at) == (
        None,
        None,
        None,
    )
    kinds = db.session.scalars(
        select(Notification.kind).where(Notification.case_id == case.id)
    ).all()
    assert not [k for k in kinds if k.startswith("deadline_")]


def test_the_periodic_check_still_chases_an_open_track_deadline(agency, manager, supervisor):
    """The counterpart of the test above: the same deadline, not cancelled, is chased."""
    case = tppo_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    track(case, manager, ServiceType.REHABILITASI_KESEHATAN)
    (deadline,) = deadlines(case, DeadlineCode.TPPO_SERVICE_START)
    assert check_overdue.run(now=deadline.due_at + DAY)["missed"] == 1
    assert deadline.missed_at == deadline.due_at
