"""Who manages a case: a supervisor assigns (or reassigns) the case manager; a case manager who
takes the first step on a case nobody manages becomes its manager."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases.queries import get_case_for
from app.core.enums import CaseState, Role, ServiceType
from app.core.errors import DomainError
from app.core.tasks import pending_tasks
from app.deadlines.models import Deadline
from app.extensions import db
from app.notifications.models import Notification
from app.workflow.operations import TransitionRefused, apply_case_event, assign_case_manager
from app.workflow.tasks import notify_assignment
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as


@pytest.fixture
def agency():
    return AgencyFactory(services=[ServiceType.PENGADUAN])


@pytest.fixture
def intake(agency):
    return UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])


def open_deadlines(case):
    return list(
        db.session.scalars(
            select(Deadline).where(Deadline.case_id == case.id, Deadline.completed_at.is_(None))
        )
    )


def test_a_supervisor_assigns_the_case_manager_and_the_clocks_follow(
    agency, intake, manager, supervisor
):
    case = create_case(agency, actor=intake)
    assert case.case_manager_id is None
    assert get_case_for(manager, case.id) is None  # nobody gave it to them yet
    assert all(d.responsible_user_id is None for d in open_deadlines(case))

    assign_case_manager(case.id, manager, actor=supervisor, expected_version=case.version)

    assert case.case_manager_id == manager.id
    assert get_case_for(manager, case.id) is not None
    assert {d.responsible_user_id for d in open_deadlines(case)} == {manager.id}
    task = ("workflow.notify_assignment", (case.id, manager.id), {})
    assert task in pending_tasks(db.session)
    assert notify_assignment.run(case.id, manager.id) == 1
    assert notify_assignment.run(case.id, manager.id) == 0  # once
    (note,) = db.session.scalars(select(Notification).where(Notification.user_id == manager.id))
    assert note.kind == "case_assigned" and note.reference == case.reference


def test_only_a_supervisor_of_the_agency_assigns(agency, intake, manager, supervisor):
    case = create_case(agency, actor=intake)
    other_supervisor = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    for actor in (manager, intake, other_supervisor):
        with pytest.raises(TransitionRefused):
            assign_case_manager(case.id, manager, actor=actor, expected_version=case.version)
    assert case.case_manager_id is None


def test_the_case_manager_must_work_at_the_agency(agency, intake, supervisor):
    case = create_case(agency, actor=intake)
    stranger = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])
    with pytest.raises(DomainError) as info:
        assign_case_manager(case.id, stranger, actor=supervisor, expected_version=case.version)
    assert info.value.field == "case_manager"
    with pytest.raises(DomainError):
        assign_case_manager(
            case.id, intake, actor=supervisor, expected_version=case.version
        )  # an intake officer manages none


def test_a_closed_case_is_not_reassigned(agency, intake, manager, supervisor):
    case = create_case(agency, actor=intake)
    apply_case_event(
        case.id,
        "close",
        data={"closure": "lainnya"},
        actor=supervisor,
        reason="Korban tidak dapat dihubungi",
        expected_version=case.version,
    )
    with pytest.raises(DomainError):
        assign_case_manager(case.id, manager, actor=supervisor, expected_version=case.version)


def test_a_stale_version_is_a_conflict(agency, intake, manager, supervisor):
    from app.cases.operations import ConflictError

    case = create_case(agency, actor=intake)
    stale = case.version
    apply_case_event(
        case.id, "start_identification", actor=supervisor, expected_version=case.version
    )
    with pytest.raises(ConflictError):
        assign_case_manager(case.id, manager, actor=supervisor, expected_version=stale)


def test_a_case_manager_taking_the_first_step_becomes_its_manager(agency, manager):
    case = create_case(agency, actor=manager)  # registered by them, nobody manages it
    version = case.version
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=version)
    assert case.case_manager_id == manager.id
    assert case.version == version + 1  # one step, one version
    assert case.state is CaseState.IDENTIFIKASI


def test_a_supervisor_taking_a_step_does_not_become_the_manager(agency, intake, supervisor):
    case = create_case(agency, actor=intake)
    apply_case_event(
        case.id, "start_identification", actor=supervisor, expected_version=case.version
    )
    assert case.case_manager_id is None


def test_the_assignment_form_on_the_case_page(client, agency, intake, manager, supervisor):
    case = create_case(agency, actor=intake)
    db.session.flush()
    login_as(client, supervisor)
    html = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert f'action="/kasus/{case.id}/manajer"' in html
    response = client.post(
        f"/kasus/{case.id}/manajer",
        data={"case_manager": str(manager.id), "version": str(case.version)},
    )
    assert response.status_code == 302
    assert db.session.get(type(case), case.id).case_manager_id == manager.id


def test_the_assignment_route_is_the_supervisors(client, agency, intake, manager, supervisor):
    case = create_case(agency, actor=intake, case_manager=manager)
    db.session.flush()
    login_as(client, manager)
    assert f'action="/kasus/{case.id}/manajer"' not in client.get(f"/kasus/{case.id}").get_data(
        as_text=True
    )
    response = client.post(f"/kasus/{case.id}/manajer", data={"case_manager": str(manager.id)})
    assert response.status_code == 403
    client.post("/keluar")
    login_as(client, UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())]))
    response = client.post(f"/kasus/{case.id}/manajer", data={"case_manager": str(manager.id)})
    assert response.status_code == 404
