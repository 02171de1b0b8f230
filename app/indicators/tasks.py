"""Background work of the indicators: the monthly rollup after each month ends, and jobs people
start (an on-demand rollup, a monthly report) with a progress figure the page polls.

Progress is written on its own connection and committed at once, so the page sees it while the
job's own transaction is still open; the job's results are committed at its end (FlaskTask)."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from app.audit.operations import SystemActor
from app.core.db import utcnow
from app.extensions import celery, db
from app.indicators.models import ReportJob
from app.indicators.periods import periods_containing_month, previous_month

log = logging.getLogger(__name__)


def set_progress(
    job_id: int, percent: int, *, state: str | None = None, message: str | None = None
) -> None:
    values: dict[str, object] = {"progress": max(0, min(100, percent))}
    if state is not None:
        values["state"] = state
    if message is not None:
        values["message"] = message[:500]
    if state in ("selesai", "gagal"):
        values["finished_at"] = utcnow()
    with db.engine.begin() as connection:
        connection.execute(sa.update(ReportJob).where(ReportJob.id == job_id).values(**values))


@celery.task(name="indicators.monthly_rollup")
def monthly_rollup(now: str | None = None) -> list[str]:
    """After a month ends (the beat runs it on days 1-5 of the next month, so a late case still
    counts before the 5th): the month and its quarter, semester and year, for every region. Closed
    periods are left as they are; running it again changes nothing."""
    from app.indicators.operations import rollup

    moment = dt.datetime.fromisoformat(now) if now else utcnow()
    done = []
    for period in periods_containing_month(previous_month(moment)):
        rollup(period.code, actor=SystemActor("beat"))
        done.append(period.code)
    return done


@celery.task(name="indicators.run_job")
def run_job(job_id: int) -> str:
    """Run a job someone started: ``rollup`` (with its progress) or ``report``."""
    job = db.session.get(ReportJob, job_id)
    # "berjalan": the worker that started it died (acks late: the message came back) - run it
    # again; a transaction-level advisory lock keeps two live workers from running it at once
    # (released when the task's transaction ends, or when a dead worker's connection goes).
    if job is None or job.state not in ("antre", "berjalan"):
        return "skipped"
    if db.engine.dialect.name == "postgresql" and not db.session.scalar(
        sa.select(sa.func.pg_try_advisory_xact_lock(7007, job.id))
    ):
        return "skipped"
    set_progress(job.id, 1, state="berjalan")
    actor = job.requested_by or SystemActor("job")
    try:
        if job.kind == "rollup":
            from app.indicators.operations import rollup

            region = job.region.code if job.region is not None else None
            report = rollup(
                job.period,
                region_code=region,
                actor=actor,
                progress=lambda done, total: set_progress(job.id, int(done * 99 / max(total, 1))),
            )
            message = f"{report.written} ditulis, {report.unchanged} tidak berubah"
            if report.closed_skipped:
                message += f", {report.closed_skipped} berbeda pada periode yang sudah ditutup"
        else:
            from app.indicators.report import generate_report

            message = generate_report(job, progress=lambda p: set_progress(job.id, p))
    except Exception as error:  # the job records the failure; the task's transaction rolls back
        log.exception("indicator job %s failed", job_id)
        set_progress(job.id, 100, state="gagal", message=f"Gagal: {type(error).__name__}")
        raise
    db.session.flush()
    set_progress(job.id, 100, state="selesai", message=message)
    return "done"
