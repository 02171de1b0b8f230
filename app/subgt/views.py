"""Sub GT board routes. Rows and history come only from ``queries`` (pseudonymised dataclasses);
a track that is not on one of the user's boards is a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_login import current_user

from app.auth.models import User
from app.core.bounds import parse_page
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.referrals.metrics import MetricRow, referral_metrics
from app.subgt import bp, queries
from app.subgt.forms import BoardFilterForm, CoordinationNoteForm
from app.subgt.labels import referral_event_label, step_label
from app.subgt.operations import add_coordination_note

REVIEW = "subgt:review"
PER_PAGE = 50


def _me() -> User:
    return cast(User, current_user._get_current_object())


def fmt_decimal(value: Decimal) -> str:
    """A figure with two decimals in the user's number format (``32,83`` in Indonesian)."""
    return str(format_decimal(value, format="#,##0.00"))


def _period_starts(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The start of the current month and of the current year, in the display time zone."""
    local = now.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"]))
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return month.astimezone(dt.UTC), month.replace(month=1).astimezone(dt.UTC)


def _metrics(
    boards: list[queries.Board], now: dt.datetime
) -> list[tuple[queries.Board, list[MetricRow], list[MetricRow]]]:
    month, year = _period_starts(now)
    return [
        (
            b,
            referral_metrics(month, now, by="agency", agency_ids=b.member_ids),
            referral_metrics(year, now, by="agency", agency_ids=b.member_ids),
        )
        for b in boards
    ]


@bp.route("/subgt")
@requires(REVIEW)
def board() -> Any:
    me, now = _me(), utcnow()
    boards = queries.boards_of(me)
    services = list(dict.fromkeys(s for b in boards for s in b.service_types))
    form = BoardFilterForm(
        request.args,
        service_types=services,
        agencies=queries.board_agencies(boards),
    )
    form.validate()
    filters = form.filters()
    page = queries.board_page(
        me,
        filters,
        now,
        page=parse_page(request.args.get("page")),
        per_page=PER_PAGE,
        boards=boards,
    )
    return render_template(
        "subgt/board.html",
        boards=boards,
        form=form,
        filtered=form.filtered,
        page=page,
        rows=page.items,
        # the counters are of the whole board: the page's own when it is unfiltered
        summary=page.summary
        if page.summary is not None and filters == queries.BoardFilters()
        else queries.board_summary(me, now, boards=boards),
        metrics=_metrics(boards, now),
        fmt_decimal=fmt_decimal,
    )


def _render_history(
    track_id: int,
    *,
    form: CoordinationNoteForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    history = queries.track_history(_me(), track_id, utcnow())
    if history is None:
        abort(404)
    return (
        render_template(
            "subgt/history.html",
            history=history,
            row=history.row,
            form=form or CoordinationNoteForm(formdata=None),
            error=error,
            step_label=step_label,
            referral_event_label=referral_event_label,
        ),
        status,
    )


@bp.route("/subgt/layanan/<int:track_id>")
@requires(REVIEW)
def history(track_id: int) -> Any:
    return _render_history(track_id)


@bp.route("/subgt/layanan/<int:track_id>/catatan", methods=["POST"])
@requires(REVIEW)
@once_per_form
def add_note(track_id: int) -> Any:
    found = queries.reviewable_track(_me(), track_id)
    if found is None:
        abort(404)
    track, sub_task_force = found
    form = CoordinationNoteForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(_("The form has expired. Reload the page and try again."))
        add_coordination_note(
            track,
            sub_task_force,
            form.body.data,
            escalate=bool(form.escalate.data),
            actor=_me(),
        )
    except DomainError as error:
        return _render_history(track_id, form=form, error=str(error.message), status=422)
    flash(
        _("The note has been added and the supervisors of both agencies will be told.")
        if form.escalate.data
        else _("The note has been added."),
        "success",
    )
    return redirect(url_for("subgt.history", track_id=track_id, _anchor="catatan"))
