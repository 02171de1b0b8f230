"""Background work of the indicators: the monthly rollup after each month ends, and jobs people
start (an on-demand rollup, a monthly report) with a progress figure the page polls.

A job writes its progress, its heartbeat and its end **in its own transaction and commits them**
as it goes (a checkpoint at most every ``CHECKPOINT_EVERY`` seconds): there is no second
connection that could wait on the job's own lock (on SQLite it did, for ever), and the page sees
the progress at once. A rollup's values are idempotent per region and definition, so what a
checkpoint commits is never wrong, and a failed job that runs again finishes the rest. A failure
is recorded with its message after the failed work is rolled back, so the page always says how
the job ended.

A job is claimed by one runner at a time: queued, or running with no heartbeat for
``JOB_STALLED_MINUTES`` (its worker died). A page shows a job without a heartbeat for that long as
stalled (``macet``), and it may be started again."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import CursorResult

from app.audit.operations import SystemActor
from app.core.db import utcnow
from app.core.errors import new_error_id
from app.core.tasks import task
from app.extensions import db
from app.indicators import operations
from app.indicators.models import ReportJob
from app.indicators.periods import periods_containing_month, previous_month
from app.indicators.report import generate_report

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 0.5  # seconds: the longest a job holds its transaction between commits
# On SQLite (the embedded default) every transaction holds the one write lock, and a request
# waiting for it retries every 100 ms or so: after each commit the job steps aside this long, so
# that the people signing in or saving a case go first instead of waiting for the whole job.
SQLITE_STEP_ASIDE = 0.2


def stall_after() -> dt.timedelta:
    return dt.timedelta(minutes=int(current_app.config.get("JOB_STALLED_MINUTES") or 10))


def set_progress(
    job_id: int, percent: int, *, state: str | None = None, message: str | None = None
) -> None:
    """Write the job's progress (and heartbeat) in the current transaction and commit it."""
    now = utcnow()
    values: dict[str, object] = {"progress": max(0, min(100, percent)), "heartbeat_at": now}
    if state is not None:
        values["state"] = state
    if message is not None:
        values["message"] = message[:500]
    if state in ("selesai", "gagal"):
        values["finished_at"] = now
    db.session.execute(sa.update(ReportJob).where(ReportJob.id == job_id).values(**values))
    db.session.commit()


class Checkpoints:
    """Commit the work done so far at most every ``CHECKPOINT_EVERY`` seconds, with the job's
    progress when there is a job, so that no transaction holds the database for long."""

    def __init__(self, job_id: int | None = None) -> None:
        self.job_id = job_id
        self._last = time.monotonic()

    def __call__(self, percent: int) -> None:
        now = time.monotonic()
        if now - self._last < CHECKPOINT_EVERY:
            return
        if self.job_id is not None:
            set_progress(self.job_id, min(percent, 99))
        else:
            db.session.commit()
        if db.session.get_bind().dialect.name == "sqlite":
            time.sleep(SQLITE_STEP_ASIDE)
        self._last = time.monotonic()


def claim(job_id: int) -> bool:
    """Take the job to run it: queued, or running without a heartbeat for the stall time (its
    worker died). One runner wins; the others find nothing to take."""
    now = utcnow()
    stale = now - stall_after()
    # an UPDATE answers a CursorResult, whose rowcount says whether this runner took the job
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            sa.update(ReportJob)
            .where(
                ReportJob.id == job_id,
                sa.or_(
                    ReportJob.state == "antre",
                    sa.and_(
                        ReportJob.state == "berjalan",
                        sa.or_(ReportJob.heartbeat_at.is_(None), ReportJob.heartbeat_at < stale),
                    ),
                ),
            )
            .values(state="berjalan", progress=1, heartbeat_at=now, message=None)
        ),
    )
    db.session.commit()
    return bool(result.rowcount)


@task(name="indicators.monthly_rollup")
def monthly_rollup(now: str | None = None) -> list[str]:
    """After a month ends (the beat runs it on days 1-5 of the next month, so a late case still
    counts before the 5th): the month and its quarter, semester and year, for every region. Closed
    periods are left as they are; running it again changes nothing."""
    moment = dt.datetime.fromisoformat(now) if now else utcnow()
    done = []
    checkpoint = Checkpoints()
    for period in periods_containing_month(previous_month(moment)):
        operations.rollup(
            period.code,
            actor=SystemActor("beat"),
            progress=lambda done, total: checkpoint(int(done * 100 / max(total, 1))),
        )
        done.append(period.code)
    return done


@task(name="indicators.run_job")
def run_job(job_id: int) -> str:
    """Run a job someone started: ``rollup`` (with its progress) or ``report``."""
    if not claim(job_id):
        return "skipped"
    job = db.session.get(ReportJob, job_id)
    if job is None:
        return "skipped"
    actor = job.requested_by or SystemActor("job")
    checkpoint = Checkpoints(job.id)
    try:
        if job.kind == "rollup":
            region = job.region.code if job.region is not None else None
            report = operations.rollup(
                job.period,
                region_code=region,
                actor=actor,
                progress=lambda done, total: checkpoint(int(done * 99 / max(total, 1))),
            )
            message = f"{report.written} ditulis, {report.unchanged} tidak berubah"
            if report.closed_skipped:
                message += f", {report.closed_skipped} berbeda pada periode yang sudah ditutup"
        else:
            message = generate_report(job, progress=checkpoint)
        db.session.flush()
    except Exception as error:  # the failed work is rolled back; the job says it failed
        db.session.rollback()
        error_id = new_error_id()
        log.exception("indicator job %s failed [error id %s]", job_id, error_id)
        set_progress(
            job_id,
            100,
            state="gagal",
            message=f"Gagal ({type(error).__name__}, kode {error_id}). Coba jalankan lagi.",
        )
        raise
    set_progress(job.id, 100, state="selesai", message=message)
    return "done"
