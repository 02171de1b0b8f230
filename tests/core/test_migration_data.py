"""Migrations that change stored data, run on a database holding data, on PostgreSQL and on
SQLite (the embedded ``make run`` default), both ways."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_NAME, database_url, make_app

# these tests build databases of their own and commit to them
pytestmark = pytest.mark.demo_database

BIRTH_DATE_REVISION = "0e92fe4462eb"


def _before(revision: str) -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    down = ScriptDirectory.from_config(config).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


@contextmanager
def scratch_app(kind: str, session_app: Flask) -> Iterator[Flask]:
    """An application on a new, empty database of ``kind`` (postgresql or sqlite)."""
    from app import celery_init_app
    from app.extensions import db

    admin = None
    name = f"{TEST_DB_NAME}_migration_data"
    if kind == "postgresql":
        server = make_url(database_url())
        admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='simpul-migration-')}/data.sqlite3"
    scratch = make_app(DATABASE_URL=url)
    try:
        with scratch.app_context():
            yield scratch
            db.session.remove()
            db.engine.dispose()
    finally:
        celery_init_app(session_app)
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


KINDS = [
    pytest.param("postgresql", marks=pytest.mark.postgres),
    "sqlite",
]


def _raw_birth_dates() -> dict[int, Any]:
    from app.extensions import db

    victims = sa.table("victims", sa.column("id"), sa.column("birth_date"))
    rows = dict(db.session.execute(sa.select(victims.c.id, victims.c.birth_date)).all())
    db.session.remove()  # no transaction left open for the next migration to wait on
    return rows


@pytest.mark.parametrize("kind", KINDS)
def test_birth_dates_are_encrypted_by_the_upgrade_and_decrypted_by_the_downgrade(app, kind):
    from app.cases.intake import ConsentData, VictimData
    from app.cases.models import ConsentEntry, Victim
    from app.core.encryption import keyring
    from app.extensions import db
    from tests.factories import AgencyFactory
    from tests.factories.cases import RECEIVED, create_case

    with scratch_app(kind, app):
        upgrade()
        agency = AgencyFactory()
        born = {"Ayu": dt.date(1994, 5, 1), "Bunga": dt.date(2012, 2, 29)}
        # rows referring to the victims (consents, a person): SQLite must copy the table
        # without breaking them
        case = create_case(
            agency,
            victims=[
                VictimData(
                    sex="P",
                    name=name,
                    birth_date=day,
                    violence_types=["fisik"],
                    consents=[
                        ConsentData(
                            purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                        )
                    ],
                )
                for name, day in born.items()
            ],
        )
        ids = {v.name: v.id for v in case.victims}
        db.session.commit()

        db.session.remove()
        downgrade(revision=_before(BIRTH_DATE_REVISION))
        plain = _raw_birth_dates()
        assert {name: str(plain[ids[name]])[:10] for name in ids} == {
            name: day.isoformat() for name, day in born.items()
        }

        upgrade()
        current = keyring().current_id
        stored = _raw_birth_dates()
        for name, victim_id in ids.items():
            assert stored[victim_id].startswith(f"enc1:{current}:")
            assert born[name].isoformat() not in stored[victim_id]
            assert db.session.get(Victim, victim_id).birth_date == born[name]
        consents = db.session.scalars(sa.select(ConsentEntry.victim_id)).all()
        assert sorted(consents) == sorted(ids.values())


REDACTION_REVISION = "eb63b99cce81"


@pytest.mark.parametrize("kind", KINDS)
def test_the_upgrade_redacts_break_the_glass_reasons_and_the_chain_verifies(app, kind):
    from app.audit.models import AuditEntry
    from app.audit.operations import record
    from app.audit.queries import verify_chain
    from app.breakglass.models import BreakGlassAttempt
    from app.core.enums import Role
    from app.extensions import db
    from tests.factories import AgencyFactory, UserFactory

    reason = "Korban Sekar Wulandari datang malam ini ke kantor kami."
    with scratch_app(kind, app):
        upgrade()
        user = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])
        db.session.flush()
        user_id = user.id
        # what the release before wrote
        record(user, "break_glass.grant", "case", 1, {"grant": 1, "reason": reason})
        record(
            user,
            "break_glass.no_match",
            "case_reference",
            "Sekar",
            {"reference": "Sekar", "reason": reason},
        )
        record(user, "case.view", "case", 1, {})
        db.session.commit()
        db.session.remove()
        downgrade(revision=_before(REDACTION_REVISION))

        upgrade()
        log = " ".join(
            f"{e.object_id} {e.changes}" for e in db.session.scalars(sa.select(AuditEntry))
        )
        assert "Sekar" not in log
        attempt = db.session.scalar(sa.select(BreakGlassAttempt))
        assert (attempt.user_id, attempt.reference, attempt.reason) == (user_id, "Sekar", reason)
        report = verify_chain()
        assert report.ok, report.problems
        assert len(report.redacted) == 2
        db.session.remove()
        if kind == "postgresql":  # the append-only trigger is on again
            with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM audit_entries"))
