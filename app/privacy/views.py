"""The data-subject rights page of a victim, reached from the case page by the agency's
supervisors. The case comes through ``get_case_for`` (out of scope: 404) and every write calls
one operation."""

from __future__ import annotations

import json
from typing import Any, cast

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.models import User
from app.auth.sessions import require_recent_auth
from app.cases import queries as case_queries
from app.cases.models import Case, Victim
from app.cases.permissions import may_supervise
from app.cases.routing import case_route
from app.core.errors import DomainError
from app.core.forms import field_error
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.privacy import bp, queries
from app.privacy import operations as ops
from app.privacy.forms import ActForm, ReasonForm, RequestForm
from app.privacy.models import DataSubjectRequest

SUPERVISE = "cases:supervise"
BASE = "/kasus/<int:case_id>/korban/<int:victim_id>/hak-subjek"


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _victim(case: Case, victim_id: int) -> Victim:
    victim = case_queries.victim_of(case, victim_id)
    if victim is None:
        abort(404)
    return victim


def _request(victim: Victim, request_id: int) -> DataSubjectRequest:
    found = queries.request_of(victim, request_id)
    if found is None:
        abort(404)
    return found


def _confirmed_request(
    case: Case, victim_id: int, request_id: int
) -> tuple[Victim, DataSubjectRequest]:
    """The victim and the request a confirmation button acts on (404 out of scope, 400
    without its CSRF token)."""
    victim = _victim(case, victim_id)
    req = _request(victim, request_id)
    if not ActForm().validate_on_submit():
        abort(400)
    return victim, req


def _page(case: Case, victim_id: int) -> Response:
    return redirect(url_for("privacy.page", case_id=case.id, victim_id=victim_id))


def _render(
    case: Case,
    victim: Victim,
    *,
    form: RequestForm | None = None,
    lift_form: ReasonForm | None = None,
    status: int = 200,
) -> Any:
    victims = queries.subject_victims(victim)
    return render_template(
        "privacy/page.html",
        case=case,
        victim=victim,
        victims=victims,
        requests=queries.requests_about(victims),
        restricted=any(queries.is_restricted(v) for v in victims),
        restriction=queries.active_restriction(victim),
        erasure=queries.erasure_of(victim),
        proceedings=queries.proceedings_open_reason(victims),
        form=form or RequestForm(formdata=None),
        lift_form=lift_form or ReasonForm(formdata=None, prefix="lift"),
        act_form=ActForm(formdata=None),
        refuse_form=ReasonForm(formdata=None, prefix="refuse"),
    ), status


@bp.route(BASE)
@case_route(SUPERVISE, can=may_supervise)
def page(case: Case, victim_id: int) -> Any:
    victim = _victim(case, victim_id)
    return _render(case, victim)


@bp.route(BASE, methods=["POST"])
@case_route(SUPERVISE, can=may_supervise)
@once_per_form
def record_request(case: Case, victim_id: int) -> Any:
    victim = _victim(case, victim_id)
    form = RequestForm()
    if not form.validate_on_submit():
        return _render(case, victim, form=form, status=422)
    try:
        ops.record_request(
            case,
            victim,
            kind=form.kind.data,
            requester=form.requester.data or "",
            received_at=form.received_utc(),
            actor=_me(),
        )
    except DomainError as exc:
        field_error(form, exc, "received_at")
        return _render(case, victim, form=form, status=422)
    flash(_("The request was recorded; it must be answered within 3 x 24 hours."), "success")
    return _page(case, victim_id)


@bp.route(f"{BASE}/<int:request_id>/ekspor", methods=["POST"])
@case_route(SUPERVISE, can=may_supervise)
@require_recent_auth()  # a person's whole file leaves the system
def export(case: Case, victim_id: int, request_id: int) -> Any:
    victim, req = _confirmed_request(case, victim_id, request_id)
    try:
        data = ops.export_for_request(victim, req, actor=_me())
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(case, victim_id)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    # no identity in the file name either: the request's number only
    response.headers["Content-Disposition"] = (
        f'attachment; filename="permintaan-{req.id}-data-subjek.json"'
    )
    return response


@bp.route(f"{BASE}/<int:request_id>/batasi", methods=["POST"])
@case_route(SUPERVISE, can=may_supervise)
def restrict(case: Case, victim_id: int, request_id: int) -> Any:
    victim, req = _confirmed_request(case, victim_id, request_id)
    try:
        ops.restrict(victim, req, actor=_me())
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(case, victim_id)
    flash(_("The processing of this person's data is restricted."), "success")
    return _page(case, victim_id)


@bp.route(f"{BASE}/cabut-pembatasan", methods=["POST"])
@case_route(SUPERVISE, can=may_supervise)
def lift(case: Case, victim_id: int) -> Any:
    victim = _victim(case, victim_id)
    form = ReasonForm(prefix="lift")
    if not form.validate_on_submit():
        return _render(case, victim, lift_form=form, status=422)
    try:
        ops.lift_restriction(victim, reason=form.reason.data or "", actor=_me())
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(case, victim_id)
    flash(_("The restriction was lifted."), "success")
    return _page(case, victim_id)


@bp.route(f"{BASE}/<int:request_id>/hapus", methods=["POST"])
@case_route(SUPERVISE, can=may_supervise)
@require_recent_auth()  # erasure cannot be undone
def erase(case: Case, victim_id: int, request_id: int) -> Any:
    victim, req = _confirmed_request(case, victim_id, request_id)
    try:
        result = ops.erase_for_request(victim, req, actor=_me())
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(case, victim_id)
    if result.refused_reason:
        flash(_("Erasure refused: %(reason)s", reason=result.refused_reason), "warning")
    else:
        flash(
            _("The identity was erased; the statistical fields and the case history stay."),
            "success",
        )
    return _page(case, victim_id)


@bp.route(f"{BASE}/<int:request_id>/tolak", methods=["POST"])
@case_route(SUPERVISE, can=may_supervise)
def refuse(case: Case, victim_id: int, request_id: int) -> Any:
    victim = _victim(case, victim_id)
    req = _request(victim, request_id)
    form = ReasonForm(prefix="refuse")
    if not form.validate_on_submit():
        flash(_("Give the reason for the refusal."), "danger")
        return _page(case, victim_id)
    try:
        ops.refuse_request(req, reason=form.reason.data or "", actor=_me())
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _page(case, victim_id)
    flash(_("The request was refused; the reason is kept with it."), "success")
    return _page(case, victim_id)
