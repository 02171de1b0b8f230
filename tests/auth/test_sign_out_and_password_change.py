"""Findings of the external security test: a session cookie must not outlive sign-out, and the
password-change form must not be an unlimited, unaudited password oracle."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from app.audit.models import AuditEntry
from app.auth.operations import LOCKOUT_THRESHOLD
from app.auth.passwords import verify_password
from app.core.enums import Role
from app.extensions import db
from tests.auth.helpers import reset_limits
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.fixtures import login

COOKIE = "simpul_session"
WRONG = "not the password at all"
NEW = "sungai panjang mengalir ke laut selatan"
GENERIC = "Email atau kata sandi salah."


@pytest.fixture
def user():
    return UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])


def copy_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replay(client: FlaskClient, value: str) -> None:
    client.set_cookie(COOKIE, value)


def refused(client: FlaskClient) -> bool:
    response = client.get("/beranda")
    return response.status_code == 302 and "/masuk" in response.headers["Location"]


def change(client: FlaskClient, current: str) -> object:
    return client.post(
        "/akun/kata-sandi",
        data={
            "pw-current_password": current,
            "pw-new_password": NEW,
            "pw-confirm_password": NEW,
        },
    )


def failures() -> list[AuditEntry]:
    return list(db.session.query(AuditEntry).filter_by(action="user.password_change_failed"))


# --- 1. sign-out ends the session on the server ----------------------------------------------


def test_a_copy_of_the_cookie_is_refused_after_sign_out(client, user):
    login(client, user)
    assert not refused(client)
    stolen = copy_cookie(client)
    response = client.post("/keluar")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    replay(client, stolen)
    assert refused(client)
    assert client.post("/keluar").status_code == 302  # nothing left to sign out of
    assert db.session.query(AuditEntry).filter_by(action="user.logout").count() == 1


def test_sign_out_still_says_so_in_the_persons_language(client, user):
    login(client, user)
    page = client.post("/keluar", follow_redirects=True).get_data(as_text=True)
    assert "Anda telah keluar." in page
    assert "Sesi Anda di perangkat lain juga telah berakhir." in page
    user.locale = "en"
    db.session.commit()
    login(client, user)
    page = client.post("/keluar", follow_redirects=True).get_data(as_text=True)
    assert "You have signed out." in page


def test_sign_out_ends_the_users_other_sessions_and_a_new_sign_in_works(app, user):
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    first.post("/keluar")
    assert refused(second)
    login(first, user)
    assert not refused(first)


# --- 2. the password-change form counts, locks and audits -------------------------------------


def test_wrong_current_passwords_lock_the_account_and_are_audited(app, client, user):
    login(client, user)
    reset_limits()  # the sign-in counted towards the shared per-account limit
    other = app.test_client()
    login(other, user)
    reset_limits()
    stolen = copy_cookie(client)
    for attempt in range(1, LOCKOUT_THRESHOLD):
        response = change(client, WRONG)
        assert response.status_code == 422  # refused, and still counted and audited
        assert "Kata sandi saat ini salah." in response.get_data(as_text=True)
        db.session.refresh(user)
        assert user.failed_logins == attempt and user.locked_until is None
    response = change(client, WRONG)
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    db.session.refresh(user)
    assert user.locked_until is not None
    assert GENERIC in client.get("/masuk").get_data(as_text=True)  # sign-in's own answer
    # the lock ended every session of the user, copies of the cookie too
    assert refused(client)
    replay(client, stolen)
    assert refused(client)
    assert refused(other)
    # the right password is refused now, at sign-in as well
    reset_limits()
    response = client.post("/masuk", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 200 and refused(client)
    assert verify_password(user.password_hash, TEST_PASSWORD)

    entries = failures()
    assert len(entries) == LOCKOUT_THRESHOLD
    assert {e.actor_id for e in entries} == {user.id}
    assert {e.object_id for e in entries} == {str(user.id)}
    assert [e.changes for e in entries] == [{"locked": False}] * (LOCKOUT_THRESHOLD - 1) + [
        {"locked": True}
    ]
    locked = db.session.query(AuditEntry).filter_by(action="user.locked").one()
    assert locked.changes["step"] == "password_change"
    for entry in [*entries, locked]:
        text = json.dumps(
            [entry.changes, entry.actor_label, entry.object_id, entry.remote_addr]
        ).lower()
        for secret in (WRONG, TEST_PASSWORD, NEW, user.password_hash):
            assert secret.lower() not in text


def test_while_locked_the_right_current_password_is_refused_too(client, user):
    login(client, user)
    reset_limits()
    for _ in range(LOCKOUT_THRESHOLD):  # a bot at the sign-in page locks the account
        client.application.test_client().post(
            "/masuk", data={"email": user.email, "password": WRONG}
        )
        reset_limits()
    db.session.refresh(user)
    assert user.locked_until is not None
    response = change(client, TEST_PASSWORD)
    assert response.status_code == 422
    assert "Kata sandi saat ini salah." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, TEST_PASSWORD)
    assert not verify_password(user.password_hash, NEW)
    assert [e.changes for e in failures()] == [{"locked": True}]


def test_the_right_current_password_resets_the_count(client, user):
    login(client, user)
    reset_limits()
    change(client, WRONG)
    db.session.refresh(user)
    assert user.failed_logins == 1
    response = change(client, TEST_PASSWORD)
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.failed_logins == 0 and verify_password(user.password_hash, NEW)
    assert not refused(client)


def test_a_new_password_the_policy_refuses_counts_nothing(client, user):
    login(client, user)
    reset_limits()
    response = client.post(
        "/akun/kata-sandi",
        data={
            "pw-current_password": TEST_PASSWORD,
            "pw-new_password": "password",
            "pw-confirm_password": "password",
        },
    )
    assert response.status_code == 422
    db.session.refresh(user)
    assert user.failed_logins == 0 and verify_password(user.password_hash, TEST_PASSWORD)
    assert failures() == []
    assert not refused(client)


def test_password_change_has_the_sign_in_rate_limit(app, client, user):
    login(client, user)
    reset_limits()
    original = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    try:
        assert change(client, WRONG).status_code == 422
        assert change(client, WRONG).status_code == 422
        assert change(client, WRONG).status_code == 429
    finally:
        app.config["LOGIN_RATE_LIMIT"] = original
        reset_limits()
    db.session.refresh(user)
    assert user.failed_logins == 2


def test_a_lock_from_re_authentication_ends_every_session_too(app, client, user):
    login(client, user)
    other = app.test_client()
    login(other, user)
    reset_limits()
    stolen = copy_cookie(client)
    for _ in range(LOCKOUT_THRESHOLD):
        client.post("/masuk/ulang", data={"password": WRONG})
    replay(client, stolen)
    assert refused(client)
    assert refused(other)
