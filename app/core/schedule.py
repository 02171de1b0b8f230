"""Periodic work, one list for every way of running it.

Each domain registers its periodic jobs here (:func:`register`): what to run, when it is due and
the command that runs it by hand. The same list feeds

* **Celery beat** (with Redis): every job becomes a beat entry;
* **the in-process scheduler** (the embedded default, no Redis: ``SCHEDULER=auto``, or
  ``SCHEDULER=inprocess``): a daemon thread in each server process wakes every ``TICK`` seconds
  and runs what is due;
* **cron** on a server without beat: ``flask schedule run-due`` every few minutes runs what is
  due, and each job also has a command of its own (``flask deadlines check`` …).

A job runs **once per due time**: the in-process scheduler and ``run-due`` first claim the pair
(job, due time) by inserting a ``scheduled_runs`` row whose primary key is that pair, in a
transaction of its own; whoever inserts it runs the job, every other thread, process or cron run
finds the row and leaves it. A server that was down at a due time runs the latest missed one
when it starts again (never a backlog of them). Every job is idempotent as well, so a job run by
hand besides the schedule changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from celery.schedules import crontab
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Mapped, mapped_column

from app.config import ConfigError
from app.core.db import UTCDateTime, utcnow
from app.core.errors import new_error_id
from app.core.extensions import Model, celery, db

log = logging.getLogger(__name__)

JAKARTA = ZoneInfo("Asia/Jakarta")
TICK = 30.0  # seconds between two looks of the in-process scheduler
SCHEDULER_MODES = ("auto", "inprocess", "off")
KEEP_RUNS = dt.timedelta(days=30)  # how long the record of a run is kept


@dataclass(frozen=True)
class Every:
    """Due at every multiple of ``interval`` since the epoch (UTC)."""

    interval: dt.timedelta

    def latest(self, now: dt.datetime) -> dt.datetime:
        seconds = int(self.interval.total_seconds())
        stamp = int(now.timestamp()) // seconds * seconds
        return dt.datetime.fromtimestamp(stamp, dt.UTC)

    def beat(self) -> Any:
        return self.interval

    def describe(self) -> str:
        return f"every {int(self.interval.total_seconds() // 60)} min"


@dataclass(frozen=True)
class At:
    """Due at ``hour:minute`` Asia/Jakarta on the given days of the month (1-31) and weekdays
    (0 = Monday); an empty set means every day."""

    hour: int
    minute: int
    days_of_month: frozenset[int] = field(default_factory=frozenset)
    weekdays: frozenset[int] = field(default_factory=frozenset)

    def _matches(self, day: dt.date) -> bool:
        return (not self.days_of_month or day.day in self.days_of_month) and (
            not self.weekdays or day.weekday() in self.weekdays
        )

    def latest(self, now: dt.datetime) -> dt.datetime | None:
        local = now.astimezone(JAKARTA)
        for back in range(0, 62):
            day = local.date() - dt.timedelta(days=back)
            if not self._matches(day):
                continue
            moment = dt.datetime(
                day.year, day.month, day.day, self.hour, self.minute, tzinfo=JAKARTA
            )
            if moment <= local:
                return moment.astimezone(dt.UTC)
        return None

    def beat(self) -> Any:
        def spec(values: frozenset[int], offset: int = 0) -> str:
            return ",".join(str(v + offset) for v in sorted(values)) if values else "*"

        # crontab counts weekdays from Sunday = 0; ours from Monday = 0
        return crontab(
            minute=self.minute,
            hour=self.hour,
            day_of_month=spec(self.days_of_month),
            day_of_week=",".join(str((d + 1) % 7) for d in sorted(self.weekdays)) or "*",
        )

    def describe(self) -> str:
        when = f"{self.hour:02d}:{self.minute:02d} WIB"
        if self.days_of_month:
            days = sorted(self.days_of_month)
            span = f"{days[0]}-{days[-1]}" if days == list(range(days[0], days[-1] + 1)) else days
            when += f", days {span} of the month"
        if self.weekdays:
            names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
            when += ", " + "/".join(names[d] for d in sorted(self.weekdays))
        return when


Schedule = Every | At


@dataclass(frozen=True)
class Periodic:
    """A periodic job: the Celery task it runs, when, and the command that runs it by hand."""

    name: str
    task: str
    schedule: Schedule
    command: str
    description: str
    # the job has something to do in this application (e.g. the outbox relay needs Redis)
    applies: Callable[[Flask], bool] = lambda app: True


REGISTRY: dict[str, Periodic] = {}


def register(job: Periodic) -> None:
    """Add a periodic job to the list (and to beat's schedule)."""
    REGISTRY[job.name] = job
    celery.conf.beat_schedule[job.name] = {"task": job.task, "schedule": job.schedule.beat()}


class ScheduledRun(Model):
    """One run of a periodic job for one due time; the primary key makes it happen once."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (
        sa.CheckConstraint("outcome IN ('berjalan', 'selesai', 'gagal')", name="outcome_known"),
    )

    job: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(sa.String(10), default="berjalan")
    message: Mapped[str | None] = mapped_column(sa.String(500))
    runner: Mapped[str] = mapped_column(sa.String(20))  # inprocess | cli


@dataclass
class RunReport:
    ran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def _claim(job: Periodic, due: dt.datetime, now: dt.datetime, runner: str) -> bool:
    """Insert the (job, due time) row in a transaction of its own; False when another thread,
    process or cron run has it already."""
    db.session.commit()  # nothing of the caller's is mixed into the claim
    try:
        db.session.add(
            ScheduledRun(
                job=job.name, due_at=due, started_at=now, outcome="berjalan", runner=runner
            )
        )
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True


def _finish(job: Periodic, due: dt.datetime, outcome: str, message: str) -> None:
    db.session.execute(
        sa.update(ScheduledRun)
        .where(ScheduledRun.job == job.name, ScheduledRun.due_at == due)
        .values(outcome=outcome, message=message[:500], finished_at=utcnow())
    )
    db.session.commit()


def run_job(job: Periodic, now: dt.datetime | None = None) -> Any:
    """Run the job's task here, committing its work (as a Celery worker would). Every periodic
    task takes ``now`` as an ISO string (beat sends nothing: the task's own clock)."""
    task = celery.tasks[job.task]
    try:
        result = task.run(now=now.isoformat() if now is not None else None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def run_due(now: dt.datetime | None = None, *, runner: str = "cli") -> RunReport:
    """Run every job whose latest due time has not been claimed yet, once each."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    report = RunReport()
    db.session.execute(sa.delete(ScheduledRun).where(ScheduledRun.due_at < now - KEEP_RUNS))
    for job in REGISTRY.values():
        if not job.applies(app):
            continue
        due = job.schedule.latest(now)
        if due is None:
            continue
        if not _claim(job, due, now, runner):
            report.already.append(job.name)
            continue
        try:
            result = run_job(job, now)
        except Exception as error:
            error_id = new_error_id()
            log.exception("periodic job %s failed [error id %s]", job.name, error_id)
            _finish(job, due, "gagal", f"{type(error).__name__} [{error_id}]")
            report.failed.append(job.name)
            continue
        _finish(job, due, "selesai", _summary(result))
        report.ran.append(job.name)
    return report


def _summary(result: Any) -> str:
    if isinstance(result, dict):
        return ", ".join(f"{k} {v}" for k, v in result.items())
    if isinstance(result, list | tuple):
        return ", ".join(str(v) for v in result) or "-"
    return "" if result is None else str(result)


def mode(app: Flask) -> str:
    """``inprocess`` or ``off``: who runs the periodic work in this application."""
    chosen = str(app.config.get("SCHEDULER") or "auto")
    if chosen == "auto":
        # tests run the jobs themselves; a test of the scheduler asks for it by name
        if app.config.get("REDIS_URL") or app.config.get("APP_ENV") == "testing":
            return "off"
        return "inprocess"
    return chosen


class InProcessScheduler:
    """A daemon thread per server process that runs :func:`run_due` every ``TICK`` seconds."""

    def __init__(self, app: Flask, tick: float = TICK) -> None:
        self.app = app
        self.tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="simpul-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.tick)

    def run_once(self) -> RunReport | None:
        with self.app.app_context():
            try:
                return run_due(runner="inprocess")
            except Exception:
                db.session.rollback()
                log.exception("in-process scheduler: a round failed; trying again next round")
                return None
            finally:
                db.session.remove()


def init_schedule(app: Flask) -> None:
    """Check ``SCHEDULER``; start the in-process scheduler with the first request the server
    answers (not for command-line runs such as ``flask db upgrade``)."""
    if app.config.get("SCHEDULER", "auto") not in SCHEDULER_MODES:
        raise ConfigError(
            f"SCHEDULER must be one of {', '.join(SCHEDULER_MODES)}, "
            f"not {app.config.get('SCHEDULER')!r}"
        )
    app.cli.add_command(schedule_cli)
    if mode(app) != "inprocess":
        return
    scheduler = InProcessScheduler(app)
    app.extensions["simpul_scheduler"] = scheduler

    @app.before_request
    def start_scheduler() -> None:
        scheduler.start()


@click.group("schedule", help="Periodic work: what is due, run it (for cron), and its history.")
def schedule_cli() -> None:
    pass


@schedule_cli.command("run-due")
@with_appcontext
def run_due_command() -> None:
    """Run every periodic job that is due and has not run for that due time yet (for cron, e.g.
    every 5 minutes: ``*/5 * * * * flask --app wsgi schedule run-due``)."""
    report = run_due(runner="cli")
    for name in report.ran:
        click.echo(f"ran {name}")
    for name in report.failed:
        click.echo(f"failed {name} (see the log)")
    click.echo(
        f"ran {len(report.ran)}, failed {len(report.failed)}, already done {len(report.already)}"
    )
    if report.failed:
        raise SystemExit(1)


@schedule_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Every periodic job: when it is due, its last run and the command that runs it by hand."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"scheduler: {mode(app)} (SCHEDULER={app.config.get('SCHEDULER')})")
    for job in REGISTRY.values():
        last = db.session.scalar(
            sa.select(ScheduledRun)
            .where(ScheduledRun.job == job.name)
            .order_by(ScheduledRun.due_at.desc())
            .limit(1)
        )
        shown = (
            f"last {last.due_at.isoformat()} {last.outcome} {last.message or ''}".rstrip()
            if last is not None
            else "never run"
        )
        applies = "" if job.applies(app) else " (not used here)"
        click.echo(
            f"{job.name}: {job.schedule.describe()}; {shown}; by hand: {job.command}{applies}"
        )
