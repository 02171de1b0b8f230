"""Lockout after repeated failures, one answer for every refused sign-in, the absolute session
lifetime, re-authentication before sensitive actions, and sessions ending on disable."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import session
from flask_login import login_user

from app.audit.models import AuditEntry
from app.auth import views
from app.auth.sessions import SESSION_REAUTH_AT, require_recent_auth
from app.core.db import utcnow
from app.core.enums import Role
from app.extensions import db
from tests.auth.helpers import code_at, enrol, post_code, post_password, reset_limits
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory
from tests.fixtures import login

GENERIC = "Email atau kata sandi salah."
WRONG = "not the password at all"


@pytest.fixture
def user():
    return UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])


def post_email(client, email, password):
    return client.post("/masuk", data={"email": email, "password": password})


def signed_in(client) -> bool:
    return client.get("/beranda").status_code == 200


def strip(response, email):
    """The page without the typed e-mail and the time-stamped CSRF tokens."""
    page = response.get_data(as_text=True).replace(email, "")
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", page)


# --- lockout ---------------------------------------------------------------------------------


def test_six_failures_lock_the_account_for_thirty_minutes(client, user):
    for _ in range(5):
        post_password(client, user, WRONG)
    db.session.refresh(user)
    assert user.failed_logins == 5 and user.locked_until is None
    post_password(client, user, WRONG)
    db.session.refresh(user)
    assert user.locked_until is not None
    remaining = user.locked_until - utcnow()
    assert dt.timedelta(minutes=29) < remaining <= dt.timedelta(minutes=30)
    entry = db.session.query(AuditEntry).filter_by(action="user.locked", object_id=str(user.id))
    assert entry.one().changes["failures"] == 6

    reset_limits()
    response = post_password(client, user)  # the right password, but locked
    assert GENERIC in response.get_data(as_text=True)
    assert not signed_in(client)
    db.session.refresh(user)
    assert user.locked_until - utcnow() <= remaining  # attempts while locked do not extend it


def test_the_lock_runs_out_and_success_resets_the_count(client, user):
    user.failed_logins = 3
    user.locked_until = utcnow() - dt.timedelta(seconds=1)
    db.session.flush()
    post_password(client, user)
    assert signed_in(client)
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_success_ends_the_run_of_failures(client, user):
    for _ in range(5):
        post_password(client, user, WRONG)
    login(client, user)
    client.post("/keluar")
    reset_limits()
    post_password(client, user, WRONG)
    db.session.refresh(user)
    assert user.failed_logins == 1 and user.locked_until is None


def test_wrong_codes_lock_the_account_too(client, user):
    secret, _ = enrol(user)
    post_password(client, user)
    reset_limits()
    wrong = "000000" if code_at(secret) != "000000" else "111111"
    for _ in range(6):
        post_code(client, wrong)
    db.session.refresh(user)
    assert user.locked_until is not None
    reset_limits()
    post_code(client, code_at(secret))  # the right code, but locked
    assert not signed_in(client)
    db.session.refresh(user)
    assert user.totp_last_step is None  # the refused code was not used up


def test_one_answer_for_unknown_locked_wrong_and_disabled(client, user):
    locked = UserFactory(locked_until=utcnow() + dt.timedelta(minutes=10))
    disabled = UserFactory(active=False)
    answers = [
        (post_password(client, user, WRONG), user.email),
        (post_email(client, "nobody@contoh.go.id", TEST_PASSWORD), "nobody@contoh.go.id"),
        (post_password(client, locked, TEST_PASSWORD), locked.email),
        (post_password(client, disabled, TEST_PASSWORD), disabled.email),
    ]
    pages = {strip(response, email) for response, email in answers}
    assert len(pages) == 1
    assert GENERIC in pages.pop()
    assert {response.status_code for response, _ in answers} == {200}


def test_every_answer_costs_one_password_verification(client, user, monkeypatch):
    """The time taken does not tell a known account from an unknown or a locked one: each
    answer runs exactly one argon2 verification."""
    calls: list[str | None] = []
    real = views.verify_password

    def counting(password_hash, password):
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(views, "verify_password", counting)
    locked = UserFactory(locked_until=utcnow() + dt.timedelta(minutes=10))
    post_email(client, "nobody@contoh.go.id", WRONG)
    post_password(client, user, WRONG)
    post_password(client, locked, TEST_PASSWORD)
    assert len(calls) == 3
    assert calls[0] is None  # the unknown account is checked against the dummy hash


def test_admin_unlocks_an_account(admin_client, user):
    user.locked_until = utcnow() + dt.timedelta(minutes=20)
    db.session.flush()
    assert "buka-kunci" in admin_client.get(f"/admin/pengguna/{user.id}").get_data(as_text=True)
    assert admin_client.post(f"/admin/pengguna/{user.id}/buka-kunci").status_code == 302
    db.session.refresh(user)
    assert user.locked_until is None
    assert db.session.query(AuditEntry).filter_by(action="user.unlock").count() == 1


def test_admin_resets_a_lost_second_factor(admin_client, user):
    enrol(user)
    assert admin_client.post(f"/admin/pengguna/{user.id}/2fa/reset").status_code == 302
    db.session.refresh(user)
    assert not user.totp_enabled


# --- session lifetimes -----------------------------------------------------------------------


def test_the_absolute_lifetime_ends_an_active_session(client, user, app):
    login(client, user)
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    with client.session_transaction() as sess:
        sess["signed_in_at"] = int(time.time()) - hours * 3600 - 5
    response = client.get("/beranda")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    assert not signed_in(client)


def test_a_session_within_its_absolute_lifetime_goes_on(client, user, app):
    login(client, user)
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    with client.session_transaction() as sess:
        sess["signed_in_at"] = int(time.time()) - hours * 3600 + 60
    assert signed_in(client)


def test_a_session_without_a_sign_in_time_is_ended(client, user):
    login(client, user)
    with client.session_transaction() as sess:
        del sess["signed_in_at"]
    assert not signed_in(client)


def test_disabling_a_user_ends_their_session_on_the_next_request(client, user, admin_client):
    other = type(client)(client.application, client.response_wrapper, use_cookies=True)
    login(other, user)
    assert signed_in(other)
    response = admin_client.post(
        f"/admin/pengguna/{user.id}",
        data={
            "user-email": user.email,
            "user-name": user.name,
            "user-version": user.version,
        },  # the "active" box left unticked
    )
    assert response.status_code == 302
    response = other.get("/beranda")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


# --- re-authentication -----------------------------------------------------------------------


def _protected() -> str:
    return "exported"


def test_require_recent_auth_sends_to_reauthentication(app, user):
    view = require_recent_auth(minutes=5)(_protected)
    with app.test_request_context("/indikator/laporan/1/unduh?x=1"):
        login_user(user)
        session[SESSION_REAUTH_AT] = int(time.time()) - 5 * 60 - 1
        response = view()
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/masuk/ulang"
        assert parse_qs(location.query)["next"] == ["/indikator/laporan/1/unduh?x=1"]
        session[SESSION_REAUTH_AT] = int(time.time()) - 60
        assert view() == "exported"


def test_require_recent_auth_keeps_the_view_permission(app):
    from app.core.permissions import requires, route_permission

    view = requires("indicators:view")(require_recent_auth()(_protected))
    assert route_permission(view) == "indicators:view"


def test_sign_in_counts_as_a_recent_authentication(client, user):
    login(client, user)
    with client.session_transaction() as sess:
        assert int(time.time()) - sess[SESSION_REAUTH_AT] < 5


def test_reauthentication_with_the_password(client, user):
    login(client, user)
    with client.session_transaction() as sess:
        sess[SESSION_REAUTH_AT] = int(time.time()) - 10 * 60
    assert client.get("/masuk/ulang?next=/akun").status_code == 200
    response = client.post("/masuk/ulang?next=/akun", data={"password": WRONG})
    assert response.status_code == 200
    response = client.post("/masuk/ulang?next=//evil.example", data={"password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/beranda")
    response = client.post("/masuk/ulang?next=/akun", data={"password": TEST_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/akun")
    with client.session_transaction() as sess:
        assert int(time.time()) - sess[SESSION_REAUTH_AT] < 5
    assert db.session.query(AuditEntry).filter_by(action="user.reauthenticate").count() == 2


def test_reauthentication_asks_for_a_code_when_enrolled(client, user):
    secret, _ = enrol(user)
    post_password(client, user)
    post_code(client, code_at(secret, -1))
    response = client.post("/masuk/ulang", data={"password": TEST_PASSWORD})
    assert response.status_code == 200  # no code: refused
    response = client.post(
        "/masuk/ulang", data={"password": TEST_PASSWORD, "code": code_at(secret)}
    )
    assert response.status_code == 302


def test_locking_the_account_from_reauthentication_ends_the_session(client, user):
    login(client, user)
    reset_limits()
    for _ in range(6):
        client.post("/masuk/ulang", data={"password": WRONG})
    db.session.refresh(user)
    assert user.locked_until is not None
    assert not signed_in(client)
