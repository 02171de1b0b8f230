"""Administration has no access to case content (docs/security.md, "Role grants"): an
administrator cannot change their own roles, an administrator account holds no case role, a
role is granted only after a fresh re-authentication and a case role granted is told to the
agency's supervisors; setting another user's password or resetting their two-step verification
needs a fresh re-authentication too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.agencies.models import SubTaskForceMember
from app.audit.models import AuditEntry
from app.auth import operations as ops
from app.auth.passwords import verify_password
from app.auth.sessions import SESSION_REAUTH_AT
from app.core.enums import Role
from app.core.errors import DomainError
from app.core.permissions import CASE_DATA_ROLES
from app.extensions import db
from app.notifications.mail import clear_outbox, outbox
from app.notifications.models import Notification
from app.notifications.tasks import send_email
from tests.auth.helpers import enrol
from tests.factories import TEST_PASSWORD, AgencyFactory, TaskForceFactory, UserFactory
from tests.fixtures import login

STRONG = "sungai panjang mengalir ke laut selatan"
CASE_ROLES_AT_AGENCY = sorted(r for r in CASE_DATA_ROLES if not r.scoped_to_subtaskforce)
OWN_ROLES = "Anda tidak dapat mengubah peran Anda sendiri."
NO_CASE_ROLE = "Akun administrator tidak dapat memegang peran yang memiliki akses ke kasus."


@pytest.fixture
def mailbox(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "memory")
    clear_outbox()
    yield outbox
    clear_outbox()


def grant(client: FlaskClient, user: Any, role: Role, *, agency: Any = None, stf: Any = None):
    return client.post(
        f"/admin/pengguna/{user.id}/peran",
        data={
            "grant-role": role.value,
            "grant-agency": str(agency.id) if agency else "",
            "grant-sub_task_force": str(stf.id) if stf else "",
        },
    )


def stale_reauthentication(client: FlaskClient) -> None:
    """The administrator signed in (or confirmed their password) more than 5 minutes ago."""
    with client.session_transaction() as sess:
        sess[SESSION_REAUTH_AT] = int(time.time()) - 5 * 60 - 1


def sent_to_reauthentication(response: Any) -> bool:
    return response.status_code == 302 and "/masuk/ulang" in response.headers["Location"]


def grant_entries(user: Any) -> int:
    return (
        db.session.query(AuditEntry)
        .filter_by(action="user.grant_role", object_id=str(user.id))
        .count()
    )


# --- nobody changes their own roles; an administrator account holds no case role ---------------


@pytest.mark.parametrize("role", [*CASE_ROLES_AT_AGENCY, Role.PIMPINAN, Role.ADMIN])
def test_an_administrator_cannot_grant_himself_a_role(admin_client, admin_user, role):
    agency = AgencyFactory()
    response = grant(admin_client, admin_user, role, agency=agency)
    assert response.status_code == 422
    assert OWN_ROLES in response.get_data(as_text=True)
    db.session.refresh(admin_user)
    assert admin_user.role_set == {Role.ADMIN}
    assert grant_entries(admin_user) == 0
    # and so no case of the agency opens to him
    assert admin_client.get("/kasus").status_code == 403


def test_a_self_grant_is_refused_by_the_operation_too(admin_user):
    with pytest.raises(DomainError):
        ops.grant_role(admin_user, Role.SUPERVISOR, agency=AgencyFactory(), actor=admin_user)
    assert admin_user.role_set == {Role.ADMIN}


@pytest.mark.parametrize("role", CASE_ROLES_AT_AGENCY)
def test_an_administrator_account_holds_no_case_role(admin_client, role):
    other_admin = UserFactory(roles=[(Role.ADMIN, AgencyFactory())])
    response = grant(admin_client, other_admin, role, agency=AgencyFactory())
    assert response.status_code == 422
    assert NO_CASE_ROLE in response.get_data(as_text=True)
    db.session.refresh(other_admin)
    assert other_admin.role_set == {Role.ADMIN}


def test_an_administrator_account_holds_no_sub_gt_coordinator_role(admin_client):
    other_admin = UserFactory(roles=[(Role.ADMIN, AgencyFactory())])
    stf = TaskForceFactory().sub_task_forces[0]
    response = grant(admin_client, other_admin, Role.KOORDINATOR_SUBGT, stf=stf)
    assert response.status_code == 422
    assert NO_CASE_ROLE in response.get_data(as_text=True)


def test_an_administrator_account_may_hold_the_leadership_role(admin_client):
    other_admin = UserFactory(roles=[(Role.ADMIN, AgencyFactory())])
    response = grant(admin_client, other_admin, Role.PIMPINAN, agency=AgencyFactory())
    assert response.status_code == 302
    assert other_admin.role_set == {Role.ADMIN, Role.PIMPINAN}


def test_a_case_worker_does_not_become_an_administrator(admin_client):
    agency = AgencyFactory()
    worker = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    response = grant(admin_client, worker, Role.ADMIN, agency=agency)
    assert response.status_code == 422
    assert "tidak dapat menjadi akun administrator" in response.get_data(as_text=True)
    assert worker.role_set == {Role.MANAJER_KASUS}


def test_the_command_line_refuses_an_administrator_with_a_case_role(app):
    agency = AgencyFactory()
    result = app.test_cli_runner().invoke(
        args=[
            *("users", "create", "--email", "dua@contoh.go.id", "--name", "Dua Peran"),
            *("--role", "admin", "--role", "supervisor", "--agency", agency.code),
        ],
        input=f"{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code != 0
    assert NO_CASE_ROLE in result.output
    assert db.session.query(AuditEntry).filter_by(action="user.create").count() == 0


def test_own_page_offers_no_role_password_or_two_step_reset(admin_client, admin_user):
    enrol(admin_user)
    page = admin_client.get(f"/admin/pengguna/{admin_user.id}").get_data(as_text=True)
    assert f'/admin/pengguna/{admin_user.id}/peran"' not in page
    assert f"/admin/pengguna/{admin_user.id}/kata-sandi" not in page
    assert f"/admin/pengguna/{admin_user.id}/2fa/reset" not in page
    assert OWN_ROLES in page


def test_a_case_role_held_from_before_is_shown_and_may_be_given_up(client):
    agency = AgencyFactory()
    legacy = UserFactory(roles=[(Role.ADMIN, agency), (Role.SUPERVISOR, agency)])
    login(client, legacy)
    page = client.get(f"/admin/pengguna/{legacy.id}").get_data(as_text=True)
    assert "yang tidak lagi diizinkan" in page
    supervisor = next(g for g in legacy.grants if g.role is Role.SUPERVISOR)
    response = client.post(
        f"/admin/pengguna/{legacy.id}/peran/hapus", data={"grant_id": supervisor.id}
    )
    assert response.status_code == 302
    assert legacy.role_set == {Role.ADMIN}
    # the own administrator role stays
    admin = legacy.grants[0]
    client.post(f"/admin/pengguna/{legacy.id}/peran/hapus", data={"grant_id": admin.id})
    assert legacy.role_set == {Role.ADMIN}


# --- a fresh re-authentication before granting a role ---------------------------------------


def test_granting_a_role_needs_a_fresh_reauthentication(admin_client, admin_user):
    agency = AgencyFactory()
    user = UserFactory()
    stale_reauthentication(admin_client)
    response = grant(admin_client, user, Role.MANAJER_KASUS, agency=agency)
    assert sent_to_reauthentication(response)
    assert user.grants == [] and grant_entries(user) == 0
    response = admin_client.post("/masuk/ulang", data={"password": TEST_PASSWORD})
    assert response.status_code == 302
    response = grant(admin_client, user, Role.MANAJER_KASUS, agency=agency)
    assert response.status_code == 302 and "/masuk" not in response.headers["Location"]
    assert user.role_set == {Role.MANAJER_KASUS} and grant_entries(user) == 1


# --- the agency's supervisors are told ----------------------------------------------------------


def test_a_case_role_grant_is_told_to_the_agencys_supervisors(app, admin_client, mailbox):
    agency, elsewhere = AgencyFactory(), AgencyFactory()
    first = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    second = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    UserFactory(roles=[(Role.SUPERVISOR, agency)], active=False)
    UserFactory(roles=[(Role.SUPERVISOR, elsewhere)])
    UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    user = UserFactory(email="baru.pendamping@contoh.go.id")
    response = grant(admin_client, user, Role.MANAJER_KASUS, agency=agency)
    assert response.status_code == 302
    notes = db.session.query(Notification).filter_by(kind="case_role_granted").all()
    assert sorted(n.user_id for n in notes) == sorted([first.id, second.id])
    grant_id = user.grants[0].id
    assert {(n.reference, n.key, n.case_id) for n in notes} == {
        ("baru.pendamping@contoh.go.id", f"role_grant:{grant_id}", None)
    }
    # in the application
    reader = app.test_client()
    login(reader, first)
    page = reader.get("/notifikasi").get_data(as_text=True)
    assert "Sebuah akun diberi peran dengan akses ke kasus lembaga Anda" in page
    assert "baru.pendamping@contoh.go.id" in page
    # and by e-mail, through the notification's own e-mail copy
    assert send_email(notes[0].id)
    (message,) = mailbox()
    body = message.get_content()
    assert "Akun: baru.pendamping@contoh.go.id" in body and "Kasus:" not in body


def test_a_new_supervisor_is_not_told_of_his_own_grant(admin_client):
    agency = AgencyFactory()
    colleague = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    user = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    assert grant(admin_client, user, Role.SUPERVISOR, agency=agency).status_code == 302
    notes = db.session.query(Notification).filter_by(kind="case_role_granted").all()
    assert [n.user_id for n in notes] == [colleague.id]


def test_a_sub_gt_coordinator_grant_is_told_to_the_member_agencies_supervisors(admin_client):
    member, outsider = AgencyFactory(), AgencyFactory()
    stf = TaskForceFactory().sub_task_forces[0]
    db.session.add(SubTaskForceMember(sub_task_force=stf, agency=member))
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, member)])
    UserFactory(roles=[(Role.SUPERVISOR, outsider)])
    user = UserFactory()
    assert grant(admin_client, user, Role.KOORDINATOR_SUBGT, stf=stf).status_code == 302
    notes = db.session.query(Notification).filter_by(kind="case_role_granted").all()
    assert [n.user_id for n in notes] == [supervisor.id]


def test_a_role_without_case_data_is_not_told(admin_client):
    agency = AgencyFactory()
    UserFactory(roles=[(Role.SUPERVISOR, agency)])
    assert grant(admin_client, UserFactory(), Role.PIMPINAN, agency=agency).status_code == 302
    assert db.session.query(Notification).filter_by(kind="case_role_granted").count() == 0


# --- resets of another user's password and two-step verification --------------------------------


def test_setting_another_users_password_needs_a_fresh_reauthentication(admin_client):
    user = UserFactory()
    generation = user.session_generation
    stale_reauthentication(admin_client)
    response = admin_client.post(
        f"/admin/pengguna/{user.id}/kata-sandi", data={"reset-password": STRONG}
    )
    assert sent_to_reauthentication(response)
    db.session.refresh(user)
    assert verify_password(user.password_hash, TEST_PASSWORD)
    assert user.session_generation == generation


def test_resetting_another_users_two_step_verification_needs_a_fresh_reauthentication(
    admin_client,
):
    user = UserFactory()
    enrol(user)
    stale_reauthentication(admin_client)
    response = admin_client.post(f"/admin/pengguna/{user.id}/2fa/reset")
    assert sent_to_reauthentication(response)
    db.session.refresh(user)
    assert user.totp_enabled


def test_an_administrator_resets_neither_his_own_password_nor_two_step_verification(
    admin_client, admin_user
):
    enrol(admin_user)
    response = admin_client.post(
        f"/admin/pengguna/{admin_user.id}/kata-sandi", data={"reset-password": STRONG}
    )
    assert response.status_code == 422
    assert "halaman profil" in response.get_data(as_text=True)
    db.session.refresh(admin_user)
    assert verify_password(admin_user.password_hash, TEST_PASSWORD)
    response = admin_client.post(f"/admin/pengguna/{admin_user.id}/2fa/reset")
    assert response.status_code == 302
    db.session.refresh(admin_user)
    assert admin_user.totp_enabled
    assert (
        db.session.query(AuditEntry)
        .filter(AuditEntry.action.in_(["user.set_password", "user.totp_disable"]))
        .count()
        == 0
    )
