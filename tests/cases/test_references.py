"""Case references ``<AGENCY-CODE>-<YYYY>-<NNNNN>`` (domain.md §2.1): sequential per agency and
per year in Asia/Jakarta, independent of database ids, and unique under concurrent intakes.

About "never reused": a number is taken inside the registering transaction (the counter row is
updated there). A registration that is refused by the rules takes no number; a registration
whose transaction rolls back (an error later in the same request) gives its number back with
everything else, so the next complaint gets it — that number never reached any stored case, and
no gap is left. A number that was committed is never given again.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import scoped_session, sessionmaker

from app.audit.operations import SystemActor
from app.cases import operations as ops
from app.core.errors import DomainError
from app.extensions import db
from app.workflow import registration
from tests.conftest import database_url
from tests.factories import AgencyFactory
from tests.factories.cases import create_case, make_intake

NEW_YEAR_EVE_WIB = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)  # 23:30 WIB, still 2025
NEW_YEAR_WIB = dt.datetime(2025, 12, 31, 17, 30, tzinfo=dt.UTC)  # 00:30 WIB, already 2026


def test_numbers_follow_each_other_per_agency():
    first, second = AgencyFactory(code="UPTDPPA-3273"), AgencyFactory(code="UPTDPPA-3201")
    assert create_case(first).reference == "UPTDPPA-3273-2025-00001"
    assert create_case(first).reference == "UPTDPPA-3273-2025-00002"
    assert create_case(second).reference == "UPTDPPA-3201-2025-00001"
    assert create_case(first).reference == "UPTDPPA-3273-2025-00003"


def test_the_year_is_the_year_in_jakarta():
    agency = AgencyFactory(code="UPTDPPA-3273")
    eve = create_case(agency, received_at=NEW_YEAR_EVE_WIB, incident_date=dt.date(2025, 12, 1))
    new_year = create_case(agency, received_at=NEW_YEAR_WIB, incident_date=dt.date(2025, 12, 1))
    assert eve.reference == "UPTDPPA-3273-2025-00001"
    assert new_year.reference == "UPTDPPA-3273-2026-00001"  # a new year starts again at 1
    assert create_case(agency, received_at=NEW_YEAR_EVE_WIB).reference.endswith("-2025-00002")


def test_drafts_take_no_number_until_registered():
    agency = AgencyFactory(code="UPTDPPA-3273")
    draft = create_case(agency, draft=True)
    assert create_case(agency).reference.endswith("-00001")
    registration.submit_draft(
        draft, make_intake(), expected_version=draft.version, actor=SystemActor()
    )
    assert draft.reference.endswith("-00002")


def test_a_refused_registration_takes_no_number():
    agency = AgencyFactory(code="UPTDPPA-3273")
    with pytest.raises(DomainError):
        create_case(agency, case_types=[])
    assert create_case(agency).reference.endswith("-00001")


def test_a_rolled_back_registration_gives_its_number_back():
    agency = AgencyFactory(code="UPTDPPA-3273")
    create_case(agency)
    savepoint = db.session.begin_nested()
    assert create_case(agency).reference.endswith("-00002")
    savepoint.rollback()
    assert create_case(agency).reference.endswith("-00002")  # no gap, no stored duplicate


# --- concurrency, on PostgreSQL: real transactions on separate connections --------------------


@pytest.fixture
def committed_agency(app: Any) -> Any:
    """An agency committed to the test database (the usual test transaction would hide it from
    other connections), removed again afterwards with its counters."""
    engine = sa.create_engine(database_url())
    suffix = secrets.token_hex(3).upper()
    code = f"REFTEST-{suffix}"
    with engine.begin() as conn:
        region_id = conn.execute(
            sa.text(
                "INSERT INTO regions (code, name, level, created_at, updated_at, version) "
                "VALUES (:code, 'Provinsi Uji Nomor', 'provinsi', now(), now(), 1) RETURNING id"
            ),
            {"code": _free_province(conn)},
        ).scalar_one()
        agency_id = conn.execute(
            sa.text(
                "INSERT INTO agencies (code, name, type, region_id, active, created_at, "
                "updated_at, version) VALUES (:code, 'Lembaga Uji Nomor', 'uptd_ppa', :region, "
                "true, now(), now(), 1) RETURNING id"
            ),
            {"code": code, "region": region_id},
        ).scalar_one()
    try:
        yield SimpleNamespace(id=agency_id, code=code, engine=engine)
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("DELETE FROM case_counters WHERE agency_id = :a"), {"a": agency_id}
            )
            conn.execute(sa.text("DELETE FROM agencies WHERE id = :a"), {"a": agency_id})
            conn.execute(sa.text("DELETE FROM regions WHERE id = :r"), {"r": region_id})
        engine.dispose()


def _free_province(conn: Any) -> str:
    used = set(conn.execute(sa.text("SELECT code FROM regions WHERE level = 'provinsi'")).scalars())
    return next(f"{n:02d}" for n in range(99, 9, -1) if f"{n:02d}" not in used)


class _ThreadSessions:
    """``db.session`` as one session per thread, each on its own connection of ``engine``, for
    as long as the ``with`` lasts."""

    def __init__(self, engine: sa.Engine) -> None:
        self.sessions = scoped_session(sessionmaker(bind=engine), scopefunc=threading.get_ident)

    def __enter__(self) -> scoped_session:
        self.saved = db.session
        db.session = self.sessions
        return self.sessions

    def __exit__(self, *exc: object) -> None:
        db.session = self.saved


def _number(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


@pytest.mark.postgres
def test_a_second_intake_waits_for_the_first_and_gets_the_next_number(app, committed_agency):
    agency, received = committed_agency, dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)
    first_numbered, first_may_commit, second_done = (threading.Event() for _ in range(3))
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with app.app_context():
                results["first"] = ops.next_reference(agency, received)
                first_numbered.set()
                first_may_commit.wait(timeout=30)
                db.session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            first_numbered.set()
        finally:
            db.session.remove()

    def second() -> None:
        try:
            with app.app_context():
                results["second"] = ops.next_reference(agency, received)
                second_done.set()
                db.session.commit()
        except BaseException as exc:
            errors.append(exc)
        finally:
            second_done.set()
            db.session.remove()

    with _ThreadSessions(agency.engine):
        a = threading.Thread(target=first)
        a.start()
        assert first_numbered.wait(timeout=30) and not errors
        b = threading.Thread(target=second)
        b.start()
        # the second transaction is now waiting for the first one's lock on the counter row
        assert _waits_for_a_lock(agency.engine), "the second intake did not wait"
        assert not second_done.is_set()
        first_may_commit.set()
        a.join(timeout=30)
        b.join(timeout=30)
    assert not errors, errors
    assert _number(results["first"]) + 1 == _number(results["second"])
    assert results["second"] == f"{agency.code}-2025-{_number(results['second']):05d}"


def _waits_for_a_lock(engine: sa.Engine) -> bool:
    """Whether a backend of the test database is waiting for a lock, asked until it is (or a
    generous limit passes): a condition, not a guess at timing."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    with engine.connect() as conn:
        while dt.datetime.now(dt.UTC) < deadline:
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return True
            conn.commit()  # a fresh snapshot of pg_stat_activity
            time.sleep(0.01)
    return False


@pytest.mark.postgres
def test_concurrent_intakes_never_share_a_number(app, committed_agency):
    agency, received = committed_agency, dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)
    per_thread, threads = 10, 2
    start = threading.Barrier(threads)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def intake() -> None:
        try:
            with app.app_context():
                start.wait(timeout=30)
                for _ in range(per_thread):
                    reference = ops.next_reference(agency, received)
                    db.session.commit()
                    with lock:
                        taken.append(reference)
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.session.remove()

    with _ThreadSessions(agency.engine):
        workers = [threading.Thread(target=intake) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    assert not errors, errors
    assert sorted(_number(r) for r in taken) == list(range(1, per_thread * threads + 1))
    assert len(set(taken)) == per_thread * threads
