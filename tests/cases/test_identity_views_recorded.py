"""Identity views leave a trace: the intake form of a case and a victim's assessment page are
recorded like the case page; the intake duplicate check is audit-logged (without the NIK or
name), rate-limited per user, and of a case outside the user's scope it says only "possible
duplicate elsewhere — ask a supervisor"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.audit.queries import verify_chain
from app.cases.intake import VictimData
from app.cases.models import Case
from app.core.enums import Role
from app.extensions import db
from tests.cases.test_intake_views import NEW, msg, posting, text_of
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

NIK = "3273014105940001"
NAME = "Siti Aminah"  # the name of the standard posting (tests.factories.cases.INTAKE_FORM)
ELSEWHERE = "Possible duplicate elsewhere — ask a supervisor."


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(code="UPTDPPA-3273")


@pytest.fixture
def staff(agency: Any) -> dict[str, Any]:
    return {
        "officer": UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]),
        "colleague": UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]),
        "manager": UserFactory(roles=[(Role.MANAJER_KASUS, agency)]),
        "supervisor": UserFactory(roles=[(Role.SUPERVISOR, agency)]),
    }


def entries(action: str, **where: Any) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return list(db.session.scalars(query))


def assigned_case(agency: Any, staff: dict[str, Any]) -> Any:
    """A case the colleague registered and a case manager now manages: outside the officer's
    scope (and the colleague's)."""
    return create_case(
        agency,
        actor=staff["colleague"],
        case_manager=staff["manager"],
        victims=[VictimData(sex="P", name="S. Aminah", nik=NIK, age=30, violence_types=["fisik"])],
    )


# --- pages that show identities ------------------------------------------------------------


def test_opening_the_intake_form_is_recorded_every_time(client, agency, staff):
    case = create_case(agency, actor=staff["officer"])
    login_as(client, staff["officer"])
    for _ in range(2):
        assert client.get(f"/kasus/{case.id}/ubah").status_code == 200
    views = entries("intake_form.view", object_id=str(case.id))
    assert [v.actor_id for v in views] == [staff["officer"].id] * 2
    assert views[0].object_type == "case"
    assert verify_chain().ok


def test_opening_an_assessment_is_recorded_with_the_victim(client, agency, staff):
    case = create_case(agency, actor=staff["manager"], case_manager=staff["manager"])
    victim = case.victims[0]
    login_as(client, staff["manager"])
    assert client.get(f"/kasus/{case.id}/korban/{victim.id}/asesmen").status_code == 200
    [view] = entries("assessment.view", object_id=str(case.id))
    assert view.actor_id == staff["manager"].id
    assert view.changes == {"victim_id": victim.id}
    # on the "who has seen this case" page of the supervisors
    supervisor = client.application.test_client()
    login_as(supervisor, staff["supervisor"])
    page = supervisor.get(f"/kasus/{case.id}/akses").get_data(as_text=True)
    assert msg("Opened a victim's assessment") in page


# --- the duplicate check -------------------------------------------------------------------


def test_a_match_outside_the_users_scope_says_only_possible_duplicate_elsewhere(
    client, agency, staff
):
    other = assigned_case(agency, staff)
    login_as(client, staff["officer"])
    response = client.post(NEW, data=posting(victims__0__nik=NIK, action="check_duplicates"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert text_of(page, "victims-0-link_person-elsewhere") == msg(ELSEWHERE)
    assert other.reference not in page
    assert 'type="radio"' not in (text_of(page, "victims-0-link_person") or "")

    # registering is not blocked by it (the data-quality queue flags the duplicate); a forged
    # link to the person out of sight is not made
    response = client.post(
        NEW,
        data=posting(victims__0__nik=NIK, victims__0__link_person=str(other.victims[0].person_id)),
    )
    assert response.status_code == 302
    new = db.session.scalar(select(Case).order_by(Case.id.desc()))
    assert new.victims[0].person_id != other.victims[0].person_id


def test_a_supervisor_sees_the_reference(client, agency, staff):
    other = assigned_case(agency, staff)
    login_as(client, staff["supervisor"])
    page = client.post(NEW, data=posting(victims__0__nik=NIK, action="check_duplicates")).get_data(
        as_text=True
    )
    assert other.reference in text_of(page, "victims-0-link_person")
    assert text_of(page, "victims-0-link_person-elsewhere") is None


def test_every_check_is_audited_without_the_identity(client, agency, staff):
    other = assigned_case(agency, staff)
    own = create_case(agency, actor=staff["officer"])  # in the officer's scope (same name)
    login_as(client, staff["officer"])
    client.post(NEW, data=posting(victims__0__nik=NIK, action="check_duplicates"))
    [check] = entries("case.duplicate_check")
    assert check.actor_id == staff["officer"].id
    assert (check.object_type, check.object_id) == ("agency", str(agency.id))
    assert check.changes == {
        "rows": 1,
        "cases": [own.id],
        "elsewhere": 1,
        "elsewhere_cases": [other.id],
    }
    stored = json.dumps(check.changes)
    assert NIK not in stored and NAME not in stored and "Aminah" not in stored

    # a form refused for its errors still showed the result: the check is kept
    response = client.post(NEW, data=posting(victims__0__nik=NIK, channel="tidak_ada"))
    assert response.status_code == 422
    assert len(entries("case.duplicate_check")) == 2
    assert verify_chain().ok


def test_row_buttons_look_nothing_up(client, agency, staff):
    assigned_case(agency, staff)
    login_as(client, staff["officer"])
    response = client.post(NEW, data=posting(victims__0__nik=NIK, add_witness=""))
    assert response.status_code == 200
    assert entries("case.duplicate_check") == []


def test_the_check_is_rate_limited_per_user(app, client, agency, staff, monkeypatch):
    monkeypatch.setitem(app.config, "DUPLICATE_CHECK_RATE_LIMIT", "2 per hour")
    assigned_case(agency, staff)
    login_as(client, staff["officer"])
    for _ in range(2):
        ok = client.post(NEW, data=posting(victims__0__nik=NIK, action="check_duplicates"))
        assert ok.status_code == 200
    paused = client.post(NEW, data=posting(victims__0__nik=NIK, action="check_duplicates"))
    assert paused.status_code == 429
    page = paused.get_data(as_text=True)
    assert text_of(page, "intake-notice") == msg(
        "You have run many duplicate checks in the last hour: the check is paused and nothing "
        "was saved. Try again later, or ask a supervisor."
    )
    assert text_of(page, "victims-0-link_person-elsewhere") is None  # nothing looked up
    # nor saved: registering needs the check
    cases = db.session.query(Case).count()
    assert client.post(NEW, data=posting(victims__0__nik=NIK)).status_code == 429
    assert db.session.query(Case).count() == cases
    # the paused attempts are recorded too, as such
    checks = entries("case.duplicate_check", actor_id=staff["officer"].id)
    assert [c.changes.get("paused", False) for c in checks] == [False, False, True, True]
    # another user is not held back
    colleague = app.test_client()
    login_as(colleague, staff["colleague"])
    assert (
        colleague.post(
            NEW, data=posting(victims__0__nik=NIK, action="check_duplicates")
        ).status_code
        == 200
    )
