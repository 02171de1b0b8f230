"""``/akses-darurat``: ask for break-the-glass access; ``/akses-darurat/tinjauan``: the
supervisors' weekly access review."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.models import User
from app.auth.sessions import require_recent_auth
from app.breakglass import bp, queries
from app.breakglass import operations as ops
from app.breakglass.forms import BreakGlassForm
from app.core.errors import DomainError
from app.core.formatting import format_moment
from app.core.forms import field_error
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.extensions import limiter

VIEW_LABELS: dict[str, Any] = {
    "cases.detail": _l("Opened the case page"),
    "cases.download_attachment": _l("Downloaded a file"),
    "assessments.edit": _l("Opened an assessment"),
}
WEEK = dt.timedelta(days=7)


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _user_key() -> str:
    """The account's id alone: not the session id (``get_id()`` carries the session generation,
    which a password change or a sign-out bumps, and would start the count again)."""
    return f"break-glass:{current_user.id}"


@bp.route("/akses-darurat", methods=["GET", "POST"])
@requires("cases:view_own")
@require_recent_auth(minutes=5)
@limiter.limit("20 per hour", methods=["POST"], key_func=_user_key)
@once_per_form
def request_access() -> Any:
    """The reason and a fresh re-authentication come before anything is looked up, so a guess
    costs as much as a real request, and a reference that names no case is answered without
    saying so."""
    form = BreakGlassForm()
    if not form.validate_on_submit():
        return _render(form, 422 if form.is_submitted() else 200)
    try:
        outcome = ops.request_access(_me(), form.reference.data or "", form.reason.data or "")
    except DomainError as exc:
        field_error(form, exc, "reason")
        return _render(form, 422)
    if outcome.case_id is None:
        flash(
            _(
                "If this case exists, access has been granted or refused. "
                "Check the reference and try again."
            ),
            "info",
        )
        return redirect(url_for("breakglass.request_access"))
    if outcome.grant is not None:
        flash(
            _(
                "Emergency access granted, read-only, until %(time)s. "
                "The agency's supervisors have been notified.",
                time=format_moment(outcome.grant.expires_at),
            ),
            "warning",
        )
    return redirect(url_for("cases.detail", case_id=outcome.case_id))


def _render(form: BreakGlassForm, status: int) -> Any:
    return render_template(
        "breakglass/request.html",
        form=form,
        hours=int(ops.GRANT_DURATION.total_seconds() // 3600),
        min_reason=ops.MIN_REASON_LENGTH,
    ), status


@bp.route("/akses-darurat/tinjauan")
@requires("cases:supervise")
def review() -> Any:
    asked = request.args.get("minggu")
    monday = queries.parse_week(asked)
    if monday is None:
        if asked:
            flash(_("Give the week as YYYY-Www, for example 2025-W11."), "warning")
        monday = queries.current_week()
    return render_template(
        "breakglass/review.html",
        review=queries.review_for(_me(), monday),
        week=queries.week_label(monday),
        previous_week=queries.week_label(monday - WEEK),
        next_week=queries.week_label(monday + WEEK),
        view_labels=VIEW_LABELS,
    )
