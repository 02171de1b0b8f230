"""`flask keys rotate` asks the administrator running it to re-authenticate first (issue #7
item 2): the password, and a code when two-step verification is on, with sign-in's lockout;
nothing is re-encrypted when that fails, and a rotation is audit-logged under their name."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.core.encryption import generate_key
from app.core.enums import Role
from app.extensions import db
from tests.auth.helpers import code_at, enrol
from tests.factories import TEST_PASSWORD, AgencyFactory, UserFactory

OLD = generate_key("old")
NEW = generate_key("new")


@pytest.fixture
def stale(app: Any, monkeypatch: pytest.MonkeyPatch, create_agency: Any, create_case: Any) -> int:
    """A witness's name stored under the old key; the new key is now the current one."""
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", OLD)
    case = create_case(create_agency(), witnesses=[("Saksi Rotasi", "0812 0000 2222")])
    db.session.commit()
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"{NEW},{OLD}")
    return case.id


def _key_of_witness(case_id: int) -> str:
    witnesses = db.metadata.tables["witnesses"]
    stored = db.session.scalar(
        sa.select(sa.type_coerce(witnesses.c.name, sa.Text)).where(witnesses.c.case_id == case_id)
    )
    return stored.split(":")[1]


def _rotate(app: Any, email: str, typed: str) -> Any:
    return app.test_cli_runner().invoke(args=["keys", "rotate", "--email", email], input=typed)


def _actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.actor_id == user_id)
            .order_by(AuditEntry.id)
        )
    )


def test_the_right_password_rotates_and_the_rotation_is_audited(app, stale, admin_user):
    result = _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "values re-encrypted" in result.output
    assert TEST_PASSWORD not in result.output  # the prompt hides what is typed
    assert _key_of_witness(stale) == "new"
    actions = _actions(admin_user.id)
    assert actions[-3:] == ["user.reauthenticate", "keys.rotate_start", "keys.rotate"]
    done = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "keys.rotate")).one()
    assert done.changes["key"] == "new" and done.changes["values_reencrypted"] >= 1


@pytest.mark.parametrize("who", ["wrong password", "unknown account", "disabled account"])
def test_without_the_right_password_nothing_is_rotated(app, stale, admin_user, who):
    email, typed = admin_user.email, f"{TEST_PASSWORD}\n"
    if who == "wrong password":
        typed = "bukan-kata-sandinya\n"
    elif who == "unknown account":
        email = "tidak-ada@simpul.test"
    else:
        admin_user.active = False
        db.session.commit()
    result = _rotate(app, email, typed)
    assert result.exit_code == 1
    # one message whatever went wrong, in the deployment's language
    assert "Email atau kata sandi salah." in result.output
    assert _key_of_witness(stale) == "old"
    assert "keys.rotate_start" not in _actions(admin_user.id)
    if who == "wrong password":
        db.session.expire_all()
        assert admin_user.failed_logins == 1  # counted towards the lockout


def test_a_locked_account_is_refused_even_with_the_right_password(app, stale, admin_user):
    for _ in range(6):
        assert _rotate(app, admin_user.email, "salah-lagi-salah\n").exit_code == 1
    db.session.expire_all()
    assert admin_user.locked_until is not None
    result = _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n")
    assert result.exit_code == 1
    assert "Email atau kata sandi salah." in result.output
    assert _key_of_witness(stale) == "old"


def test_only_an_administrator_may_rotate(app, stale):
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    db.session.commit()
    result = _rotate(app, supervisor.email, f"{TEST_PASSWORD}\n")
    assert result.exit_code == 1
    assert "Hanya administrator" in result.output
    assert _key_of_witness(stale) == "old"


def test_with_two_step_verification_a_code_is_needed_once(app, stale, admin_user):
    secret, recovery = enrol(admin_user)
    db.session.commit()
    wrong = _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n000000\n")
    assert wrong.exit_code == 1
    assert "Kode tidak benar atau sudah pernah dipakai." in wrong.output
    assert _key_of_witness(stale) == "old"

    code = code_at(secret)
    assert _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n{code}\n").exit_code == 0
    assert _key_of_witness(stale) == "new"
    # the same code does not work twice; a recovery code does, once
    again = _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n{code}\n")
    assert again.exit_code == 1
    assert _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n{recovery[0]}\n").exit_code == 0


def test_where_two_step_verification_is_required_an_account_without_it_is_refused(
    app, stale, admin_user, monkeypatch
):
    monkeypatch.setitem(app.config, "TOTP_REQUIRED", "case_roles")
    result = _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n")
    assert result.exit_code == 1
    assert "verifikasi dua langkah" in result.output.lower()
    assert _key_of_witness(stale) == "old"


def test_rotation_refuses_without_an_operator_check(app, stale, admin_user, monkeypatch):
    from app.core.keys_cli import OPERATOR_CHECK

    monkeypatch.delitem(app.extensions, OPERATOR_CHECK)
    result = _rotate(app, admin_user.email, f"{TEST_PASSWORD}\n")
    assert result.exit_code == 1
    assert "refusing to rotate" in result.output
    assert _key_of_witness(stale) == "old"
