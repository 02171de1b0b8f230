import re
import time

import pytest

from app.audit.models import AuditEntry
from app.auth import operations as ops
from app.core.enums import Role
from app.extensions import db
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.fixtures import login

GENERIC = "Email atau kata sandi salah."


@pytest.fixture
def user():
    return UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])


def post_login(client, email, password, **kwargs):
    return client.post("/masuk", data={"email": email, "password": password}, **kwargs)


def test_login_succeeds_and_lands_on_home(client, user):
    response = post_login(client, user.email, TEST_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/beranda")
    assert client.get("/beranda").status_code == 200
    assert user.last_login_at is not None
    logins = db.session.query(AuditEntry).filter_by(action="user.login", actor_id=user.id)
    assert logins.count() == 1


def test_email_is_case_insensitive(client, user):
    assert post_login(client, user.email.upper(), TEST_PASSWORD).status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client, user):
    wrong = post_login(client, user.email, "not the password at all")
    unknown = post_login(client, "nobody@contoh.go.id", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert GENERIC in wrong.get_data(as_text=True)
    assert GENERIC in unknown.get_data(as_text=True)

    def strip(response, email):
        """The page without the typed e-mail and without the (time-stamped) CSRF tokens."""
        page = response.get_data(as_text=True).replace(email, "")
        return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", page)

    assert strip(wrong, user.email) == strip(unknown, "nobody@contoh.go.id")
    assert client.get("/beranda").status_code == 302


def test_disabled_account_gets_the_generic_answer(client, user):
    user.active = False
    db.session.flush()
    response = post_login(client, user.email, TEST_PASSWORD)
    assert GENERIC in response.get_data(as_text=True)


def test_missing_fields_are_reported_in_indonesian(client):
    response = post_login(client, "", "")
    assert "Kolom ini wajib diisi." in response.get_data(as_text=True)


def test_login_starts_a_new_session(client, user):
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    post_login(client, user.email, TEST_PASSWORD)
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_next_only_redirects_within_the_site(client, user):
    response = client.post(
        "/masuk?next=//evil.example/steal", data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"].endswith("/beranda")
    client.post("/keluar")
    response = client.post(
        "/masuk?next=/akun", data={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"].endswith("/akun")


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/beranda")
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]


def test_idle_timeout_ends_the_session(client, user, app):
    login(client, user)
    with client.session_transaction() as sess:
        sess["last_seen"] = int(time.time()) - (app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 5)
    response = client.get("/beranda")
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]
    assert client.get("/beranda").status_code == 302


def test_activity_within_the_timeout_keeps_the_session(client, user, app):
    login(client, user)
    with client.session_transaction() as sess:
        sess["last_seen"] = int(time.time()) - (app.config["IDLE_TIMEOUT_MINUTES"] * 60 - 60)
    assert client.get("/beranda").status_code == 200


def test_logout_needs_post_and_ends_the_session(client, user):
    login(client, user)
    assert client.get("/keluar").status_code == 405
    assert client.post("/keluar").status_code == 302
    assert client.get("/beranda").status_code == 302


def test_disabling_a_user_ends_their_sessions(client, user, admin_user):
    login(client, user)
    ops.update_user(
        user,
        email=user.email,
        name=user.name,
        active=False,
        expected_version=user.version,
        actor=admin_user,
    )
    assert client.get("/beranda").status_code == 302


def test_password_change_ends_other_sessions(app, user):
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    response = first.post(
        "/akun/kata-sandi",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-new_password": "sungai panjang mengalir ke laut selatan",
            "pw-confirm_password": "sungai panjang mengalir ke laut selatan",
        },
    )
    assert response.status_code == 302
    assert first.get("/beranda").status_code == 200
    assert second.get("/beranda").status_code == 302


def test_session_cookie_is_httponly_and_lax(client, user):
    response = post_login(client, user.email, TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.redis
def test_login_attempts_are_rate_limited_per_account(client, user):
    for _ in range(6):
        assert post_login(client, user.email, "wrong password here").status_code == 200
    response = post_login(client, user.email, "wrong password here")
    assert response.status_code == 429
    assert "Terlalu banyak percobaan" in response.get_data(as_text=True)


@pytest.mark.redis
def test_rate_limit_is_kept_in_redis(app):
    assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
