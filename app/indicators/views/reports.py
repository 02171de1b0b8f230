"""The monthly report pages (domain.md §6): ask for a report of a month and one of one's regions,
follow its progress, download the finished file (scoped and audited). Scope:
``scope.reach_of`` with ``indicators:view`` — the regions offered are those it reaches, and a
report job is seen by the one who asked for it and by whoever reaches its region."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import LazyString
from wtforms import SelectField, StringField

from app.audit.operations import record
from app.auth.sessions import require_recent_auth
from app.core.bounds import YEAR_OUT_OF_RANGE
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.forms import Form, coerce_id
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.core.web import send_private_file
from app.indicators import bp, queries
from app.indicators.models import ReportJob
from app.indicators.operations import retry_job, start_job
from app.indicators.periods import JAKARTA, PeriodError, parse
from app.indicators.report.storage import download_name, report_files, stored
from app.indicators.scope import VIEW, reach_of
from app.indicators.tasks import stall_after
from app.indicators.views.common import me
from app.regions.models import Region

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FORMATS = (("xlsx", "Excel (XLSX)"), ("pdf", "PDF"))
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
RECENT = 20
STATE_LABELS: dict[str, LazyString] = {
    "antre": _l("Queued"),
    "berjalan": _l("Running"),
    "selesai": _l("Done"),
    "gagal": _l("Failed"),
    "macet": _l("Stalled: no progress for a while"),
}


class ReportForm(Form):
    period = StringField(_l("Month"), description=_l("For example 2025-07."))
    region = SelectField(_l("Region"), coerce=coerce_id, validate_choice=False)
    format = SelectField(_l("Format"), choices=FORMATS, validate_choice=False)


def _regions() -> list[Region]:
    """The regions the user may ask for a report of."""
    return reach_of(me(), VIEW).ordered()


def _job_or_404(job_id: int) -> ReportJob:
    job = queries.job_for(me(), job_id, permission=VIEW, kind="report")
    if job is None:
        abort(404)
    return job


def _render_form(form: ReportForm, regions: list[Region], *, status: int = 200) -> Any:
    return (
        render_template(
            "indicators/report.html",
            form=form,
            regions=regions,
            jobs=queries.recent_reports(me(), RECENT),
            state_labels=STATE_LABELS,
        ),
        status,
    )


def _choices(form: ReportForm, regions: list[Region]) -> None:
    form.region.choices = [(r.id, f"{r.name} ({r.code})") for r in regions]


@bp.route("/indikator/laporan", methods=["GET"])
@requires(VIEW)
def report_form() -> Any:
    regions = _regions()
    form = ReportForm(formdata=None)
    _choices(form, regions)
    now = utcnow().astimezone(JAKARTA).date().replace(day=1) - dt.timedelta(days=1)
    form.period.data = f"{now.year}-{now.month:02d}"  # the month that ended last
    form.format.data = "xlsx"
    return _render_form(form, regions)


def _check(form: ReportForm, regions: list[Region]) -> tuple[str, Region, str] | None:
    """The month, region and format asked for, or None with the errors on the form."""
    ok = True
    period = (form.period.data or "").strip()
    region = next((r for r in regions if r.id == form.region.data), None)
    if not MONTH.match(period):
        form.period.errors = [_("Write a month as YYYY-MM, for example 2025-07.")]
        ok = False
    else:
        try:
            month = parse(period)
        except PeriodError:  # the year (0000-01, 9999-12)
            form.period.errors = [str(YEAR_OUT_OF_RANGE)]
            ok = False
        else:
            if month.start_date > utcnow().astimezone(JAKARTA).date():
                form.period.errors = [_("This month has not begun yet.")]
                ok = False
    if region is None:
        form.region.errors = [_("Choose one of your regions.")]
        ok = False
    if form.format.data not in MIMETYPES:
        form.format.errors = [_("Choose XLSX or PDF.")]
        ok = False
    if not ok or region is None:
        return None
    if not queries.has_values(region.id, period):
        form.period.errors = [
            _("There are no indicator values for this region and month yet: run the rollup first.")
        ]
        return None
    return period, region, str(form.format.data)


@bp.route("/indikator/laporan", methods=["POST"])
@requires(VIEW)
@once_per_form
def report_create() -> Any:
    user = me()
    regions = _regions()
    form = ReportForm()
    _choices(form, regions)
    form.validate_on_submit()  # the CSRF token; the fields are checked below
    if form.errors.get("csrf_token"):
        return _render_form(form, regions, status=400)
    checked = _check(form, regions)
    if checked is None:
        return _render_form(form, regions, status=422)
    period, region, file_format = checked
    job = start_job("report", period, region, actor=user, fmt=file_format)
    return redirect(url_for("indicators.report_job", job_id=job.id))


def _status(job: ReportJob) -> dict[str, Any]:
    state = job.shown_state(utcnow(), stall_after())
    return {
        "id": job.id,
        "state": state,
        "state_label": str(STATE_LABELS.get(state, state)),
        "progress": job.progress,
        "message": job.message,
        "done": job.finished,
        "can_retry": state in ("macet", "gagal"),
        "download_url": url_for("indicators.report_download", job_id=job.id)
        if job.state == "selesai" and job.stored_name
        else None,
    }


@bp.route("/indikator/laporan/<int:job_id>")
@requires(VIEW)
def report_job(job_id: int) -> Any:
    job = _job_or_404(job_id)
    return render_template(
        "indicators/report_job.html",
        job=job,
        status=_status(job),
        state_labels=STATE_LABELS,
    )


@bp.route("/indikator/laporan/<int:job_id>.json")
@requires(VIEW)
def report_job_status(job_id: int) -> Any:
    return jsonify(_status(_job_or_404(job_id)))


@bp.route("/indikator/laporan/<int:job_id>/ulangi", methods=["POST"])
@requires(VIEW)
def report_job_retry(job_id: int) -> Any:
    """Start a stalled or failed report job again."""
    job = _job_or_404(job_id)
    try:
        retry_job(job, actor=me(), now=utcnow(), stall_after=stall_after())
    except DomainError as error:
        flash(str(error.message), "warning")
    return redirect(url_for("indicators.report_job", job_id=job.id))


@bp.route("/indikator/laporan/<int:job_id>/unduh")
@requires(VIEW)
@require_recent_auth()  # a bulk export: the password (and code) again within 5 minutes
def report_download(job_id: int) -> Response:
    job = _job_or_404(job_id)
    if job.state != "selesai" or job.stored_name is None or not stored(job):
        abort(404)
    record(
        me(),
        "indicators.report_download",
        "report_job",
        job.id,
        {
            "region": job.region.code if job.region is not None else "nasional",
            "period": job.period,
            "format": job.format,
        },
    )
    return send_private_file(
        report_files().root,
        job.stored_name,
        mimetype=MIMETYPES[job.format],
        download_name=download_name(job),
    )
