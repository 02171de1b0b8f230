"""The migrations build the schema the models describe, on an empty database, both ways."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from app.core.db import declared_for
from app.extensions import db
from tests.conftest import TEST_DB_NAME, database_url, make_app


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                # as `flask db migrate` compares (migrations/env.py): an index declared for
                # PostgreSQL only is not expected on SQLite
                "include_object": declared_for(connection.dialect.name),
            },
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


@pytest.mark.postgres
def test_upgrade_downgrade_upgrade_on_an_empty_database():
    from flask import current_app

    from app import celery_init_app

    scratch = f"{TEST_DB_NAME}_migration_check"
    server = make_url(database_url())
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    session_app = current_app._get_current_object()
    try:
        fresh = make_app(DATABASE_URL=server.set(database=scratch).render_as_string(False))
        with fresh.app_context():
            upgrade()
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"regions", "agencies", "users", "role_grants", "audit_entries"} <= tables
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
            db.engine.dispose()
    finally:
        celery_init_app(session_app)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_import_no_application_code():
    from pathlib import Path

    versions = Path(__file__).parents[2] / "migrations" / "versions"
    offenders = [
        p.name
        for p in versions.glob("*.py")
        if "from app" in p.read_text() or "import app" in p.read_text()
    ]
    assert offenders == []
