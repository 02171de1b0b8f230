"""On PostgreSQL audit_entries only grows: UPDATE, DELETE and TRUNCATE are refused by triggers,
for the table's owner (the test role is even a superuser) as well."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.audit.operations import SystemActor, record
from app.extensions import db
from tests.conftest import TEST_DB_NAME, database_url, make_app

pytestmark = pytest.mark.postgres

AUDIT_REVISION = "07104b5c91ec"
PREVIOUS_REVISION = "de8f45a7a08d"  # the migration before the audit chain


@pytest.fixture
def entry_id(app):
    entry = record(SystemActor("append-only-test"), "thing.update", "thing", 1)
    db.session.flush()
    return entry.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET action = 'x' WHERE id = :id",
        "UPDATE audit_entries SET entry_hash = NULL",
        "DELETE FROM audit_entries WHERE id = :id",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
    ],
)
def test_changing_the_audit_log_is_refused(app, entry_id, statement):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement), {"id": entry_id})
    assert (
        db.session.execute(
            sa.text("SELECT action FROM audit_entries WHERE id = :id"), {"id": entry_id}
        ).scalar_one()
        == "thing.update"
    )


def test_the_orm_cannot_change_an_entry_either(app, entry_id):
    from app.audit.models import AuditEntry

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.get(AuditEntry, entry_id).action = "changed"
        db.session.flush()


def test_public_holds_no_right_to_change_it(app):
    rights = (
        db.session.execute(
            sa.text(
                "SELECT privilege_type FROM information_schema.role_table_grants"
                " WHERE table_name = 'audit_entries' AND grantee = 'PUBLIC'"
            )
        )
        .scalars()
        .all()
    )
    assert not {"UPDATE", "DELETE", "TRUNCATE"} & set(rights)


def _triggers(connection: sa.Connection) -> set[str]:
    return set(
        connection.execute(
            sa.text(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = 'audit_entries'::regclass AND NOT tgisinternal"
            )
        ).scalars()
    )


def test_the_migration_adds_and_removes_the_triggers():
    """Upgrade to the audit chain, downgrade one step, upgrade again, on a scratch database."""
    from flask import current_app
    from flask_migrate import downgrade, upgrade

    from app import celery_init_app

    scratch = f"{TEST_DB_NAME}_audit_migration"
    server = make_url(database_url())
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    session_app = current_app._get_current_object()
    expected = {"audit_entries_no_update_delete", "audit_entries_no_truncate"}
    try:
        fresh = make_app(DATABASE_URL=server.set(database=scratch).render_as_string(False))
        with fresh.app_context():
            upgrade(revision=AUDIT_REVISION)
            with db.engine.connect() as conn:
                assert _triggers(conn) == expected
            downgrade(revision=PREVIOUS_REVISION)
            with db.engine.connect() as conn:
                assert _triggers(conn) == set()
                columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_entries")}
                assert not {"prev_hash", "entry_hash", "hmac"} & columns
                conn.execute(sa.text("DELETE FROM audit_entries"))  # allowed again
            upgrade(revision=AUDIT_REVISION)
            with db.engine.connect() as conn:
                assert _triggers(conn) == expected
            db.engine.dispose()
    finally:
        celery_init_app(session_app)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
