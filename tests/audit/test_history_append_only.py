"""The consent ledger, case transitions and referral events are append-only in the database, as
the audit log is: a flipped consent decision, a rewritten or deleted transition or referral
step, a truncated table are refused by triggers — on PostgreSQL for the tables' owner too (the
test role is even a superuser), on SQLite as well. The controlled exceptions still work: the
owner re-encrypts and re-dates (key rotation, the demo's clock), an erasure empties the consent
ledger's names, a victim taken off a never-registered draft takes its ledger along."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.cases.models import ConsentEntry, Victim
from app.extensions import db
from tests.audit.history import draft_dropping_a_victim, write_history
from tests.conftest import TEST_DB_NAME, database_url, make_app

REVISION = "21bb479f935a"  # the migration that makes these tables append-only

REFUSED = [
    "UPDATE consent_entries SET decision = 'menolak' WHERE id = :consent",
    "UPDATE consent_entries SET purpose = 'dokumentasi', given_by = 'wali' WHERE id = :consent",
    "UPDATE consent_entries SET withdraws_id = id WHERE id = :consent",
    "DELETE FROM consent_entries WHERE id = :consent",
    "UPDATE case_transitions SET to_state = 'ditutup' WHERE id = :transition",
    "UPDATE case_transitions SET actor_id = NULL, actor_label = 'system'",
    "DELETE FROM case_transitions WHERE id = :transition",
    "DELETE FROM case_transitions",
    "UPDATE referral_events SET kind = 'decline', to_state = 'ditolak' WHERE id = :event",
    "UPDATE referral_events SET data = '{}'",
    "DELETE FROM referral_events WHERE id = :event",
    "TRUNCATE case_transitions",
    "TRUNCATE referral_events",
    "TRUNCATE consent_entries CASCADE",
]


def _ids(history):
    return {
        "consent": history.consent_id,
        "transition": history.transition_id,
        "event": history.event_id,
    }


def _snapshot():
    return [
        db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
        for table in ("consent_entries", "case_transitions", "referral_events")
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("statement", REFUSED)
def test_changing_history_is_refused_even_for_the_owner(app, statement):
    history = write_history()
    before = _snapshot()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement), _ids(history))
    assert _snapshot() == before


@pytest.mark.postgres
def test_the_orm_cannot_flip_a_consent_decision_either(app):
    history = write_history()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.get(ConsentEntry, history.consent_id).decision = "menolak"
        db.session.flush()


@pytest.mark.postgres
def test_the_owner_may_re_encrypt_and_re_date(app):
    """What ``flask keys rotate`` and the demo's clock do, as the tables' owner."""
    history = write_history()
    for statement in (
        "UPDATE case_transitions SET reason = reason, data = data, at = at - interval '1 day'"
        " WHERE id = :transition",
        "UPDATE referral_events SET text = text, at = at - interval '1 day' WHERE id = :event",
        "UPDATE consent_entries SET note = note, given_by_name = given_by_name,"
        " at = at - interval '1 day', recorded_at = recorded_at WHERE id = :consent",
    ):
        assert db.session.execute(sa.text(statement), _ids(history)).rowcount == 1


@pytest.mark.postgres
def test_a_draft_may_lose_a_victim_with_its_consent_decisions(app, create_agency, create_user):
    from app.core.enums import Role

    agency = create_agency()
    officer = create_user(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    draft, removed_id = draft_dropping_a_victim(agency, officer)
    assert [v.name for v in draft.victims] == ["Ani"]
    assert db.session.get(Victim, removed_id) is None
    assert not db.session.scalars(
        sa.select(ConsentEntry).where(ConsentEntry.victim_id == removed_id)
    ).all()


def _triggers(connection: sa.Connection) -> set[str]:
    return set(
        connection.execute(
            sa.text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN"
                " ('consent_entries'::regclass, 'case_transitions'::regclass,"
                " 'referral_events'::regclass)"
            )
        ).scalars()
    )


@pytest.mark.postgres
def test_the_migration_adds_and_removes_the_triggers_and_the_id_check():
    from flask import current_app
    from flask_migrate import downgrade, upgrade

    from app import celery_init_app

    scratch = f"{TEST_DB_NAME}_history_migration"
    server = make_url(database_url())
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{scratch}"'))
    session_app = current_app._get_current_object()
    expected = {
        "consent_entries_guard",
        "consent_entries_no_truncate",
        "case_transitions_no_update_delete",
        "case_transitions_no_truncate",
        "referral_events_no_update_delete",
        "referral_events_no_truncate",
    }
    check = "SELECT count(*) FROM pg_constraint WHERE conname = 'ck_audit_entries_id_positive'"
    try:
        fresh = make_app(DATABASE_URL=server.set(database=scratch).render_as_string(False))
        with fresh.app_context():
            upgrade(revision=REVISION)
            with db.engine.connect() as conn:
                assert _triggers(conn) == expected
                assert conn.scalar(sa.text(check)) == 1
            downgrade(revision=f"{REVISION}-1")
            with db.engine.connect() as conn:
                assert _triggers(conn) == set()
                assert conn.scalar(sa.text(check)) == 0
            upgrade(revision=REVISION)
            with db.engine.connect() as conn:
                assert _triggers(conn) == expected
            db.engine.dispose()
    finally:
        celery_init_app(session_app)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


# --- SQLite, the embedded default -----------------------------------------------------------


def _sqlite_rows(conn: sqlite3.Connection) -> None:
    """One row in each table (foreign keys are not enforced on this raw connection)."""
    now = "2025-03-14 02:30:00.000000"
    conn.execute(
        "INSERT INTO consent_entries (id, victim_id, purpose, decision, given_by, given_by_name,"
        " at, recorded_at) VALUES (1, 999, 'layanan', 'setuju', 'wali', 'Ibu', ?, ?)",
        (now, now),
    )
    conn.execute(
        "INSERT INTO case_transitions (id, case_id, at, actor_label, kind, event, from_state,"
        " to_state, reason, data) VALUES (1, 999, ?, 'user', 'workflow', 'close', 'intervensi',"
        " 'ditutup', 'alasan', '{}')",
        (now,),
    )
    conn.execute(
        "INSERT INTO referral_events (id, referral_id, at, kind, text, data)"
        " VALUES (1, 999, ?, 'send', 'pesan', '{}')",
        (now,),
    )
    conn.execute(
        "INSERT INTO audit_entries (id, at, actor_label, action, object_type, object_id, changes)"
        " VALUES (1, ?, 'system', 'case.view', 'case', '1', '{}')",
        (now,),
    )
    conn.commit()


def test_on_sqlite_the_same_rules_hold(tmp_path):
    """Built by the migrations on a fresh SQLite file, as `make run` builds it."""
    from flask import current_app
    from flask_migrate import downgrade, upgrade

    from app import celery_init_app

    path = tmp_path / "embedded.sqlite3"
    session_app = current_app._get_current_object()
    try:
        fresh = make_app(DATABASE_URL=f"sqlite:///{path}")
        with fresh.app_context():
            upgrade()
            db.engine.dispose()
        conn = sqlite3.connect(path)
        _sqlite_rows(conn)
        for statement in [
            "UPDATE consent_entries SET decision = 'menolak'",
            "DELETE FROM consent_entries",
            "UPDATE case_transitions SET to_state = 'intervensi'",
            "DELETE FROM case_transitions",
            "UPDATE referral_events SET kind = 'decline'",
            "DELETE FROM referral_events",
            "UPDATE audit_entries SET action = 'x'",
            "DELETE FROM audit_entries",
        ]:
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
            conn.rollback()
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(
                "INSERT INTO audit_entries (id, at, actor_label, action, object_type, object_id,"
                " changes) VALUES (0, '2025-01-01', 'x', 'x', 'x', 'x', '{}')"
            )
        conn.rollback()
        # no roles here: re-encryption and re-dating stay possible (key rotation, demo clock)
        conn.execute("UPDATE consent_entries SET given_by_name = 'dihapus', note = NULL")
        conn.execute("UPDATE case_transitions SET reason = 'enc', at = '2025-01-01 00:00:00'")
        conn.execute("UPDATE referral_events SET text = 'enc'")
        conn.commit()
        conn.close()

        with fresh.app_context():
            downgrade(revision=f"{REVISION}-1")
            db.engine.dispose()
        conn = sqlite3.connect(path)
        names = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        assert names == set()
        conn.close()
    finally:
        celery_init_app(session_app)
