"""Notifications after workflow steps and transfers: who hears of what, never the actor, once per
step; tasks are only queued for a transaction that commits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.core.enums import CaseState, Role, ServiceType
from app.core.tasks import pending_tasks
from app.extensions import db
from app.notifications.models import Notification
from app.workflow.facts import PLAN_APPROVED
from app.workflow.operations import (
    TransitionRefused,
    accept_transfer,
    apply_case_event,
    apply_track_event,
    decline_transfer,
    request_transfer,
    withdraw_transfer,
)
from app.workflow.tasks import notify_transfer, notify_transition
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case


@pytest.fixture
def agency():
    return AgencyFactory(
        services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN, ServiceType.BANTUAN_HUKUM]
    )


@pytest.fixture
def other_supervisor(agency):
    return UserFactory(roles=[(Role.SUPERVISOR, agency)])


def notes(user: Any) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def workflow_tasks() -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return [t for t in pending_tasks(db.session) if t[0].startswith("workflow.")]


def new_case(agency: Any, manager: Any, **intake: Any) -> Case:
    case = create_case(agency, actor=manager, case_manager=manager, **intake)
    db.session.flush()
    return case


def to_assessment(case: Case, actor: Any) -> None:
    apply_case_event(case.id, "start_identification", actor=actor, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=actor, expected_version=case.version)
    case.assessment_completed_at = RECEIVED + dt.timedelta(days=2)
    db.session.flush()  # saved, as by the assessment page


# --- notify_transition ----------------------------------------------------------------------


def test_a_proposed_plan_is_queued_and_tells_the_supervisors_but_not_the_actor(
    agency, manager, supervisor, other_supervisor
):
    elsewhere = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    case = new_case(agency, manager)
    to_assessment(case, supervisor)
    before = len(workflow_tasks())
    row = apply_case_event(case.id, "propose_plan", actor=supervisor, expected_version=case.version)

    assert workflow_tasks()[before:] == [("workflow.notify_transition", (row.id,), {})]
    assert notes(other_supervisor) == []  # nothing before the task runs

    assert notify_transition.run(row.id) == 1
    (note,) = notes(other_supervisor)
    assert note.kind == "plan_awaiting_approval"
    assert note.key == f"transition:{row.id}"
    assert (note.case_id, note.reference) == (case.id, case.reference)
    assert note.reference is not None
    assert notes(supervisor) == []  # the actor
    assert notes(manager) == []
    assert notes(elsewhere) == []


def test_running_the_task_twice_notifies_once(agency, manager, supervisor):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    row = apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    assert notify_transition.run(row.id) == 1
    assert notify_transition.run(row.id) == 0
    assert len(notes(supervisor)) == 1
    assert (
        len(
            db.session.scalars(
                select(Notification).where(Notification.key == f"transition:{row.id}")
            ).all()
        )
        == 1
    )


def test_an_inactive_supervisor_is_not_notified(agency, manager, supervisor, other_supervisor):
    other_supervisor.active = False
    case = new_case(agency, manager)
    to_assessment(case, manager)
    row = apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    assert notify_transition.run(row.id) == 1
    assert [n.kind for n in notes(supervisor)] == ["plan_awaiting_approval"]
    assert notes(other_supervisor) == []


def test_an_approved_plan_tells_the_case_manager(agency, manager, supervisor):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    row = apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({PLAN_APPROVED}),
        expected_version=case.version,
    )
    assert workflow_tasks()[-1] == ("workflow.notify_transition", (row.id,), {})
    assert notify_transition.run(row.id) == 1
    (note,) = notes(manager)
    assert (note.kind, note.key, note.case_id) == ("plan_approved", f"transition:{row.id}", case.id)
    assert note.reference == case.reference
    assert notes(supervisor) == []


def test_a_step_taken_by_the_case_manager_does_not_notify_them(agency, manager, supervisor):
    case = new_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    row = apply_case_event(
        case.id,
        "close",
        actor=supervisor,
        reason="Korban pindah",
        data={"closure": "lainnya"},
        expected_version=case.version,
    )
    assert notify_transition.run(row.id) == 1
    assert [n.kind for n in notes(manager)] == ["case_closed"]
    # reopened by a supervisor who is also the case manager: nobody is told
    case.case_manager_id = supervisor.id
    db.session.flush()
    db.session.expire(case, ["case_manager"])
    row = apply_case_event(
        case.id, "reopen", actor=supervisor, reason="Korban kembali", expected_version=case.version
    )
    assert notify_transition.run(row.id) == 0
    assert notes(supervisor) == []


def test_the_last_service_ended_in_monitoring_tells_the_supervisors(
    agency, manager, supervisor, other_supervisor
):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    apply_case_event(case.id, "propose_plan", actor=manager, expected_version=case.version)
    first = create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    second = create_track(case, case.victims[0], "bantuan_hukum", provider=None, actor=manager)
    apply_case_event(
        case.id,
        "start_intervention",
        actor=supervisor,
        approvals=frozenset({PLAN_APPROVED}),
        expected_version=case.version,
    )
    apply_track_event(first.id, "start", actor=manager, expected_version=first.version)
    apply_case_event(case.id, "start_monitoring", actor=manager, expected_version=case.version)
    assert case.state is CaseState.PEMANTAUAN

    ended_first = apply_track_event(
        first.id, "complete", actor=manager, outcome="Selesai", expected_version=first.version
    )
    assert notify_transition.run(ended_first.id) == 0  # another service is still open
    assert notes(supervisor) == [] and notes(other_supervisor) == []

    last = apply_track_event(
        second.id,
        "cancel",
        actor=manager,
        reason="Tidak diperlukan",
        expected_version=second.version,
    )
    assert workflow_tasks()[-1] == ("workflow.notify_transition", (last.id,), {})
    assert notify_transition.run(last.id) == 2
    for user in (supervisor, other_supervisor):
        (note,) = notes(user)
        assert (note.kind, note.key) == ("ready_for_termination", f"transition:{last.id}")
        assert (note.case_id, note.reference) == (case.id, case.reference)
    assert notes(manager) == []


def test_a_service_ended_before_monitoring_tells_nobody(agency, manager, supervisor):
    case = new_case(agency, manager)
    to_assessment(case, manager)
    track = create_track(case, case.victims[0], "pendampingan", provider=None, actor=manager)
    row = apply_track_event(
        track.id, "cancel", actor=manager, reason="Rencana diubah", expected_version=track.version
    )
    assert notify_transition.run(row.id) == 0
    assert notes(supervisor) == []


def test_a_refused_transition_queues_nothing(agency, manager, supervisor):
    case = new_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    queued = workflow_tasks()
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id, "propose_plan", actor=manager, expected_version=case.version
        )  # not from identifikasi
    with pytest.raises(TransitionRefused):
        apply_case_event(
            case.id,
            "close",
            actor=manager,
            reason="Tidak berwenang",
            data={"closure": "lainnya"},
            expected_version=case.version,
        )
    assert workflow_tasks() == queued


def test_tasks_of_a_rolled_back_transaction_are_dropped(agency, manager):
    case = new_case(agency, manager)
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    assert workflow_tasks() != []
    db.session.rollback()
    assert pending_tasks(db.session) == []


# --- notify_transfer ------------------------------------------------------------------------


@pytest.fixture
def receiving():
    return AgencyFactory(services=[ServiceType.PENGADUAN])


def test_a_transfer_request_tells_the_receiving_supervisors(agency, manager, supervisor, receiving):
    first = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    second = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    assert workflow_tasks()[-1] == ("workflow.notify_transfer", (transfer.id,), {})

    assert notify_transfer.run(transfer.id) == 2
    for user in (first, second):
        (note,) = notes(user)
        assert note.kind == "transfer_requested"
        assert note.case_id is None  # they may not open the case yet
        assert note.reference == case.reference
        assert note.key == f"transfer:{transfer.id}:menunggu"
    assert notes(supervisor) == [] and notes(manager) == []

    assert notify_transfer.run(transfer.id) == 0  # idempotent
    assert len(notes(first)) == 1 and len(notes(second)) == 1


def test_an_accepted_transfer_tells_whoever_asked(agency, manager, receiving):
    answering = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    notify_transfer.run(transfer.id)
    accept_transfer(transfer.id, actor=answering, expected_version=transfer.version)
    transfer_tasks = [t for t in workflow_tasks() if t[0] == "workflow.notify_transfer"]
    assert transfer_tasks[-1] == ("workflow.notify_transfer", (transfer.id,), {})

    assert notify_transfer.run(transfer.id) == 1
    (note,) = notes(manager)
    assert note.kind == "transfer_accepted"
    assert note.case_id == case.id
    assert note.reference == case.reference
    assert note.key == f"transfer:{transfer.id}:diterima"
    assert [n.kind for n in notes(answering)] == ["transfer_requested"]

    assert notify_transfer.run(transfer.id) == 0
    assert len(notes(manager)) == 1


def test_a_declined_transfer_tells_whoever_asked(agency, manager, receiving):
    answering = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    decline_transfer(
        transfer.id,
        "Alamat di luar wilayah kami",
        actor=answering,
        expected_version=transfer.version,
    )
    assert notify_transfer.run(transfer.id) == 1
    assert [n.kind for n in notes(manager)] == ["transfer_declined"]
    assert notify_transfer.run(transfer.id) == 0


def test_a_withdrawn_transfer_tells_the_receiving_supervisors(agency, manager, receiving):
    waiting = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    case = new_case(agency, manager)
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah ke wilayah lain",
        actor=manager,
        expected_version=case.version,
    )
    notify_transfer.run(transfer.id)
    withdraw_transfer(transfer.id, actor=manager, expected_version=transfer.version)
    assert workflow_tasks()[-1] == ("workflow.notify_transfer", (transfer.id,), {})
    assert notify_transfer.run(transfer.id) == 1
    assert [n.kind for n in notes(waiting)] == ["transfer_requested", "transfer_withdrawn"]
    assert notes(waiting)[-1].case_id is None
    assert notify_transfer.run(transfer.id) == 0
