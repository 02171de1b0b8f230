import pytest

from app.audit.models import AuditEntry
from app.auth.models import User
from app.core.enums import Role
from app.extensions import db
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.fixtures import login

STRONG = "sungai panjang mengalir ke laut selatan"


def test_admin_lists_and_searches_users(admin_client, admin_user):
    UserFactory(name="Siti Pendamping")
    page = admin_client.get("/admin/pengguna?q=siti").get_data(as_text=True)
    assert "Siti Pendamping" in page
    assert admin_user.email not in page


def test_admin_creates_a_user_then_grants_a_role(admin_client):
    agency = AgencyFactory()
    response = admin_client.post(
        "/admin/pengguna/baru",
        data={"email": "Baru@Contoh.go.id", "name": "  Petugas   Baru ", "password": STRONG},
    )
    assert response.status_code == 302
    user = db.session.query(User).filter_by(email="baru@contoh.go.id").one()
    assert user.name == "Petugas Baru"
    response = admin_client.post(
        f"/admin/pengguna/{user.id}/peran",
        data={
            "grant-role": "manajer_kasus",
            "grant-agency": str(agency.id),
            "grant-sub_task_force": "",
        },
    )
    assert response.status_code == 302
    assert [(g.role, g.agency_id) for g in user.grants] == [(Role.MANAJER_KASUS, agency.id)]
    actions = {e.action for e in db.session.query(AuditEntry).filter_by(object_id=str(user.id))}
    assert {"user.create", "user.grant_role"} <= actions


def test_create_user_refuses_weak_password_and_duplicate_email(admin_client, admin_user):
    response = admin_client.post(
        "/admin/pengguna/baru",
        data={"email": "lemah@contoh.go.id", "name": "Lemah", "password": "password1234"},
    )
    assert response.status_code == 422
    assert "terlalu umum" in response.get_data(as_text=True)
    response = admin_client.post(
        "/admin/pengguna/baru",
        data={"email": admin_user.email, "name": "Kembar", "password": STRONG},
    )
    assert response.status_code == 422
    assert db.session.query(User).filter_by(name="Kembar").count() == 0


def test_coordinator_role_needs_a_sub_gt(admin_client):
    user = UserFactory()
    agency = AgencyFactory()
    response = admin_client.post(
        f"/admin/pengguna/{user.id}/peran",
        data={"grant-role": "koordinator_subgt", "grant-agency": str(agency.id)},
    )
    assert response.status_code == 422
    assert user.grants == []
    stf = TaskForceFactory().sub_task_forces[1]
    response = admin_client.post(
        f"/admin/pengguna/{user.id}/peran",
        data={"grant-role": "koordinator_subgt", "grant-sub_task_force": str(stf.id)},
    )
    assert response.status_code == 302
    assert user.grants[0].sub_task_force_id == stf.id


def test_edit_with_a_stale_version_is_refused(admin_client):
    user = UserFactory(name="Nama Lama")
    stale = user.version
    user.name = "Diubah Orang Lain"
    db.session.flush()
    response = admin_client.post(
        f"/admin/pengguna/{user.id}",
        data={
            "user-email": user.email,
            "user-name": "Nama Saya",
            "user-active": "y",
            "user-version": str(stale),
        },
    )
    assert response.status_code == 422
    assert "orang lain" in response.get_data(as_text=True)
    assert user.name == "Diubah Orang Lain"


def test_admin_cannot_disable_themselves(admin_client, admin_user):
    response = admin_client.post(
        f"/admin/pengguna/{admin_user.id}",
        data={
            "user-email": admin_user.email,
            "user-name": admin_user.name,
            "user-version": str(admin_user.version),
        },
    )
    assert response.status_code == 422
    assert admin_user.active


def test_revoke_and_reset_password(admin_client):
    agency = AgencyFactory()
    user = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    generation = user.session_generation
    response = admin_client.post(
        f"/admin/pengguna/{user.id}/peran/hapus", data={"grant_id": user.grants[0].id}
    )
    assert response.status_code == 302
    assert user.grants == []
    response = admin_client.post(
        f"/admin/pengguna/{user.id}/kata-sandi", data={"reset-password": STRONG}
    )
    assert response.status_code == 302
    assert user.session_generation == generation + 1


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/pengguna/999999").status_code == 404


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_other_roles_cannot_manage_users(client, role):
    scope = (
        TaskForceFactory().sub_task_forces[0] if role is Role.KOORDINATOR_SUBGT else AgencyFactory()
    )
    login(client, UserFactory(roles=[(role, scope)]))
    assert client.get("/admin/pengguna").status_code == 403
    assert client.post("/admin/pengguna/baru", data={}).status_code == 403


def test_users_create_cli(app):
    agency = AgencyFactory(code="UPTDPPA-9901")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@contoh.go.id",
            "--name",
            "Dari CLI",
            "--role",
            "manajer_kasus",
            "--role",
            "supervisor",
            "--agency",
            agency.code,
        ],
        input=f"{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.query(User).filter_by(email="cli@contoh.go.id").one()
    assert sorted(g.role.value for g in user.grants) == ["manajer_kasus", "supervisor"]


def test_users_create_cli_refuses_unknown_agency_and_writes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "x@contoh.go.id",
            "--name",
            "X",
            "--role",
            "admin",
            "--agency",
            "NOPE",
        ],
        input=f"{STRONG}\n{STRONG}\n",
    )
    assert result.exit_code != 0
    assert "NOPE" in result.output
    assert db.session.query(User).filter_by(email="x@contoh.go.id").count() == 0


def test_users_create_cli_refuses_weak_password(app):
    agency = AgencyFactory()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "w@contoh.go.id",
            "--name",
            "W",
            "--role",
            "admin",
            "--agency",
            agency.code,
        ],
        input="password1234\npassword1234\n",
    )
    assert result.exit_code != 0
    assert db.session.query(User).filter_by(email="w@contoh.go.id").count() == 0
