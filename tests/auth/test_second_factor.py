"""TOTP enrolment, the code step of sign-in, single use of codes, recovery codes, and the
TOTP_REQUIRED policy."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from app.audit.models import AuditEntry
from app.auth import operations as ops
from app.auth.models import RecoveryCode
from app.auth.totp import CASE_ROLES, resolve_totp_setting, totp_required
from app.config import ConfigError
from app.core.enums import Role
from app.extensions import db
from tests.auth.helpers import code_at, enrol, post_code, post_password, reset_limits
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.fixtures import login


@pytest.fixture
def user():
    return UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", "case_roles")


def signed_in(client) -> bool:
    return client.get("/beranda").status_code == 200


# --- enrolment -------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_then_confirms_with_a_first_code(client, user):
    login(client, user)
    page = client.get("/profil/2fa")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="data:image/png;base64,' in html
    assert "style=" not in re.sub(r"<link[^>]*>", "", html.split("<main", 1)[-1])
    secret = user.totp_secret
    assert secret and secret in html and not user.totp_enabled
    # reloading keeps the same secret: the code already scanned stays valid
    client.get("/profil/2fa")
    assert user.totp_secret == secret

    wrong = client.post("/profil/2fa/konfirmasi", data={"code": "000000"})
    assert wrong.status_code == 422
    assert not user.totp_enabled

    done = client.post("/profil/2fa/konfirmasi", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([0-9a-z]{5}-[0-9a-z]{5})</li>", done.get_data(as_text=True))
    assert len(codes) == len(set(codes)) == 10
    db.session.refresh(user)
    assert user.totp_enabled
    stored = db.session.query(RecoveryCode).filter_by(user_id=user.id).all()
    assert len(stored) == 10
    for row in stored:
        assert row.code_hash.startswith("sha256$")
        assert not any(code.replace("-", "") in row.code_hash for code in codes)
    assert db.session.query(AuditEntry).filter_by(action="user.totp_enable").count() == 1
    # this session goes on; the recovery codes are not shown again
    assert signed_in(client)
    page = client.get("/profil/2fa").get_data(as_text=True)
    assert not any(code in page for code in codes)


def test_enabling_ends_other_sessions(app, user):
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    first.get("/profil/2fa")
    first.post("/profil/2fa/konfirmasi", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert signed_in(first)
    assert not signed_in(second)


def test_restart_makes_a_new_secret(client, user):
    login(client, user)
    client.get("/profil/2fa")
    old = user.totp_secret
    assert client.post("/profil/2fa/mulai-ulang").status_code == 302
    client.get("/profil/2fa")
    db.session.refresh(user)
    assert user.totp_secret and user.totp_secret != old


def test_disable_needs_the_password(client, user):
    enrol(user)
    secret = user.totp_secret
    post_password(client, user)
    post_code(client, code_at(secret))
    response = client.post("/profil/2fa/nonaktifkan", data={"off-password": "not the password"})
    assert response.status_code == 200
    db.session.refresh(user)
    assert user.totp_enabled and user.failed_logins == 1
    response = client.post("/profil/2fa/nonaktifkan", data={"off-password": TEST_PASSWORD})
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.totp_enabled and user.totp_secret is None
    assert db.session.query(RecoveryCode).filter_by(user_id=user.id).count() == 0
    assert signed_in(client)


def test_regenerated_recovery_codes_replace_the_old_ones(client, user):
    secret, old_codes = enrol(user)
    post_password(client, user)
    post_code(client, code_at(secret))
    response = client.post("/profil/2fa/kode-pemulihan", data={"rc-password": TEST_PASSWORD})
    assert response.status_code == 200
    new_codes = re.findall(r"<li>([0-9a-z]{5}-[0-9a-z]{5})</li>", response.get_data(as_text=True))
    assert len(new_codes) == 10
    assert not ops.use_recovery_code(user, old_codes[0])
    assert ops.use_recovery_code(user, new_codes[0])


# --- sign-in with a code ---------------------------------------------------------------------


def test_password_then_code_signs_in(client, user):
    secret, _ = enrol(user)
    response = post_password(client, user)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/masuk/kode")
    assert not signed_in(client)  # the password alone does not sign in
    response = post_code(client, code_at(secret))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/beranda")
    assert signed_in(client)
    login_entry = db.session.query(AuditEntry).filter_by(action="user.login", actor_id=user.id)
    assert login_entry.one().changes == {"method": "totp"}


def test_next_survives_the_code_step(client, user):
    secret, _ = enrol(user)
    post_password(client, user, query_string={"next": "/akun"})
    assert post_code(client, code_at(secret)).headers["Location"].endswith("/akun")


def test_code_step_starts_a_new_session(client, user):
    secret, _ = enrol(user)
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    post_password(client, user)
    post_code(client, code_at(secret))
    with client.session_transaction() as sess:
        assert "planted" not in sess and "pending_login" not in sess


def test_a_code_is_accepted_once(app, user):
    secret, _ = enrol(user)
    code = code_at(secret)
    first, second = app.test_client(), app.test_client()
    post_password(first, user)
    assert post_code(first, code).status_code == 302
    post_password(second, user)
    response = post_code(second, code)
    assert response.status_code == 200  # refused: the same code again
    assert not signed_in(second)
    # nor is the code of an earlier time step, still within the drift window
    assert post_code(second, code_at(secret, -1)).status_code == 200
    assert not signed_in(second)


def test_a_wrong_code_is_refused_and_counted(client, user):
    secret, _ = enrol(user)
    post_password(client, user)
    good = code_at(secret)
    assert post_code(client, "000000" if good != "000000" else "111111").status_code == 200
    assert not signed_in(client)
    db.session.refresh(user)
    assert user.failed_logins == 1


def test_a_recovery_code_works_once(app, user):
    _, codes = enrol(user)
    first, second = app.test_client(), app.test_client()
    post_password(first, user)
    response = post_code(first, codes[0].upper().replace("-", " "))
    assert response.status_code == 302
    assert signed_in(first)
    entry = db.session.query(AuditEntry).filter_by(action="user.login", actor_id=user.id).one()
    assert entry.changes == {"method": "recovery"}
    assert ops.unused_recovery_codes(user) == 9
    post_password(second, user)
    assert post_code(second, codes[0]).status_code == 200
    assert not signed_in(second)


def test_the_code_step_expires(client, user):
    secret, _ = enrol(user)
    post_password(client, user)
    with client.session_transaction() as sess:
        sess["pending_login"] = {**sess["pending_login"], "exp": int(time.time()) - 1}
    response = post_code(client, code_at(secret))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/masuk")
    assert not signed_in(client)


def test_code_step_without_a_password_goes_back_to_sign_in(client):
    response = client.get("/masuk/kode")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/masuk")


def test_disabling_the_user_between_the_steps_refuses_the_code(client, user, admin_user):
    secret, _ = enrol(user)
    post_password(client, user)
    ops.update_user(
        user,
        email=user.email,
        name=user.name,
        active=False,
        expected_version=user.version,
        actor=admin_user,
    )
    response = post_code(client, code_at(secret))
    assert response.status_code == 302 and response.headers["Location"].endswith("/masuk")
    assert not signed_in(client)


@pytest.mark.redis
def test_code_attempts_share_the_account_rate_limit(client, user):
    enrol(user)
    reset_limits()
    post_password(client, user)
    statuses = [post_code(client, "000001").status_code for _ in range(6)]
    # password and codes share the six attempts a minute of the account: the 7th is refused
    assert statuses == [200] * 5 + [429]


# --- who must use it -------------------------------------------------------------------------


def test_required_but_not_enrolled_is_confined_to_enrolment(client, user, required):
    response = post_password(client, user)
    assert response.status_code == 302
    for path in ("/beranda", "/akun", "/kasus"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/profil/2fa"), path
    assert client.get("/profil/2fa").status_code == 200
    client.post("/profil/2fa/konfirmasi", data={"code": pyotp.TOTP(user.totp_secret).now()})
    assert signed_in(client)


def test_confined_user_can_still_sign_out(client, user, required):
    post_password(client, user)
    assert client.post("/keluar").status_code == 302
    assert client.get("/profil/2fa").status_code == 302
    assert "/masuk" in client.get("/profil/2fa").headers["Location"]


def test_totp_required_none_lets_them_in(client, user, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", "none")
    post_password(client, user)
    assert signed_in(client)


def test_roles_without_case_data_are_not_confined(client, required):
    leader = UserFactory(roles=[(Role.PIMPINAN, AgencyFactory())])
    post_password(client, leader)
    assert signed_in(client)


def test_policy_all_confines_everyone(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", "all")
    leader = UserFactory(roles=[(Role.PIMPINAN, AgencyFactory())])
    post_password(client, leader)
    assert client.get("/beranda").headers["Location"].endswith("/profil/2fa")


def test_case_roles():
    assert {
        Role.PETUGAS_PENGADUAN,
        Role.MANAJER_KASUS,
        Role.SUPERVISOR,
        Role.PETUGAS_LAYANAN,
        Role.KOORDINATOR_SUBGT,
    } <= CASE_ROLES
    assert Role.ADMIN in CASE_ROLES  # can grant a case role to another account it made
    assert Role.PIMPINAN not in CASE_ROLES
    assert totp_required("case_roles", [Role.PIMPINAN, Role.SUPERVISOR])
    assert not totp_required("case_roles", [Role.PIMPINAN])
    assert not totp_required("none", [Role.SUPERVISOR])
    assert totp_required("all", [])


@pytest.mark.parametrize(
    ("env", "given", "expected"),
    [
        ("production", None, "case_roles"),
        ("development", None, "none"),
        ("testing", "", "none"),
        ("development", " ALL ", "all"),
        ("production", "none", "none"),
    ],
)
def test_totp_required_defaults(env, given, expected):
    config = {"APP_ENV": env, "TOTP_REQUIRED": given}
    resolve_totp_setting(config)
    assert config["TOTP_REQUIRED"] == expected


def test_unknown_totp_policy_is_refused():
    with pytest.raises(ConfigError):
        resolve_totp_setting({"APP_ENV": "production", "TOTP_REQUIRED": "sometimes"})
