"""The workflow steps taken from the case page, the intervention plan, and transfers.

Views stay thin: load the case through the scoped queries (outside the scope: 404), read the
small form, call one operation. A refused step re-renders the case page (422, nothing saved)
with the reason beside the step's button.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.agencies.models import Agency
from app.auth.models import User
from app.cases import queries
from app.cases.intake import ConsentData
from app.cases.models import Case
from app.cases.operations import ConflictError, add_consent
from app.cases.page import render_case_page
from app.core.db import utcnow
from app.core.enums import ConsentDecision, ServiceType, TransferState
from app.core.errors import DomainError
from app.core.forms import in_id_range, parse_id
from app.core.idempotency import once_per_form
from app.core.labels import label
from app.core.permissions import requires
from app.extensions import db
from app.services.models import ServiceTrack
from app.workflow import bp
from app.workflow import operations as ops
from app.workflow.forms import (
    AssignForm,
    CaseStepForm,
    PlanForm,
    TrackStepForm,
    TransferAnswerForm,
    TransferForm,
)
from app.workflow.labels import event_label
from app.workflow.models import CaseTransfer
from app.workflow.permissions import may_supervise_agency

TRANSFERS_NAV = _l("Incoming transfers")


def _me() -> Any:
    return current_user._get_current_object()


def _case_or_404(case_id: int) -> Case:
    case = queries.get_case_for(_me(), case_id)
    if case is None:
        abort(404)
    return case


def _version(form: Any) -> int | None:
    value = (form.version.data or "").strip()
    return parse_id(value)


def refused_on_case_page(case: Case, where: str, message: Any, form: Any = None) -> Any:
    """Show the case page again with ``message`` at ``where`` (an event, ``plan``,
    ``track-<id>-<event>`` or ``transfer``); the request's writes are rolled back (422)."""
    db.session.rollback()
    case = _case_or_404(case.id)
    return render_case_page(
        case, status=422, workflow_error={"where": where, "message": str(message), "form": form}
    )


def _form_errors(form: Any) -> str:
    return " ".join(
        f"{getattr(form, name).label.text}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
        if name != "csrf_token"
    ) or _("The form has expired. Reload the page and try again.")


# --- case steps --------------------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/langkah/<event>", methods=["POST"])
@requires("cases:view_own")
def case_step(case_id: int, event: str) -> Any:
    case = _case_or_404(case_id)
    form = CaseStepForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, event, _form_errors(form), form)
    # what the step asks for (reason, note, confirmation, closure kind…) is the definition's,
    # checked by the engine: the view only passes what the form holds
    try:
        ops.apply_case_event(
            case.id,
            event,
            actor=_me(),
            expected_version=_version(form),
            reason=form.reason.data,
            approve=bool(form.approve.data),
            data={
                "closure": form.closure_kind.data if event == "close" else None,
                "duplicate_of": form.duplicate_reference.data,
            },
        )
    except (DomainError, ConflictError) as error:
        return refused_on_case_page(case, event, error.message, form)
    flash(_("Step recorded: %(step)s.", step=event_label(event)), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))


# --- the intervention plan ---------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/rencana", methods=["POST"])
@requires("cases:view_own")
@once_per_form
def plan_service(case_id: int) -> Any:
    case = _case_or_404(case_id)
    form = PlanForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "plan", _form_errors(form), form)
    try:
        service = ServiceType(form.service_type.data or "")
    except ValueError:
        return refused_on_case_page(case, "plan", _("Choose a service from the list."), form)
    provider = (
        db.session.get(Agency, form.provider.data) if in_id_range(form.provider.data) else None
    )
    if form.provider.data and provider is None:
        return refused_on_case_page(case, "plan", _("Choose a provider from the list."), form)
    try:
        track = ops.plan_service(
            case.id,
            form.victim.data,
            service,
            provider=provider,
            target_date=form.target_date.data,
            actor=_me(),
            expected_version=_version(form),
        )
    except (DomainError, ConflictError) as error:
        return refused_on_case_page(case, "plan", error.message, form)
    flash(
        _("Service added to the plan: %(service)s.", service=label(track.service_type)), "success"
    )
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{track.id}"))


# --- service-track steps -----------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/layanan/<int:track_id>/<event>", methods=["POST"])
@requires("cases:view_own")
def track_step(case_id: int, track_id: int, event: str) -> Any:
    case = _case_or_404(case_id)
    track = db.session.scalar(
        select(ServiceTrack).where(ServiceTrack.id == track_id, ServiceTrack.case_id == case.id)
    )
    if track is None:
        abort(404)
    where = f"track-{track.id}-{event}"
    form = TrackStepForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, where, _form_errors(form), form)
    try:
        if event == "decline_by_victim":
            # the informed refusal goes into the consent ledger with the step (domain.md §3.1)
            add_consent(
                track.victim,
                ConsentData(
                    purpose=f"layanan:{track.service_type.value}",
                    decision=ConsentDecision.MENOLAK.value,
                    given_by=form.given_by.data or "",
                    given_by_name=(form.given_by_name.data or "").strip() or None,
                    at=utcnow(),
                ),
                actor=_me(),
            )
        ops.apply_track_event(
            track.id,
            event,
            actor=_me(),
            reason=form.reason.data,
            outcome=form.outcome.data,
            expected_version=_version(form),
        )
    except (DomainError, ConflictError) as error:
        return refused_on_case_page(case, where, error.message, form)
    flash(_("Step recorded: %(step)s.", step=event_label(event, track=True)), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{track.id}"))


# --- transfers ---------------------------------------------------------------------------------


def transfer_targets(case: Case) -> list[Agency]:
    """Active agencies that handle complaints, other than the case's own."""
    return [
        a
        for a in db.session.scalars(
            select(Agency).where(Agency.active.is_(True), Agency.id != case.agency_id)
        )
        if a.provides(ServiceType.PENGADUAN)
    ]


@bp.route("/kasus/<int:case_id>/pelimpahan", methods=["POST"])
@requires("cases:manage")
@once_per_form
def request_transfer(case_id: int) -> Any:
    case = _case_or_404(case_id)
    form = TransferForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "transfer", _form_errors(form), form)
    agency = (
        db.session.get(Agency, form.to_agency.data) if in_id_range(form.to_agency.data) else None
    )
    if agency is None:
        return refused_on_case_page(case, "transfer", _("Choose the receiving agency."), form)
    try:
        ops.request_transfer(
            case.id, agency, form.reason.data, actor=_me(), expected_version=_version(form)
        )
    except (DomainError, ConflictError) as error:
        return refused_on_case_page(case, "transfer", error.message, form)
    flash(_("Transfer requested. %(agency)s will answer it.", agency=agency.name), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))


@bp.route("/kasus/<int:case_id>/pelimpahan/<int:transfer_id>/tarik", methods=["POST"])
@requires("cases:manage")
def withdraw_transfer(case_id: int, transfer_id: int) -> Any:
    case = _case_or_404(case_id)
    transfer = db.session.get(CaseTransfer, transfer_id)
    if transfer is None or transfer.case_id != case.id:
        abort(404)
    form = TransferAnswerForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "transfer", _form_errors(form), form)
    try:
        ops.withdraw_transfer(transfer.id, actor=_me(), expected_version=_version(form))
    except (DomainError, ConflictError) as error:
        return refused_on_case_page(case, "transfer", error.message, form)
    flash(_("The transfer request was withdrawn."), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))


def _incoming(user: Any) -> list[CaseTransfer]:
    agencies = [g.agency_id for g in user.grants if g.agency_id is not None]
    agencies = [a for a in agencies if may_supervise_agency(user, a)]
    if not agencies:
        return []
    return list(
        db.session.scalars(
            select(CaseTransfer)
            .where(CaseTransfer.to_agency_id.in_(agencies))
            .order_by(
                (CaseTransfer.state == TransferState.MENUNGGU).desc(),
                CaseTransfer.requested_at.desc(),
            )
            .limit(200)
        )
    )


def _incoming_or_404(transfer_id: int) -> CaseTransfer:
    transfer = db.session.get(CaseTransfer, transfer_id)
    if transfer is None or not may_supervise_agency(_me(), transfer.to_agency_id):
        abort(404)
    return transfer


def _render_inbox(errors: dict[int, str] | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "workflow/transfers.html",
            transfers=_incoming(_me()),
            form=TransferAnswerForm(formdata=None),
            errors=errors or {},
        ),
        status,
    )


@bp.route("/pelimpahan")
@requires("cases:supervise")
def transfers() -> Any:
    return _render_inbox()


@bp.route("/pelimpahan/<int:transfer_id>/<answer>", methods=["POST"])
@requires("cases:supervise")
def answer_transfer(transfer_id: int, answer: str) -> Any:
    transfer = _incoming_or_404(transfer_id)
    if answer not in ("terima", "tolak"):
        abort(404)
    form = TransferAnswerForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _render_inbox({transfer.id: _form_errors(form)}, 422)
    try:
        if answer == "terima":
            ops.accept_transfer(transfer.id, actor=_me(), expected_version=_version(form))
        else:
            ops.decline_transfer(
                transfer.id,
                form.decision_reason.data,
                actor=_me(),
                expected_version=_version(form),
            )
    except (DomainError, ConflictError) as error:
        db.session.rollback()
        return _render_inbox({transfer_id: str(error.message)}, 422)
    if answer == "terima":
        flash(
            _(
                "Transfer accepted: the case is now %(reference)s.",
                reference=transfer.new_case.reference,
            )
            if transfer.new_case
            else _("Transfer accepted."),
            "success",
        )
        return redirect(url_for("cases.detail", case_id=transfer.new_case_id))
    flash(_("Transfer declined. The sending agency is told why."), "success")
    return redirect(url_for("workflow.transfers"))


# --- the case manager --------------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/manajer", methods=["POST"])
@requires("cases:supervise")
def assign(case_id: int) -> Any:
    case = _case_or_404(case_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "assign", _form_errors(form), form)
    manager = (
        db.session.get(User, form.case_manager.data)
        if in_id_range(form.case_manager.data)
        else None
    )
    if manager is None:
        return refused_on_case_page(
            case, "assign", _("Choose a case manager or supervisor of this agency.")
        )
    try:
        ops.assign_case_manager(case.id, manager, actor=_me(), expected_version=_version(form))
    except (DomainError, ConflictError) as error:
        return refused_on_case_page(case, "assign", error.message, form)
    flash(_("%(name)s now manages this case.", name=manager.name), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))
