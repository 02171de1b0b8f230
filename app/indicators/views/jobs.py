"""Rollup jobs with their progress, and closing a period (domain.md §6.6). Scope:
``scope.reach_of`` with ``indicators:manage`` (jobs) or ``periods:close`` (closing)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.indicators import bp, queries
from app.indicators import operations as ops
from app.indicators.forms import CloseForm, RollupForm
from app.indicators.models import ReportJob
from app.indicators.periods import parse
from app.indicators.scope import CLOSE, MANAGE, reach_of
from app.indicators.tasks import stall_after
from app.indicators.views.common import (
    default_period,
    me,
    period_name,
    period_or_400,
    region_code,
    region_name,
    region_or_404,
)

# --- rollup jobs --------------------------------------------------------------------------------


@bp.route("/indikator/rollup", methods=["POST"])
@requires(MANAGE)
@once_per_form
def start_rollup() -> Any:
    form = RollupForm()
    if not form.validate():
        abort(400)
    user = me()
    region = region_or_404(reach_of(user, MANAGE), form.region.data)
    period = period_or_400(form.period.data)
    job = ops.start_job("rollup", period.code, region, actor=user)
    return redirect(url_for("indicators.job", job_id=job.id))


def _job_or_404(job_id: int) -> ReportJob:
    job = queries.job_for(me(), job_id, permission=MANAGE)
    if job is None:
        abort(404)
    return job


def _job_json(job: ReportJob) -> dict[str, Any]:
    state = job.shown_state(utcnow(), stall_after())
    return {
        "id": job.id,
        "kind": job.kind,
        "period": job.period,
        "region": region_code(job.region),
        "state": state,
        "progress": job.progress,
        "message": job.message,
        "done": job.finished,
        "can_retry": state in ("macet", "gagal"),
    }


@bp.route("/indikator/pekerjaan/<int:job_id>")
@requires(MANAGE)
def job(job_id: int) -> Any:
    found = _job_or_404(job_id)
    return render_template(
        "indicators/job.html",
        job=found,
        status=_job_json(found),
        region_name=region_name(found.region),
        period_name=period_name(parse(found.period)),
        step=min(100, max(0, found.progress)) // 5 * 5,
    )


@bp.route("/indikator/pekerjaan/<int:job_id>.json")
@requires(MANAGE)
def job_json(job_id: int) -> Any:
    return jsonify(_job_json(_job_or_404(job_id)))


@bp.route("/indikator/pekerjaan/<int:job_id>/ulangi", methods=["POST"])
@requires(MANAGE)
def job_retry(job_id: int) -> Any:
    """Start a stalled or failed rollup job again."""
    found = _job_or_404(job_id)
    try:
        ops.retry_job(found, actor=me(), now=utcnow(), stall_after=stall_after())
    except DomainError as error:
        flash(str(error.message), "warning")
    return redirect(url_for("indicators.job", job_id=found.id))


# --- closing a period ---------------------------------------------------------------------------


@bp.route("/indikator/tutup", methods=["GET", "POST"])
@requires(CLOSE)
def close() -> Any:
    user = me()
    form = CloseForm()
    source = request.form if request.method == "POST" else request.args
    region = region_or_404(reach_of(user, CLOSE), source.get("region"))
    # opened without a period (a bare link): the default one of the dashboard
    period = period_or_400(source.get("period") or default_period(region))
    form.period.data, form.region.data = period.code, region_code(region)
    error = None
    if request.method == "POST":
        if form.validate():
            try:
                ops.close_period(period.code, region, actor=user)
            except DomainError as refused:  # refused before anything was written
                error = str(refused.message)
            else:
                flash(_("The period %(period)s is closed.", period=period_name(period)), "success")
                return redirect(
                    url_for("indicators.dashboard", period=period.code, region=region_code(region))
                )
        else:
            error = _("The period was not closed.")
    return render_template(
        "indicators/close.html",
        form=form,
        region_name=region_name(region),
        period_name=period_name(period),
        region_code=region_code(region),
        period=period,
        closed=queries.closed(region.id if region is not None else None, period.code),
        error=error,
    ), (422 if error else 200)
