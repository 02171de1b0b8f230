"""The data-quality queue and the verification of a case (domain.md §7)."""

from __future__ import annotations

from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.models import User
from app.cases.operations import ConflictError
from app.core.bounds import parse_page
from app.core.errors import DomainError
from app.core.i18n import gettext as _
from app.core.permissions import requires
from app.quality import bp, queries
from app.quality.checks import KIND_LABELS, KINDS, TIMELINESS_DAYS
from app.quality.forms import VerifyForm
from app.quality.operations import verify_case


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _queue_args() -> dict[str, Any]:
    """The queue's own query arguments (tab, page, period), carried through a verification."""
    return {k: v for k, v in request.args.items() if k in ("tab", "page", "periode")}


def _render_queue(*, status: int = 200, error: Any = None, error_case_id: int | None = None) -> Any:
    user = _me()
    tab = request.args.get("tab", queries.TAB_UNVERIFIED)
    if tab not in queries.TABS:
        tab = queries.TAB_UNVERIFIED
    page = queries.queue_for(user, tab, parse_page(request.args.get("page")))
    period_text = request.args.get("periode")
    period = queries.parse_period(period_text) or queries.current_month()
    agencies = queries.agencies_of(user)
    scores = queries.quality_scores([a.id for a in agencies], period.start, period.end)
    return (
        render_template(
            "quality/queue.html",
            tab=tab,
            page=page,
            linkable=queries.visible_case_ids(user, (r.case.id for r in page.items)),
            period=period,
            period_invalid=bool(period_text) and queries.parse_period(period_text) is None,
            scores=scores,
            kinds=KINDS,
            kind_labels=KIND_LABELS,
            timeliness_days=TIMELINESS_DAYS,
            form=VerifyForm(formdata=None),
            queue_args=_queue_args(),
            error=error,
            error_case_id=error_case_id,
        ),
        status,
    )


@bp.route("/kualitas-data")
@requires("quality:review")
def queue() -> Any:
    return _render_queue()


@bp.route("/kualitas-data/<int:case_id>/verifikasi", methods=["POST"])
@requires("quality:review")
def verify(case_id: int) -> Any:
    case = queries.queue_case_for(_me(), case_id)
    if case is None:
        abort(404)
    form = VerifyForm()
    version = form.expected_version() if form.validate_on_submit() else None
    if version is None:
        return _render_queue(
            status=400, error=_("The form was incomplete: reload the page."), error_case_id=case.id
        )
    try:
        verify_case(case, actor=_me(), expected_version=version)
    except ConflictError as exc:
        return _render_queue(status=409, error=exc.message, error_case_id=case.id)
    except DomainError as exc:
        return _render_queue(status=422, error=exc.message, error_case_id=case.id)
    flash(_("Case %(reference)s is verified.", reference=case.reference), "success")
    return redirect(url_for("quality.queue", **_queue_args()))
