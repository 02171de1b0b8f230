"""The "Tugas saya" page, and setting, finishing and cancelling follow-ups from the case page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.models import User
from app.cases.models import Case
from app.cases.page import render_case_page
from app.cases.routing import case_route
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.formatting import format_day, format_moment
from app.core.forms import field_error, parse_id
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import AUTHENTICATED, requires
from app.core.web import all_or_nothing
from app.tasks import bp, operations
from app.tasks.forms import FollowUpForm, FollowUpStepForm
from app.tasks.queries import SHOWN_PER_SOURCE, follow_up_for, my_tasks


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.route("/tugas")
@requires(AUTHENTICATED)  # every account has a list; one with no case work sees it empty
def index() -> Any:
    return render_template(
        "tasks/index.html",
        tasks=my_tasks(_me(), utcnow()),
        step_form=FollowUpStepForm(),
        day=_day,
        when=_when,
        shown_per_source=SHOWN_PER_SOURCE,
    )


@bp.route("/kasus/<int:case_id>/tindak-lanjut", methods=["POST"])
@case_route("cases:view_own")
@once_per_form
def schedule(case: Case) -> Any:
    form = FollowUpForm()
    if form.validate_on_submit():
        track_id = parse_id(form.track_id.data) if form.track_id.data else None
        try:
            if form.track_id.data and track_id is None:
                raise DomainError(_("Choose a service of this case."), field="track_id")
            with all_or_nothing():
                follow_up = operations.schedule_follow_up(
                    case,
                    actor=_me(),
                    due_on=form.due_on.data,
                    note=form.note.data,
                    track_id=track_id,
                )
        except DomainError as error:
            field_error(form, error)
        else:
            flash(
                _("Follow-up set for %(day)s.", day=_day(follow_up.due_on)),
                "success",
            )
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="tindak-lanjut"))
    return render_case_page(case, status=422, follow_up_form=form)


def _day(day: Any) -> str:
    """A day as the locale writes it ("7 Des 2026", "7 Dec 2026")."""
    return format_day(day)


def _when(at: Any) -> str:
    """A time on a day, in the user's time zone, the day written as ``_day`` writes it."""
    return format_moment(at)


def _step(follow_up_id: int, action: str) -> Response:
    follow_up = follow_up_for(_me(), follow_up_id)
    if follow_up is None:
        abort(404)
    form = FollowUpStepForm()
    if not form.validate_on_submit():
        abort(400)
    version = parse_id(form.version.data) if form.version.data else None
    try:
        with all_or_nothing():
            if action == "done":
                operations.complete_follow_up(follow_up, actor=_me(), version=version)
            else:
                operations.cancel_follow_up(follow_up, actor=_me(), version=version)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(
            _("Follow-up marked as done.") if action == "done" else _("Follow-up cancelled."),
            "success",
        )
    return redirect(url_for("tasks.index"))


@bp.route("/tindak-lanjut/<int:follow_up_id>/selesai", methods=["POST"])
@requires("cases:view_own")
def done(follow_up_id: int) -> Response:
    return _step(follow_up_id, "done")


@bp.route("/tindak-lanjut/<int:follow_up_id>/batal", methods=["POST"])
@requires("cases:view_own")
def cancel(follow_up_id: int) -> Response:
    return _step(follow_up_id, "cancel")
