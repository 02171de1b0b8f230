"""`flask demo generate`: a national history written in bulk, on a database of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from app.core.encryption import decrypt_value, is_encrypted
from app.demo.generate import GenerateRefused, generate_history
from app.extensions import db
from tests.conftest import TEST_DB_NAME, database_url, make_app
from tests.fixtures import login_as

pytestmark = [pytest.mark.postgres, pytest.mark.demo_database]

CASES = 300
SEED = 7

TRACK_STATES = {
    "direncanakan",
    "dirujuk",
    "diterima_penyedia",
    "berjalan",
    "selesai",
    "ditolak_korban",
    "tidak_tersedia",
    "dibatalkan",
}
REFERRAL_STATES = {"draf", "dikirim", "diterima", "ditolak", "berjalan", "selesai", "ditarik"}


def _database(name: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    server = make_url(database_url())
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    app = make_app(DATABASE_URL=server.set(database=name).render_as_string(hide_password=False))
    with app.app_context():
        upgrade()
        db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def generated(app: Flask) -> Iterator[Flask]:
    """A database holding a generated history of CASES cases (committed, as the command does)."""
    for built in _database(f"{TEST_DB_NAME}_generate"):
        with built.app_context():
            result = built.test_cli_runner().invoke(
                args=["demo", "generate", "--cases", str(CASES), "--seed", str(SEED), "--quiet"]
            )
            assert result.exit_code == 0, result.output
            # before the tests add to it (sign-ins, views and rollups are audited too)
            built.extensions["generated_fingerprint"] = _fingerprint()
            db.session.remove()
        yield built


def _fingerprint() -> dict[str, object]:
    """What a seed decides: the cases (reference, agency, state, times), the tracks, referrals
    and counts of every table written."""
    tables = [
        "regions",
        "agencies",
        "population",
        "users",
        "cases",
        "victims",
        "service_tracks",
        "referrals",
        "referral_events",
        "case_transitions",
        "deadlines",
        "consent_entries",
        "case_transfers",
        "case_notes",
        "audit_entries",
    ]
    counts = {
        t: db.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
    }
    cases = db.session.execute(
        sa.text(
            "SELECT c.reference, a.code, c.state, c.received_at, c.closed_at "
            "FROM cases c JOIN agencies a ON a.id = c.agency_id ORDER BY c.id"
        )
    ).all()
    tracks = db.session.execute(
        sa.text("SELECT service_type, state, started_at FROM service_tracks ORDER BY id")
    ).all()
    referrals = db.session.execute(
        sa.text("SELECT state, sent_at FROM referrals ORDER BY id")
    ).all()
    return {"counts": counts, "cases": cases, "tracks": tracks, "referrals": referrals}


def test_generate_writes_the_cases_asked_for_with_their_history(generated: Flask) -> None:
    with generated.app_context():
        scalar = lambda sql: db.session.execute(sa.text(sql)).scalar_one()  # noqa: E731
        assert scalar("SELECT count(*) FROM cases") == CASES
        assert scalar("SELECT count(*) FROM regions WHERE level = 'provinsi'") == 38
        assert scalar("SELECT count(*) FROM regions WHERE level = 'kabkota'") == 514
        assert scalar("SELECT count(*) FROM regions WHERE level = 'kecamatan'") > 6000
        assert scalar("SELECT count(*) FROM agencies") > 7000
        # every case has its registration and the reference of its agency and year
        assert (
            scalar(
                "SELECT count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id "
                "WHERE c.reference NOT LIKE a.code || '-' || "
                "extract(year FROM c.received_at AT TIME ZONE 'Asia/Jakarta')::int || '-%'"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_transitions t "
                "WHERE t.case_id = c.id AND t.event = 'register' AND t.to_state = 'diterima')"
            )
            == 0
        )
        # a closed case has no open track (terminasi) and every track has its history row
        assert (
            scalar(
                "SELECT count(*) FROM service_tracks s JOIN cases c ON c.id = s.case_id "
                "WHERE c.state = 'terminasi' AND s.ended_at IS NULL"
            )
            == 0
        )
        assert (
            scalar(
                "SELECT count(*) FROM service_tracks s WHERE NOT EXISTS (SELECT 1 FROM "
                "case_transitions t WHERE t.track_id = s.id AND t.to_state = s.state)"
            )
            == 0
        )
        # the counters continue after the last reference each agency gave
        assert (
            scalar(
                "SELECT count(*) FROM cases c JOIN agencies a ON a.id = c.agency_id "
                "JOIN case_counters k ON k.agency_id = c.agency_id AND "
                "k.year = split_part(c.reference, '-', 3)::int "
                "WHERE split_part(c.reference, '-', 4)::int > k.last_number"
            )
            == 0
        )
        # an accepted transfer points at the receiving agency's case, linked back
        assert (
            scalar(
                "SELECT count(*) FROM case_transfers t JOIN cases n ON n.id = t.new_case_id "
                "WHERE t.state = 'diterima' AND (n.transferred_from_id <> t.case_id "
                "OR n.agency_id <> t.to_agency_id OR n.channel <> 'pelimpahan_masuk')"
            )
            == 0
        )
        assert scalar("SELECT count(*) FROM case_transfers WHERE state = 'diterima'") > 0
        # a track the victim declined has the refusal in the consent ledger
        assert (
            scalar(
                "SELECT count(*) FROM service_tracks s WHERE s.state = 'ditolak_korban' AND NOT "
                "EXISTS (SELECT 1 FROM consent_entries e WHERE e.victim_id = s.victim_id AND "
                "e.purpose = 'layanan:' || s.service_type AND e.decision = 'menolak')"
            )
            == 0
        )


def test_every_track_state_and_referral_state_occurs(generated: Flask) -> None:
    with generated.app_context():
        tracks = set(
            db.session.execute(sa.text("SELECT DISTINCT state FROM service_tracks")).scalars()
        )
        referrals = set(
            db.session.execute(sa.text("SELECT DISTINCT state FROM referrals")).scalars()
        )
        assert tracks == TRACK_STATES
        assert referrals == REFERRAL_STATES
        kinds = set(
            db.session.execute(sa.text("SELECT DISTINCT kind FROM referral_events")).scalars()
        )
        assert {"send", "opened", "accept", "decline", "start", "complete", "withdraw"} <= kinds


def test_personal_data_is_stored_as_the_application_stores_it(generated: Flask) -> None:
    from app.cases.models import Victim
    from app.core.crypto import name_index

    with generated.app_context():
        name, index = db.session.execute(
            sa.text("SELECT name, name_index FROM victims ORDER BY id LIMIT 1")
        ).one()
        assert is_encrypted(name)
        assert index == name_index(decrypt_value(name, "victims.name"))
        victim = db.session.scalar(sa.select(Victim).order_by(Victim.id).limit(1))
        assert victim is not None and victim.name and " " in victim.name
        data = db.session.execute(sa.text("SELECT data FROM case_transitions LIMIT 1")).scalar_one()
        assert is_encrypted(data)
        assert "external_id" in json.loads(decrypt_value(data, "case_transitions.data"))


def test_the_audit_chain_verifies(generated: Flask) -> None:
    with generated.app_context():
        result = generated.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok: " in result.output


def test_a_generated_case_page_renders_for_its_supervisor_and_is_hidden_from_another_agency(
    generated: Flask,
) -> None:
    from app.auth.models import User

    with generated.app_context():
        supervisor = db.session.scalar(
            sa.select(User).where(User.email == "supervisor@simpul.demo")
        )
        assert supervisor is not None
        agency_id = supervisor.grants[0].agency_id
        case_id = db.session.execute(
            sa.text(
                "SELECT c.id FROM cases c WHERE c.agency_id = :agency AND EXISTS (SELECT 1 FROM "
                "referrals r WHERE r.case_id = c.id) ORDER BY c.id LIMIT 1"
            ),
            {"agency": agency_id},
        ).scalar_one()
        other = db.session.scalar(
            sa.select(User)
            .where(User.email.like("supervisor.%"), User.id != supervisor.id)
            .limit(1)
        )
        assert other is not None
        own = login_as(generated.test_client(), supervisor)
        assert own.get(f"/kasus/{case_id}").status_code == 200
        stranger = login_as(generated.test_client(), other)
        assert stranger.get(f"/kasus/{case_id}").status_code == 404
        db.session.rollback()


def test_the_indicator_rollup_runs_on_it(generated: Flask) -> None:
    with generated.app_context():
        region = db.session.execute(
            sa.text(
                "SELECT r.code FROM cases c JOIN agencies a ON a.id = c.agency_id "
                "JOIN regions r ON r.id = a.region_id WHERE r.level = 'kabkota' "
                "GROUP BY r.code ORDER BY count(*) DESC, r.code LIMIT 1"
            )
        ).scalar_one()
        year = db.session.execute(
            sa.text("SELECT max(extract(year FROM received_at))::int - 1 FROM cases")
        ).scalar_one()
        runner = generated.test_cli_runner()
        result = runner.invoke(
            args=["indicators", "rollup", "--period", str(year), "--region", region]
        )
        assert result.exit_code == 0, result.output
        shown = runner.invoke(
            args=[
                "indicators",
                "show",
                "--period",
                str(year),
                "--region",
                region,
                "--format",
                "json",
            ]
        )
        assert shown.exit_code == 0, shown.output
        values = json.loads(shown.output)
        assert any(v["numerator"] for v in values)
        db.session.remove()


def test_the_command_refuses_a_database_that_is_not_empty(generated: Flask) -> None:
    with generated.app_context():
        before = db.session.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
        result = generated.test_cli_runner().invoke(
            args=["demo", "generate", "--cases", "10", "--seed", "1", "--quiet"]
        )
        assert result.exit_code == 1
        assert "tidak kosong" in result.output
        assert db.session.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() == before
        db.session.remove()


def test_the_same_seed_gives_the_same_history(generated: Flask, app: Flask) -> None:
    """Generated again into the (empty) test database, in a transaction rolled back after."""
    from tests.conftest import rolled_back_session

    first = generated.extensions["generated_fingerprint"]
    with rolled_back_session(app):
        generate_history(CASES, SEED, progress=None)
        second = _fingerprint()
    assert second == first


def test_sqlite_is_refused(tmp_path) -> None:
    sqlite = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/refused.sqlite3")
    with sqlite.app_context(), pytest.raises(GenerateRefused, match="PostgreSQL"):
        generate_history(10, 1, progress=None)


def test_the_foreign_key_check_finds_a_row_naming_a_missing_row(app: Flask) -> None:
    """With the row checks off, the check at the end is what stands between a bug and a broken
    database: it must see a reference to nothing."""
    from app.demo.generate import BrokenReference, _check_foreign_keys
    from tests.conftest import rolled_back_session

    with rolled_back_session(app) as session:
        _check_foreign_keys(["case_types"])
        session.execute(sa.text("SET LOCAL session_replication_role = replica"))
        session.execute(sa.text("INSERT INTO case_types (case_id, type) VALUES (987654321, 'ktp')"))
        session.execute(sa.text("SET LOCAL session_replication_role = origin"))
        with pytest.raises(BrokenReference, match="case_types"):
            _check_foreign_keys(["case_types"])
