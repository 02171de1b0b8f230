"""The periodic work: one list for beat, the in-process scheduler and cron; once per due time."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from app.core.schedule import (
    REGISTRY,
    At,
    Every,
    InProcessScheduler,
    Periodic,
    ScheduledRun,
    mode,
    register,
    run_due,
)
from app.extensions import celery, db

WIB = dt.timezone(dt.timedelta(hours=7))
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=WIB).astimezone(dt.UTC)  # type: ignore[misc]


# --- when a job is due ------------------------------------------------------------------------


def test_every_is_aligned_to_its_interval() -> None:
    every = Every(dt.timedelta(minutes=5))
    assert every.latest(dt.datetime(2026, 3, 2, 10, 7, 30, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 2, 10, 5, tzinfo=dt.UTC
    )
    assert every.latest(dt.datetime(2026, 3, 2, 10, 5, tzinfo=dt.UTC)).minute == 5


def test_monthly_rollup_is_due_at_01_30_wib_on_days_1_to_5() -> None:
    at = At(1, 30, days_of_month=frozenset(range(1, 6)))
    assert at.latest(utc(2026, 12, 3, 1, 29)) == utc(2026, 12, 2, 1, 30)
    assert at.latest(utc(2026, 12, 3, 1, 30)) == utc(2026, 12, 3, 1, 30)
    assert at.latest(utc(2026, 12, 20, 12, 0)) == utc(2026, 12, 5, 1, 30)  # the latest missed
    assert at.latest(utc(2027, 1, 1, 0, 10)) == utc(2026, 12, 5, 1, 30)  # new year, before 01:30


def test_weekly_review_is_due_on_monday_morning() -> None:
    at = At(7, 0, weekdays=frozenset({0}))
    assert at.latest(utc(2026, 12, 9, 12, 0)) == utc(2026, 12, 7, 7, 0)  # Wednesday -> Monday
    assert at.latest(utc(2026, 12, 7, 6, 59)) == utc(2026, 11, 30, 7, 0)


def test_beat_gets_the_same_list(app: Any) -> None:
    from celery.schedules import crontab

    assert set(REGISTRY) >= {
        "deadlines.check_overdue",
        "indicators.monthly_rollup",
        "privacy.retention",
        "breakglass.weekly_review",
        "outbox.relay",
    }
    for name, job in REGISTRY.items():
        assert celery.conf.beat_schedule[name]["task"] == job.task
        assert job.task in celery.tasks
        assert job.command.startswith("flask ")
    monthly = celery.conf.beat_schedule["indicators.monthly_rollup"]["schedule"]
    assert monthly == crontab(minute=30, hour=1, day_of_month="1,2,3,4,5")
    weekly = celery.conf.beat_schedule["breakglass.weekly_review"]["schedule"]
    assert weekly == crontab(minute=0, hour=7, day_of_week="1")  # crontab: Sunday = 0


def test_who_runs_it(app: Any) -> None:
    config = {"REDIS_URL": None, "APP_ENV": "development", "SCHEDULER": "auto"}
    fake = type("App", (), {"config": config})()
    assert mode(fake) == "inprocess"  # the embedded default
    config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert mode(fake) == "off"  # beat does
    config["SCHEDULER"] = "inprocess"
    assert mode(fake) == "inprocess"
    config.update(SCHEDULER="auto", REDIS_URL=None, APP_ENV="testing")
    assert mode(fake) == "off"  # tests run the jobs themselves


def test_an_unknown_scheduler_setting_is_refused() -> None:
    from app.config import ConfigError
    from tests.conftest import make_app

    with pytest.raises(ConfigError, match="SCHEDULER"):
        make_app(SCHEDULER="sometimes")


# --- once per due time --------------------------------------------------------------------------

calls: list[str | None] = []


@celery.task(name="tests.schedule_probe")
def probe(now: str | None = None) -> str:
    calls.append(now)
    return "probed"


@celery.task(name="tests.schedule_broken")
def broken(now: str | None = None) -> None:
    raise RuntimeError("boom")


@pytest.fixture
def only(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run only the given jobs (the registry is process-wide)."""

    def use(*jobs: Periodic) -> None:
        monkeypatch.setattr("app.core.schedule.REGISTRY", {j.name: j for j in jobs})
        calls.clear()

    return use


PROBE = Periodic("tests.probe", "tests.schedule_probe", Every(5 * MINUTE), "flask x", "probe")


def test_a_due_job_runs_once_per_due_time(only: Any) -> None:
    only(PROBE)
    now = dt.datetime(2026, 12, 7, 3, 1, tzinfo=dt.UTC)
    assert run_due(now).ran == ["tests.probe"]
    assert run_due(now + 3 * MINUTE).already == ["tests.probe"]  # same 5-minute slot
    assert run_due(now + 4 * MINUTE).ran == ["tests.probe"]  # the next one
    assert calls == [now.isoformat(), (now + 4 * MINUTE).isoformat()]
    runs = db.session.scalars(sa.select(ScheduledRun).order_by(ScheduledRun.due_at)).all()
    assert [(r.due_at.minute, r.outcome, r.message) for r in runs] == [
        (0, "selesai", "probed"),
        (5, "selesai", "probed"),
    ]


def test_a_failing_job_is_recorded_with_an_error_id_and_others_still_run(
    only: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bad = Periodic("tests.broken", "tests.schedule_broken", Every(HOUR), "flask y", "broken")
    only(bad, PROBE)
    report = run_due(dt.datetime(2026, 12, 7, 3, 1, tzinfo=dt.UTC))
    assert (report.failed, report.ran) == (["tests.broken"], ["tests.probe"])
    run = db.session.get(ScheduledRun, ("tests.broken", dt.datetime(2026, 12, 7, 3, tzinfo=dt.UTC)))
    assert run is not None and run.outcome == "gagal"
    error_id = run.message.split("[")[1].rstrip("]")
    assert any(error_id in r.getMessage() for r in caplog.records)


def test_run_due_from_the_command_line(only: Any, app: Any) -> None:
    only(PROBE)
    result = app.test_cli_runner().invoke(args=["schedule", "run-due"])
    assert result.exit_code == 0, result.output
    assert "ran tests.probe" in result.output
    again = app.test_cli_runner().invoke(args=["schedule", "run-due"])
    assert "already done 1" in again.output
    status = app.test_cli_runner().invoke(args=["schedule", "status"])
    assert "tests.probe: every 5 min; last" in status.output


@pytest.mark.demo_database
@pytest.mark.postgres
def test_threads_and_processes_racing_for_a_due_time_run_it_once(demo_app: Any) -> None:
    """Four server threads (each with its own connection) reach the same due time at once."""
    job = Periodic("tests.race", "tests.schedule_probe", Every(HOUR), "flask z", "race")
    now = dt.datetime(2026, 12, 7, 3, 1, tzinfo=dt.UTC)
    calls.clear()
    start = threading.Barrier(4)
    reports: list[Any] = []

    def server_thread() -> None:
        with demo_app.app_context():
            start.wait()
            try:
                reports.append(run_due(now))
            finally:
                db.session.remove()

    saved = dict(REGISTRY)
    REGISTRY.clear()
    register(job)
    try:
        threads = [threading.Thread(target=server_thread) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        REGISTRY.clear()
        REGISTRY.update(saved)
        celery.conf.beat_schedule.pop("tests.race", None)
        with demo_app.app_context():
            db.session.execute(sa.delete(ScheduledRun).where(ScheduledRun.job == "tests.race"))
            db.session.commit()
            db.session.remove()
    assert len(calls) == 1
    assert sorted(len(r.ran) for r in reports) == [0, 0, 0, 1]
    assert sum(len(r.already) for r in reports) == 3


def test_the_in_process_scheduler_thread_runs_rounds_until_stopped(
    only: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    only(PROBE)
    rounds: list[str] = []
    monkeypatch.setattr(
        "app.core.schedule.run_due", lambda **kwargs: rounds.append(kwargs["runner"])
    )
    scheduler = InProcessScheduler(app, tick=0.01)
    scheduler.start()
    scheduler.start()  # a second request starts nothing more
    deadline = threading.Event()
    for _ in range(200):
        if len(rounds) >= 3:
            break
        deadline.wait(0.01)
    scheduler.stop()
    assert len(rounds) >= 3 and set(rounds) == {"inprocess"}
    assert not scheduler._thread or not scheduler._thread.is_alive()


# --- the deadline check through the scheduler ---------------------------------------------------


def test_the_scheduler_notifies_a_missed_deadline_once_and_escalates_it_once(
    only: Any, app: Any
) -> None:
    from app.core.enums import Role
    from app.deadlines.operations import deadlines_for_registration
    from app.deadlines.tasks import ESCALATION_GRACE
    from app.notifications.models import Notification
    from tests.deadlines.test_deadlines import create_case
    from tests.factories import AgencyFactory, UserFactory

    only(REGISTRY["deadlines.check_overdue"])
    agency = AgencyFactory()
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    case = create_case(agency, risk="tinggi", case_manager=manager)
    start = dt.datetime(2026, 3, 13, 2, 30, tzinfo=dt.UTC)  # Friday 09:30 WIB
    (deadline,) = deadlines_for_registration(case, at=start)

    def kinds(user: Any) -> list[str]:
        return list(
            db.session.scalars(
                sa.select(Notification.kind).where(
                    Notification.user_id == user.id, Notification.kind.like("deadline_%")
                )
            )
        )

    # every five minutes for two days, as the server's scheduler would
    moment = start
    while moment < start + 2 * ESCALATION_GRACE:
        run_due(moment, runner="inprocess")
        moment += 5 * MINUTE
    assert kinds(manager) == ["deadline_missed"]
    assert kinds(supervisor) == ["deadline_escalated"]
    assert deadline.missed_at == deadline.due_at
    assert deadline.escalated_at is not None
    assert deadline.escalated_at - deadline.due_at < ESCALATION_GRACE + 5 * MINUTE
    runs = db.session.scalar(
        sa.select(sa.func.count()).where(ScheduledRun.job == "deadlines.check_overdue")
    )
    assert runs == 2 * ESCALATION_GRACE // (5 * MINUTE)


def test_each_periodic_job_has_a_command_that_runs_it_by_hand(app: Any) -> None:
    runner = app.test_cli_runner()
    outputs = {
        command: runner.invoke(args=command.split()[1:])
        for command in (
            "flask deadlines check",
            "flask breakglass review-reminder",
            "flask indicators rollup-due",
            "flask privacy retention --dry-run",
            "flask audit head",
            "flask tasks remind",
        )
    }
    for command, result in outputs.items():
        assert result.exit_code == 0, (command, result.output)
    assert outputs["flask deadlines check"].output == "missed 0, escalated 0\n"
    assert outputs["flask breakglass review-reminder"].output.startswith("agencies 0, ")
    assert outputs["flask indicators rollup-due"].output.startswith("rolled up ")
    assert {job.command.split(" --")[0] for job in REGISTRY.values()} <= {
        c.split(" --")[0] for c in outputs
    } | {"flask outbox relay"}
