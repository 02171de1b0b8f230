"""The monthly report pages (domain.md §6): ask for a report of a month and one of one's regions,
follow its progress, download the finished file (scoped and audited)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField

from app.audit.operations import record
from app.auth.sessions import require_recent_auth
from app.core.bounds import YEAR_OUT_OF_RANGE
from app.core.db import utcnow
from app.core.enums import RegionLevel
from app.core.errors import DomainError
from app.core.forms import coerce_id
from app.core.idempotency import once_per_form
from app.core.permissions import permissions_for_roles, requires
from app.core.web import send_private_file
from app.extensions import db
from app.indicators import bp
from app.indicators.models import IndicatorValue, ReportJob
from app.indicators.operations import retry_job, start_job
from app.indicators.periods import JAKARTA, PeriodError, parse
from app.indicators.report import download_name, reports_dir
from app.indicators.tasks import stall_after
from app.regions.models import Region

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FORMATS = (("xlsx", "Excel (XLSX)"), ("pdf", "PDF"))
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
RECENT = 20
STATE_LABELS: dict[str, Any] = {
    "antre": _l("Queued"),
    "berjalan": _l("Running"),
    "selesai": _l("Done"),
    "gagal": _l("Failed"),
    "macet": _l("Stalled: no progress for a while"),
}


class ReportForm(FlaskForm):  # type: ignore[misc]
    period = StringField(_l("Month"), description=_l("For example 2025-07."))
    region = SelectField(_l("Region"), coerce=coerce_id, validate_choice=False)
    format = SelectField(_l("Format"), choices=FORMATS, validate_choice=False)


def _me() -> Any:
    return current_user._get_current_object()


def user_region_ids(user: Any) -> set[int]:
    """The regions of the agencies where ``user`` holds a role that may view indicators, and
    every region under them."""
    from app.indicators.compute import descendants, region_tree

    if not user.active:
        return set()
    roots = {
        g.agency.region_id
        for g in user.grants
        if g.agency is not None
        and g.agency.region_id is not None
        and "indicators:view" in permissions_for_roles([g.role])
    }
    if not roots:
        return set()
    tree = region_tree()
    found: set[int] = set()
    for root in roots:
        found |= descendants(root, tree)
    return found


def user_regions(user: Any) -> list[Region]:
    ids = user_region_ids(user)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Region)
            .where(Region.id.in_(ids), Region.level != RegionLevel.DESA)
            .order_by(Region.code)
        )
    )


def job_for(user: Any, job_id: int) -> ReportJob | None:
    """A report job ``user`` may see: one they asked for, or one of a region of theirs."""
    job = db.session.get(ReportJob, job_id)
    if job is None or job.kind != "report":
        return None
    if job.requested_by_id == user.id:
        return job
    if job.region_id is not None and job.region_id in user_region_ids(user):
        return job
    return None


def _recent_jobs(user: Any) -> list[ReportJob]:
    return list(
        db.session.scalars(
            select(ReportJob)
            .where(ReportJob.kind == "report", ReportJob.requested_by_id == user.id)
            .order_by(ReportJob.requested_at.desc(), ReportJob.id.desc())
            .limit(RECENT)
        )
    )


def _render_form(form: ReportForm, regions: list[Region], *, status: int = 200) -> Any:
    return (
        render_template(
            "indicators/report.html",
            form=form,
            regions=regions,
            jobs=_recent_jobs(_me()),
            state_labels=STATE_LABELS,
        ),
        status,
    )


def _choices(form: ReportForm, regions: list[Region]) -> None:
    form.region.choices = [(r.id, f"{r.name} ({r.code})") for r in regions]


@bp.route("/indikator/laporan", methods=["GET"])
@requires("indicators:view")
def report_form() -> Any:
    regions = user_regions(_me())
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
    has_values = db.session.scalar(
        select(IndicatorValue.id)
        .where(IndicatorValue.region_id == region.id, IndicatorValue.period == period)
        .limit(1)
    )
    if has_values is None:
        form.period.errors = [
            _("There are no indicator values for this region and month yet: run the rollup first.")
        ]
        return None
    return period, region, str(form.format.data)


@bp.route("/indikator/laporan", methods=["POST"])
@requires("indicators:view")
@once_per_form
def report_create() -> Any:
    user = _me()
    regions = user_regions(user)
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
@requires("indicators:view")
def report_job(job_id: int) -> Any:
    job = job_for(_me(), job_id)
    if job is None:
        abort(404)
    return render_template(
        "indicators/report_job.html",
        job=job,
        status=_status(job),
        state_labels=STATE_LABELS,
    )


@bp.route("/indikator/laporan/<int:job_id>.json")
@requires("indicators:view")
def report_job_status(job_id: int) -> Any:
    job = job_for(_me(), job_id)
    if job is None:
        abort(404)
    return jsonify(_status(job))


@bp.route("/indikator/laporan/<int:job_id>/ulangi", methods=["POST"])
@requires("indicators:view")
def report_job_retry(job_id: int) -> Any:
    """Start a stalled or failed report job again."""
    user = _me()
    job = job_for(user, job_id)
    if job is None:
        abort(404)
    try:
        retry_job(job, actor=user, now=utcnow(), stall_after=stall_after())
    except DomainError as error:
        flash(str(error.message), "warning")
    return redirect(url_for("indicators.report_job", job_id=job.id))


@bp.route("/indikator/laporan/<int:job_id>/unduh")
@requires("indicators:view")
@require_recent_auth()  # a bulk export: the password (and code) again within 5 minutes
def report_download(job_id: int) -> Response:
    user = _me()
    job = job_for(user, job_id)
    if job is None or job.state != "selesai" or not job.stored_name:
        abort(404)
    if not (reports_dir() / job.stored_name).is_file():
        abort(404)
    record(
        user,
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
        reports_dir(),
        job.stored_name,
        mimetype=MIMETYPES[job.format],
        download_name=download_name(job),
    )
