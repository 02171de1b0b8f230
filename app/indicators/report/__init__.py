"""The monthly report of a region (domain.md §6, §7), in Bahasa Indonesia, as XLSX or PDF, made
by a background job: ``build`` (the content, with disclosure control), ``xlsx`` and ``pdf`` (the
files), ``storage`` (where they are kept)."""

from __future__ import annotations

from app.core.tasks import delete_on_rollback
from app.extensions import db
from app.indicators.models import ReportJob
from app.indicators.periods import parse
from app.indicators.report.build import Progress, build_report, month_name
from app.indicators.report.pdf import render_pdf
from app.indicators.report.storage import download_name, report_files, store
from app.indicators.report.xlsx import render_xlsx

__all__ = ["download_name", "generate_report", "report_files"]


def generate_report(job: ReportJob, progress: Progress) -> str:
    """Build the monthly report of ``job.period`` for ``job.region`` as ``job.format``, store it
    and set ``job.stored_name``; a short message for the job page."""
    period = parse(job.period)
    if period.kind != "bulan":
        raise ValueError(f"a monthly report needs a month, not {job.period!r}")
    report = build_report(job.region_id, period.code, progress)
    if job.format == "pdf":
        content, font = render_pdf(report)
        note = "" if font == "DejaVuSans" else " (huruf Helvetica, tanpa Unicode)"
    else:
        content, note = render_xlsx(report), ""
    progress(90)
    name = store(content, job.format)
    # a job that fails in the end leaves no file behind
    delete_on_rollback(db.session, report_files().path(name))
    job.stored_name = name
    progress(99)
    return f"Laporan {job.format.upper()} {month_name(period)} siap diunduh{note}."
