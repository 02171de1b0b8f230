"""The owner/application role split of a production database (app/core/db_roles.py).

Two roles of the test's own are created in the test cluster: the owner, which runs the
migrations (``DATABASE_OWNER_URL``), and the application role (``DATABASE_URL``), which gets
its grants from ``flask db upgrade``. As the application role the ordinary work goes through —
a case with its consent ledger, a service track, a referral sent and accepted, an erasure, a
page opened, ``flask audit verify`` — while every way of rewriting the audit log or the history
tables is refused, and ``flask keys rotate`` still re-encrypts the history as the owner."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from app.core.encryption import generate_key
from app.extensions import db
from tests.conftest import TEST_DB_NAME, FreshGlobalsClient, database_url, make_app
from tests.factories import TEST_PASSWORD

pytestmark = [
    pytest.mark.postgres,
    # a database and roles of its own, committed: outside the rolled-back transaction
    pytest.mark.demo_database,
]

KEY_A = generate_key("ra")
KEY_B = generate_key("rb")


class Roles:
    def __init__(self) -> None:
        suffix = secrets.token_hex(3)
        self.owner = f"{TEST_DB_NAME}_own_{suffix}"
        self.app = f"{TEST_DB_NAME}_app_{suffix}"
        self.database = f"{TEST_DB_NAME}_roles_{suffix}"
        self.server = make_url(database_url())

    def url(self, role: str) -> str:
        return self.server.set(
            username=role, password=None, database=self.database
        ).render_as_string(hide_password=False)


@pytest.fixture
def roles(app: Flask) -> Iterator[Roles]:
    """The two roles and a database owned by the owner, set up as docs/operations.md says."""
    from app import celery_init_app

    r = Roles()
    admin = sa.create_engine(r.server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{r.owner}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'))
        conn.execute(
            sa.text(f'CREATE ROLE "{r.app}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')
        )
        conn.execute(sa.text(f'CREATE DATABASE "{r.database}" OWNER "{r.owner}"'))
        conn.execute(sa.text(f'REVOKE ALL ON DATABASE "{r.database}" FROM PUBLIC'))
        conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{r.database}" TO "{r.app}"'))
    scratch = sa.create_engine(r.server.set(database=r.database), isolation_level="AUTOCOMMIT")
    with scratch.connect() as conn:
        conn.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(sa.text(f'ALTER SCHEMA public OWNER TO "{r.owner}"'))
    scratch.dispose()
    try:
        yield r
    finally:
        celery_init_app(app)  # building another app rebinds the shared Celery app: give it back
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{r.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{r.app}"'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{r.owner}"'))
        admin.dispose()


@pytest.fixture
def role_app(roles: Roles) -> Iterator[Flask]:
    """The application connecting as the application role, migrated by the owner."""
    from flask_migrate import upgrade

    application = make_app(
        DATABASE_URL=roles.url(roles.app),
        DATABASE_OWNER_URL=roles.url(roles.owner),
        DATA_ENCRYPTION_KEYS=KEY_A,
        MAIL_BACKEND="memory",
    )
    application.test_client_class = FreshGlobalsClient
    with application.app_context():
        upgrade()
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def _ordinary_work(role_app: Flask) -> dict[str, Any]:
    """Cases, consent, a referral, an erasure, as the application does them."""
    from app.cases.intake import ConsentData
    from app.cases.operations import add_consent
    from app.core.enums import Role
    from app.privacy.models import ErasureBasis
    from app.privacy.operations import erase_identity
    from tests.audit.history import draft_dropping_a_victim, write_history
    from tests.factories import UserFactory
    from tests.factories.cases import RECEIVED, create_case

    history = write_history()
    admin = UserFactory(roles=[(Role.ADMIN, history.case.agency)])
    # a guardian's consent with a name, on a second case whose victim's identity is then erased
    erased_case = create_case(history.case.agency, actor=history.manager)
    erased = erased_case.victims[0]
    add_consent(
        erased,
        ConsentData(
            purpose="dokumentasi",
            decision="setuju",
            given_by="wali",
            given_by_name="Ibu Sari",
            at=RECEIVED,
        ),
        actor=history.manager,
    )
    db.session.flush()
    erase_identity(erased, basis=ErasureBasis.PERMINTAAN, actor=admin)
    draft, removed_id = draft_dropping_a_victim(history.case.agency, history.manager)
    db.session.commit()
    return {
        "history": history,
        "admin_email": admin.email,
        "manager_email": history.manager.email,
        "case_id": history.case.id,
        "erased_victim_id": erased.id,
        "draft_id": draft.id,
        "removed_victim_id": removed_id,
        "consent": history.consent_id,
        "transition": history.transition_id,
        "event": history.event_id,
    }


TAMPERING = [
    # the audit log: its triggers and the table itself are the owner's
    "ALTER TABLE audit_entries DISABLE TRIGGER USER",
    "ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_delete",
    "DROP TRIGGER audit_entries_no_update_delete ON audit_entries",
    "DROP TRIGGER audit_entries_no_truncate ON audit_entries",
    "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RETURN NULL; END $$",
    "ALTER TABLE audit_entries DROP CONSTRAINT ck_audit_entries_id_positive",
    "TRUNCATE audit_entries",
    "UPDATE audit_entries SET action = 'x'",
    "DELETE FROM audit_entries",
    "INSERT INTO audit_entries (id, at, actor_label, action, object_type, object_id, changes)"
    " VALUES (0, now(), 'system', 'case.view', 'case', '1', '{}')",
    "SELECT setval(pg_get_serial_sequence('audit_entries', 'id'), 1)",
    "SET session_replication_role = replica",
    "ALTER ROLE CURRENT_USER SUPERUSER",
    "DROP TABLE audit_entries",
    # the history tables
    "ALTER TABLE consent_entries DISABLE TRIGGER USER",
    "DROP TRIGGER consent_entries_guard ON consent_entries",
    "TRUNCATE consent_entries CASCADE",
    "UPDATE consent_entries SET decision = 'menolak'",
    "UPDATE consent_entries SET decision = 'menolak' WHERE id = :consent",
    "UPDATE consent_entries SET given_by_name = 'Orang Lain' WHERE id = :consent",
    "UPDATE consent_entries SET note = NULL, given_by_name = NULL WHERE id = :consent",
    "DELETE FROM consent_entries WHERE id = :consent",
    "ALTER TABLE case_transitions DISABLE TRIGGER USER",
    "DROP TRIGGER case_transitions_no_update_delete ON case_transitions",
    "TRUNCATE case_transitions",
    "UPDATE case_transitions SET to_state = 'ditutup' WHERE id = :transition",
    "UPDATE case_transitions SET at = at - interval '1 year'",
    "DELETE FROM case_transitions WHERE id = :transition",
    "ALTER TABLE referral_events DISABLE TRIGGER USER",
    "DROP TRIGGER referral_events_no_update_delete ON referral_events",
    "TRUNCATE referral_events",
    "UPDATE referral_events SET kind = 'decline' WHERE id = :event",
    "DELETE FROM referral_events WHERE id = :event",
    "DELETE FROM victim_erasures",
]


def _history_rows(connection: sa.Connection) -> list[Any]:
    return [
        connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
        for table in (
            "audit_entries",
            "consent_entries",
            "case_transitions",
            "referral_events",
            "victim_erasures",
        )
    ]


def test_the_application_role_works_but_cannot_rewrite_history(roles, role_app):
    from app.cases.models import ConsentEntry

    with role_app.app_context():
        # the owner owns, the application role is nobody special
        assert db.session.scalar(sa.text("SELECT current_user")) == roles.app
        assert (
            db.session.scalar(
                sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_entries'")
            )
            == roles.owner
        )
        assert not db.session.scalar(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )

        work = _ordinary_work(role_app)
        names = db.session.scalars(
            sa.select(ConsentEntry.given_by_name).where(
                ConsentEntry.victim_id == work["erased_victim_id"]
            )
        ).all()
        assert "Ibu Sari" not in names  # the erasure emptied the ledger's names
        assert not db.session.scalars(
            sa.select(ConsentEntry.id).where(ConsentEntry.victim_id == work["removed_victim_id"])
        ).all()
        db.session.remove()

        client = role_app.test_client()
        signed_in = client.post(
            "/masuk", data={"email": work["manager_email"], "password": TEST_PASSWORD}
        )
        assert signed_in.status_code == 302
        assert client.get(f"/kasus/{work['case_id']}").status_code == 200
        db.session.remove()

        runner = role_app.test_cli_runner()
        verified = runner.invoke(args=["audit", "verify"])
        assert verified.exit_code == 0, verified.output
        head = runner.invoke(args=["audit", "head"]).output.strip()

        params = {k: work[k] for k in ("consent", "transition", "event")}
        with db.engine.connect() as conn:
            before = _history_rows(conn)
        refused = []
        for statement in TAMPERING:
            with db.engine.connect() as conn, conn.begin():
                try:
                    conn.execute(sa.text(statement), params)
                except sa.exc.DBAPIError as exc:
                    message = str(exc.orig)
                    assert any(
                        reason in message
                        for reason in (
                            "permission denied",
                            "must be owner",
                            "must be superuser",
                            "append-only",
                            "ck_audit_entries_id_positive",
                        )
                    ), (statement, message)
                    refused.append(statement)
        assert refused == TAMPERING
        with db.engine.connect() as conn:
            assert _history_rows(conn) == before
        after = runner.invoke(args=["audit", "verify", "--expect", head])
        assert after.exit_code == 0, after.output


def test_key_rotation_re_encrypts_the_history_as_the_owner(roles, role_app):
    with role_app.app_context():
        work = _ordinary_work(role_app)
        db.session.remove()
        role_app.config["DATA_ENCRYPTION_KEYS"] = f"{KEY_B},{KEY_A}"
        # as the application role the history cannot be re-encrypted: only its owner may
        owner_url = role_app.config.pop("DATABASE_OWNER_URL")
        as_app = role_app.test_cli_runner().invoke(
            args=["keys", "rotate", "--email", work["admin_email"]],
            input=f"{TEST_PASSWORD}\n",
        )
        assert as_app.exit_code != 0
        assert "permission denied" in str(as_app.exception)
        db.session.remove()
        role_app.config["DATABASE_OWNER_URL"] = owner_url
        result = role_app.test_cli_runner().invoke(
            args=["keys", "rotate", "--email", work["admin_email"]],
            input=f"{TEST_PASSWORD}\n",
        )
        assert result.exit_code == 0, result.output
        status = role_app.test_cli_runner().invoke(args=["keys", "status"])
        assert "older keys may be removed" in status.output, status.output
        with db.engine.connect() as conn:
            stored = conn.scalars(
                sa.text(
                    "SELECT data FROM case_transitions UNION ALL SELECT given_by_name"
                    " FROM consent_entries WHERE given_by_name IS NOT NULL"
                )
            ).all()
        assert len(stored) > 5
        assert all(value.startswith("enc1:rb:") for value in stored)


def test_grant_app_role_refuses_a_role_that_could_get_past_the_grants(roles, role_app):
    runner = role_app.test_cli_runner()
    with role_app.app_context():
        again = runner.invoke(args=["db", "grant-app-role"])
        assert again.exit_code == 0, again.output
        assert f"granted to {roles.app}" in again.output
        assert "audit_entries: SELECT, INSERT" in again.output
        assert "case_transitions: SELECT, INSERT" in again.output
        assert "consent_entries: SELECT, INSERT, UPDATE (given_by_name, note), DELETE" in (
            again.output
        )
        superuser = runner.invoke(args=["db", "grant-app-role", "postgres"])
        assert superuser.exit_code != 0
        assert "is a superuser" in superuser.output
        owner = runner.invoke(args=["db", "grant-app-role", roles.owner])
        assert owner.exit_code != 0
        assert "connected as" in owner.output
        missing = runner.invoke(args=["db", "grant-app-role", f"{roles.app}_nobody"])
        assert missing.exit_code != 0
        assert "does not exist" in missing.output
