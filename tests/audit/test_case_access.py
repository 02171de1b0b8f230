"""'Who has seen this case' for supervisors; case pages and refusals are recorded."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.operations import record_view
from app.audit.queries import verify_chain
from app.cases.intake import VictimData
from app.core.enums import Role
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as


@pytest.fixture
def child_case(agency, manager):
    return create_case(
        agency,
        actor=manager,
        case_manager=manager,
        case_types=["kta"],
        victims=[
            VictimData(
                sex="P", name="Ani", birth_date=dt.date(2013, 2, 1), violence_types=["seksual"]
            )
        ],
    )


def _entries(action: str, **where: object) -> list[AuditEntry]:
    query = sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(query))


def test_the_supervisor_sees_who_revealed_the_childs_identity(
    app, client, supervisor, manager, child_case
):
    manager_client = app.test_client()
    login_as(manager_client, manager)
    victim = child_case.victims[0]
    response = manager_client.post(f"/kasus/{child_case.id}/korban/{victim.id}/identitas")
    assert response.status_code == 200
    login_as(client, supervisor)
    response = client.get(f"/kasus/{child_case.id}/akses")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-action="case.reveal_identity"' in page
    assert manager.name in page
    assert "127.0.0.1" in page
    # The page reveals no identity itself
    assert "Ani" not in page


def test_opening_the_case_page_is_recorded_once_per_ten_minutes(
    app, client, supervisor, child_case
):
    login_as(client, supervisor)
    assert client.get(f"/kasus/{child_case.id}").status_code == 200
    assert client.get(f"/kasus/{child_case.id}").status_code == 200
    [view] = _entries("case.view", object_id=str(child_case.id), actor_id=supervisor.id)
    assert view.remote_addr == "127.0.0.1"
    assert view.entry_hash is not None
    page = client.get(f"/kasus/{child_case.id}/akses").get_data(as_text=True)
    assert 'data-action="case.view"' in page and supervisor.name in page


def test_a_view_long_ago_does_not_hide_a_new_one(app, supervisor, child_case):
    first = record_view(supervisor, "case.view", "case", child_case.id)
    assert first is not None
    assert record_view(supervisor, "case.view", "case", child_case.id) is None
    assert (
        record_view(supervisor, "case.view", "case", child_case.id, within=dt.timedelta(0))
        is not None
    )


def test_the_recorded_page_exists(app):
    from app.audit.web import VIEWED_PAGES

    assert set(VIEWED_PAGES) <= set(app.view_functions)


def test_a_case_manager_may_not_see_it_and_the_refusal_is_recorded(
    app, client, manager, child_case
):
    login_as(client, manager)
    response = client.get(f"/kasus/{child_case.id}/akses?q=Ani")
    assert response.status_code == 403
    [denial] = _entries("access.denied", actor_id=manager.id)
    assert denial.object_type == "route"
    assert denial.object_id == "cases.case_access"
    assert denial.changes == {
        "method": "GET",
        "path": f"/kasus/{child_case.id}/akses",  # never the query string
        "status": 403,
    }
    assert denial.remote_addr == "127.0.0.1"
    assert verify_chain().ok


def test_another_agencys_supervisor_gets_not_found_and_it_is_recorded(app, client, child_case):
    stranger = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    login_as(client, stranger)
    assert client.get(f"/kasus/{child_case.id}/akses").status_code == 404
    assert client.get(f"/kasus/{child_case.id}").status_code == 404
    denials = _entries("access.denied", actor_id=stranger.id)
    assert [d.changes["path"] for d in denials] == [
        f"/kasus/{child_case.id}/akses",
        f"/kasus/{child_case.id}",
    ]
    assert [d.changes["status"] for d in denials] == [404, 404]
    assert _entries("case.view", object_id=str(child_case.id), actor_id=stranger.id) == []


def test_a_supervisor_who_only_manages_a_case_elsewhere_gets_not_found(app, client, child_case):
    """Supervising one agency gives no right to the access log of a case managed elsewhere."""
    other = AgencyFactory()
    user = UserFactory(roles=[(Role.SUPERVISOR, other), (Role.MANAJER_KASUS, child_case.agency)])
    child_case.case_manager_id = user.id
    login_as(client, user)
    assert client.get(f"/kasus/{child_case.id}").status_code == 200
    assert client.get(f"/kasus/{child_case.id}/akses").status_code == 404


def test_refusals_of_anonymous_visitors_and_unknown_addresses_are_not_recorded(
    app, client, supervisor
):
    before = len(_entries("access.denied"))
    assert client.get("/kasus/999999/akses").status_code in (302, 401)
    login_as(client, supervisor)
    assert client.get("/no-such-page").status_code == 404
    assert len(_entries("access.denied")) == before
