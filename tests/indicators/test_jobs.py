"""Jobs people start (a rollup, a report): progress and end written by the job itself, never
stuck: a failure says so, a job with no sign of life is shown stalled and can be started again.
The last test runs a job on the embedded default itself: an SQLite file, the in-process worker,
and people writing at the same time."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.db import utcnow
from app.core.enums import Role
from app.extensions import db
from app.indicators import tasks
from app.indicators.definitions import sync_definitions
from app.indicators.models import ReportJob
from tests.factories import AgencyFactory, KabkotaFactory, UserFactory
from tests.fixtures import login_as

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def world() -> dict[str, Any]:
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Pekerjaan")
    agency = AgencyFactory(region=kab)
    return {"kab": kab, "analyst": UserFactory(roles=[(Role.ANALIS_DATA, agency)])}


def job_of(world: dict[str, Any], **values: Any) -> ReportJob:
    values = {"kind": "rollup", "period": "2025-03", **values}
    job = ReportJob(region_id=world["kab"].id, requested_by_id=world["analyst"].id, **values)
    db.session.add(job)
    db.session.flush()
    return job


def test_a_failing_job_says_so_with_an_error_id_and_keeps_nothing_half_written(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.indicators import operations
    from app.indicators.models import IndicatorDefinition, IndicatorValue

    definition_id = db.session.scalar(sa.select(IndicatorDefinition.id).limit(1))

    def half_then_fail(*args: Any, progress: Any = None, **kwargs: Any) -> None:
        value = IndicatorValue(
            definition_id=definition_id, region_id=world["kab"].id, period="2025-03"
        )
        db.session.add(value)
        db.session.flush()
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(operations, "rollup", half_then_fail)
    job = job_of(world)
    with pytest.raises(RuntimeError):
        tasks.run_job.run(job.id)
    db.session.refresh(job)
    assert (job.state, job.progress) == ("gagal", 100)
    assert job.finished_at is not None
    code = job.message.split("kode ")[1].split(")")[0]
    assert "RuntimeError" in job.message and len(code) == 8
    assert any(code in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)) == 0


def test_a_job_without_a_sign_of_life_is_shown_stalled_and_can_be_started_again(
    world: dict[str, Any], client: Any
) -> None:
    old = utcnow() - 11 * MINUTE  # JOB_STALLED_MINUTES is 10
    queued = job_of(world, requested_at=old)  # its in-process worker went with a restart
    login_as(client, world["analyst"])
    status = client.get(f"/indikator/pekerjaan/{queued.id}.json").get_json()
    assert (status["state"], status["done"], status["can_retry"]) == ("macet", False, True)
    html = client.get(f"/indikator/pekerjaan/{queued.id}").get_data(as_text=True)
    assert "data-job-retry" in html and "bg-warning" in html

    response = client.post(f"/indikator/pekerjaan/{queued.id}/ulangi")
    assert response.status_code == 302
    db.session.refresh(queued)
    assert (queued.state, queued.progress) == ("antre", 0)
    status = client.get(f"/indikator/pekerjaan/{queued.id}.json").get_json()
    assert (status["state"], status["can_retry"]) == ("antre", False)


def test_a_running_job_with_a_fresh_heartbeat_is_neither_stalled_nor_taken_twice(
    world: dict[str, Any], client: Any
) -> None:
    running = job_of(world, state="berjalan", progress=40, heartbeat_at=utcnow() - MINUTE)
    assert tasks.claim(running.id) is False  # another worker is on it
    login_as(client, world["analyst"])
    status = client.get(f"/indikator/pekerjaan/{running.id}.json").get_json()
    assert (status["state"], status["can_retry"]) == ("berjalan", False)
    assert client.post(f"/indikator/pekerjaan/{running.id}/ulangi").status_code == 302
    db.session.refresh(running)
    assert (running.state, running.progress) == ("berjalan", 40)  # left alone

    running.heartbeat_at = utcnow() - 11 * MINUTE  # its worker died
    db.session.flush()
    assert tasks.claim(running.id) is True  # a redelivered message takes it over


def test_a_stalled_report_job_offers_to_start_again(world: dict[str, Any], client: Any) -> None:
    report = job_of(world, kind="report", requested_at=utcnow() - 30 * MINUTE)
    login_as(client, world["analyst"])
    status = client.get(f"/indikator/laporan/{report.id}.json").get_json()
    assert (status["state"], status["can_retry"]) == ("macet", True)
    assert client.post(f"/indikator/laporan/{report.id}/ulangi").status_code == 302
    db.session.refresh(report)
    assert report.state == "antre"


# --- the embedded default: SQLite, in-process worker ------------------------------------------


@pytest.fixture
def embedded(app: Any) -> Any:
    """An application as ``make run`` builds it: an SQLite file of its own, no Redis (tasks run
    on its in-process worker thread), migrated."""
    from flask_migrate import upgrade

    from app import celery_init_app
    from tests.conftest import make_app

    folder = Path(tempfile.mkdtemp(prefix="simpul-embedded-"))
    embedded = make_app(DATABASE_URL=f"sqlite:///{folder}/simpul.sqlite3", REDIS_URL=None)
    with embedded.app_context():
        upgrade()
    try:
        yield embedded
    finally:
        with embedded.app_context():
            db.session.remove()
            db.engine.dispose()
        celery_init_app(app)  # building another app rebinds the shared Celery app: give it back


@pytest.mark.demo_database  # not inside the test's rolled-back transaction: another database
def test_on_sqlite_a_rollup_job_finishes_while_people_keep_writing(
    embedded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """What the data officer met on ``make run``: the job stayed queued at 0 % for ever (it
    locked itself: its progress went through a second connection while its own transaction held
    the lock), and requests failed with "database is locked". Here the job runs on the real
    in-process worker while four threads write audit entries and notifications."""
    from app.audit.operations import SystemActor, record
    from app.indicators.operations import start_job

    caplog.set_level(logging.WARNING)
    with embedded.app_context():
        sync_definitions()
        kab = KabkotaFactory(name="Kabupaten Tertanam")
        analyst = UserFactory(roles=[(Role.ANALIS_DATA, AgencyFactory(region=kab))])
        job = start_job("rollup", "2025", kab, actor=analyst)
        job_id = job.id
        db.session.commit()  # the in-process worker starts the job now
        db.session.remove()

    errors: list[BaseException] = []
    stop = threading.Event()

    def person_writing(n: int) -> None:
        while not stop.is_set():
            with embedded.app_context():
                try:
                    record(SystemActor(f"person-{n}"), "test.write", "case", str(n), {})
                    db.session.commit()
                except BaseException as error:
                    errors.append(error)
                    db.session.rollback()
                finally:
                    db.session.remove()
            time.sleep(0.01)

    people = [threading.Thread(target=person_writing, args=(n,)) for n in range(4)]
    for person in people:
        person.start()
    seen: list[tuple[str, int]] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with embedded.app_context():
                found = db.session.get(ReportJob, job_id)
                assert found is not None
                seen.append((found.state, found.progress))
                db.session.remove()
            if seen[-1][0] in ("selesai", "gagal"):
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for person in people:
            person.join(timeout=30)
    assert seen[-1] == ("selesai", 100), seen[-5:]
    assert errors == []
    assert not [r for r in caplog.records if "database is locked" in r.getMessage()]
    with embedded.app_context():
        writers = db.session.scalars(
            sa.select(sa.column("object_id"))
            .select_from(sa.table("audit_entries"))
            .where(sa.text("action = 'test.write'"))
            .distinct()
        ).all()
        db.session.remove()
    assert sorted(writers) == ["0", "1", "2", "3"]  # everyone got their work saved
