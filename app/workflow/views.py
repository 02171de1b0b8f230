"""The workflow steps taken from the case page, the intervention plan, and transfers.

Views stay thin: every route about one case is a ``case_route`` (the case loaded through the
user's scope, outside it: 404), the records it names are looked up through queries scoped to
that case, and one operation is called. A refused step re-renders the case page (422, nothing
saved: the operations run ``all_or_nothing``) with the refusal on the form and its reason beside
the step's button.
"""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.agencies.queries import get_agency
from app.auth.models import User
from app.auth.queries import get_user
from app.cases.intake import ConsentData
from app.cases.models import Case
from app.cases.operations import add_consent
from app.cases.routing import case_route
from app.core.db import utcnow
from app.core.enums import ConsentDecision, ServiceType
from app.core.errors import DomainError
from app.core.forms import Form, in_id_range, parse_id
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.idempotency import once_per_form
from app.core.labels import label
from app.core.permissions import requires
from app.core.web import all_or_nothing
from app.services.queries import track_of
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
from app.workflow.queries import incoming_transfer_for, incoming_transfers, transfer_of
from app.workflow.refusal import PageResponse, form_errors, refused_on_case_page

TRANSFERS_NAV = _l("Incoming transfers")


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _version(form: Form) -> int | None:
    value = (form.version.data or "").strip()
    return parse_id(value)


# --- case steps --------------------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/langkah/<event>", methods=["POST"])
@case_route("cases:view_own")
def case_step(case: Case, event: str) -> PageResponse | Response:
    form = CaseStepForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, event, form)
    # what the step asks for (reason, note, confirmation, closure kind…) is the definition's,
    # checked by the engine: the view only passes what the form holds
    try:
        with all_or_nothing():
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
    except DomainError as error:
        return refused_on_case_page(case, event, form, error)
    flash(_("Step recorded: %(step)s.", step=event_label(event)), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))


# --- the intervention plan ---------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/rencana", methods=["POST"])
@case_route("cases:view_own")
@once_per_form
def plan_service(case: Case) -> PageResponse | Response:
    form = PlanForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "plan", form)
    try:
        service = ServiceType(form.service_type.data or "")
    except ValueError:
        return refused_on_case_page(
            case,
            "plan",
            form,
            DomainError(_("Choose a service from the list."), field="service_type"),
        )
    provider = get_agency(form.provider.data) if in_id_range(form.provider.data) else None
    if form.provider.data and provider is None:
        return refused_on_case_page(
            case, "plan", form, DomainError(_("Choose a provider from the list."), field="provider")
        )
    try:
        with all_or_nothing():
            track = ops.plan_service(
                case.id,
                form.victim.data,
                service,
                provider=provider,
                target_date=form.target_date.data,
                actor=_me(),
                expected_version=_version(form),
            )
    except DomainError as error:
        return refused_on_case_page(case, "plan", form, error)
    flash(
        _("Service added to the plan: %(service)s.", service=label(track.service_type)), "success"
    )
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{track.id}"))


# --- service-track steps -----------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/layanan/<int:track_id>/<event>", methods=["POST"])
@case_route("cases:view_own")
def track_step(case: Case, track_id: int, event: str) -> PageResponse | Response:
    track = track_of(case, track_id)
    if track is None:
        abort(404)
    where = f"track-{track.id}-{event}"
    form = TrackStepForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, where, form)
    try:
        # the consent entry is written before the step, which may still refuse
        with all_or_nothing():
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
    except DomainError as error:
        return refused_on_case_page(case, where, form, error)
    flash(_("Step recorded: %(step)s.", step=event_label(event, track=True)), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{track.id}"))


# --- transfers ---------------------------------------------------------------------------------


@bp.route("/kasus/<int:case_id>/pelimpahan", methods=["POST"])
@case_route("cases:manage")
@once_per_form
def request_transfer(case: Case) -> PageResponse | Response:
    form = TransferForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "transfer", form)
    agency = get_agency(form.to_agency.data) if in_id_range(form.to_agency.data) else None
    if agency is None:
        return refused_on_case_page(
            case,
            "transfer",
            form,
            DomainError(_("Choose the receiving agency."), field="to_agency"),
        )
    try:
        with all_or_nothing():
            ops.request_transfer(
                case.id, agency, form.reason.data, actor=_me(), expected_version=_version(form)
            )
    except DomainError as error:
        return refused_on_case_page(case, "transfer", form, error)
    flash(_("Transfer requested. %(agency)s will answer it.", agency=agency.name), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))


@bp.route("/kasus/<int:case_id>/pelimpahan/<int:transfer_id>/tarik", methods=["POST"])
@case_route("cases:manage")
def withdraw_transfer(case: Case, transfer_id: int) -> PageResponse | Response:
    transfer = transfer_of(case, transfer_id)
    if transfer is None:
        abort(404)
    form = TransferAnswerForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "transfer", form)
    try:
        with all_or_nothing():
            ops.withdraw_transfer(transfer.id, actor=_me(), expected_version=_version(form))
    except DomainError as error:
        return refused_on_case_page(case, "transfer", form, error)
    flash(_("The transfer request was withdrawn."), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))


def _incoming_or_404(transfer_id: int) -> CaseTransfer:
    transfer = incoming_transfer_for(_me(), transfer_id)
    if transfer is None:
        abort(404)
    return transfer


def _render_inbox(errors: dict[int, str] | None = None, status: int = 200) -> PageResponse:
    return (
        render_template(
            "workflow/transfers.html",
            transfers=incoming_transfers(_me()),
            form=TransferAnswerForm(formdata=None),
            errors=errors or {},
        ),
        status,
    )


@bp.route("/pelimpahan")
@requires("cases:supervise")
def transfers() -> PageResponse:
    return _render_inbox()


@bp.route("/pelimpahan/<int:transfer_id>/<answer>", methods=["POST"])
@requires("cases:supervise")
def answer_transfer(transfer_id: int, answer: str) -> PageResponse | Response:
    transfer = _incoming_or_404(transfer_id)
    if answer not in ("terima", "tolak"):
        abort(404)
    form = TransferAnswerForm()
    if not form.validate_on_submit():
        return _render_inbox({transfer.id: form_errors(form)}, 422)
    try:
        with all_or_nothing():
            if answer == "terima":
                ops.accept_transfer(transfer.id, actor=_me(), expected_version=_version(form))
            else:
                ops.decline_transfer(
                    transfer.id,
                    form.decision_reason.data,
                    actor=_me(),
                    expected_version=_version(form),
                )
    except DomainError as error:
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
@case_route("cases:supervise")
def assign(case: Case) -> PageResponse | Response:
    form = AssignForm()
    if not form.validate_on_submit():
        return refused_on_case_page(case, "assign", form)
    manager = get_user(form.case_manager.data) if in_id_range(form.case_manager.data) else None
    if manager is None:
        return refused_on_case_page(
            case,
            "assign",
            form,
            DomainError(
                _("Choose a case manager or supervisor of this agency."), field="case_manager"
            ),
        )
    try:
        with all_or_nothing():
            ops.assign_case_manager(case.id, manager, actor=_me(), expected_version=_version(form))
    except DomainError as error:
        return refused_on_case_page(case, "assign", form, error)
    flash(_("%(name)s now manages this case.", name=manager.name), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor="alur"))
