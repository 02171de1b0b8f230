"""Fixtures shared by every test module: factories named create_<thing>, the staff of an
agency, and signing in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.core.enums import Role
from tests.factories import (
    TEST_PASSWORD,
    AgencyFactory,
    KabkotaFactory,
    TaskForceFactory,
    UserFactory,
)


@pytest.fixture
def create_kabkota() -> Callable[..., Any]:
    return KabkotaFactory


@pytest.fixture
def create_agency() -> Callable[..., Any]:
    return AgencyFactory


@pytest.fixture
def create_task_force() -> Callable[..., Any]:
    return TaskForceFactory


@pytest.fixture
def create_user() -> Callable[..., Any]:
    return UserFactory


def staff(agency: Any, *roles: Role, **fields: Any) -> Any:
    """A user holding each of ``roles`` at ``agency``: ``staff(agency, Role.MANAJER_KASUS)``;
    ``fields`` go to the factory (``name=...``)."""
    return UserFactory(roles=[(role, agency) for role in roles], **fields)


# The people most tests start from; a module with an agency of its own (its services, its code)
# defines its own ``agency`` fixture, and these are then that agency's staff.
@pytest.fixture
def agency() -> Any:
    return AgencyFactory()


@pytest.fixture
def manager(agency: Any) -> Any:
    return staff(agency, Role.MANAJER_KASUS)


@pytest.fixture
def supervisor(agency: Any) -> Any:
    return staff(agency, Role.SUPERVISOR)


@pytest.fixture
def officer(agency: Any) -> Any:
    return staff(agency, Role.PETUGAS_PENGADUAN)


@pytest.fixture
def admin_user() -> Any:
    agency = AgencyFactory()
    return UserFactory(roles=[(Role.ADMIN, agency)])


def login(client: FlaskClient, user: Any, password: str = TEST_PASSWORD) -> Any:
    """A real sign-in through the sign-in page (password check, counters, audit entry): for the
    tests about signing in. Other tests use :func:`login_as`."""
    response = client.post("/masuk", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def login_as(client: FlaskClient, user: Any) -> FlaskClient:
    """Sign ``user`` in on ``client`` by writing the session a sign-in writes — the application's
    own ``start_session`` (Flask-Login's user id, freshness and session identifier for the
    client's address and browser; the sign-in, last-seen and re-authentication times), keeping
    the language already chosen — without a request, a password hash or an audit entry."""
    from flask import session as request_session

    from app.auth.sessions import start_session

    with client.session_transaction() as session:
        with client.application.test_request_context(environ_base=client.environ_base):
            request_session.update(session)  # what the client's session holds so far
            start_session(user)
            written = dict(request_session)
        session.clear()
        session.update(written)
    assert written.get("_user_id") == user.get_id(), f"{user.email} cannot sign in"
    return client


@pytest.fixture
def admin_client(client: FlaskClient, admin_user: Any) -> FlaskClient:
    return login_as(client, admin_user)


@pytest.fixture
def create_case() -> Callable[..., Any]:
    """``create_case(agency, actor=user, draft=False, case_manager=user, **intake_fields)``"""
    from tests.factories.cases import create_case as make

    return make


def production_keys() -> dict[str, str]:
    """The settings a production app refuses to start without (besides SECRET_KEY and
    DATABASE_URL): field encryption, the blind indexes, the audit seal, a mail server, and the
    attachment and report directories (fresh, writable temporary ones)."""
    import atexit
    import base64
    import shutil
    import tempfile
    from pathlib import Path

    files = Path(tempfile.mkdtemp(prefix="simpul-prod-files-"))
    atexit.register(shutil.rmtree, files, True)  # removed when the test run ends
    (files / "uploads").mkdir()
    (files / "reports").mkdir()
    return {
        "DATA_ENCRYPTION_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
        "BLIND_INDEX_KEYS": "b1:" + base64.b64encode(bytes(range(32, 64))).decode(),
        "AUDIT_HMAC_KEY": "kunci-audit-uji-Xq7-Lm2-Pz9-Rb4-Tc8-Vw1-Ys5-Nd3",
        "MAIL_SERVER": "smtp.example.go.id",
        "UPLOAD_DIR": str(files / "uploads"),
        "REPORT_DIR": str(files / "reports"),
    }


@pytest.fixture
def english_cli(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands speak the configured default locale (Indonesian): English for the
    assertions of a test."""
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "en")
