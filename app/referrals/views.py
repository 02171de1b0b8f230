"""Referral routes: sending from the case page, the receiving agency's inbox and referral page.

The receiving agency reaches a referral only through ``queries.referral_for_receiver`` (its own
agency's, never a draft) and sees only what was shared, and only while
``queries.sharing_active`` holds (not once withdrawn or declined, nor past the grace period after
completion); anything else is a 404. The sending side
works from the case page (the case loaded through the case scope).
"""

from __future__ import annotations

from typing import Any, cast

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.agencies.queries import get_agency
from app.auth.models import User
from app.cases.models import Case
from app.cases.operations import record_attachment_download
from app.cases.routing import case_route
from app.cases.views import open_attachment, send_attachment
from app.core.bounds import parse_page
from app.core.db import utcnow
from app.core.enums import ReferralState
from app.core.errors import DomainError
from app.core.forms import in_id_range, parse_id
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.core.web import all_or_nothing
from app.referrals import bp, queries
from app.referrals import operations as ops
from app.referrals.forms import ReferralForm, ReferralNoteForm, ReferralStepForm
from app.referrals.models import Referral
from app.services.queries import track_of
from app.workflow.refusal import refused_on_case_page

PER_PAGE = 50  # referrals of a tab shown on one page of the inbox


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _version(form: Any) -> int | None:
    value = (form.version.data or "").strip()
    return parse_id(value)


def _referral_of_or_404(case: Case, referral_id: int) -> Referral:
    referral = queries.referral_of(case, referral_id)
    if referral is None:
        abort(404)
    return referral


# --- the sending side (from the case page) -----------------------------------------------------


@bp.route("/kasus/<int:case_id>/layanan/<int:track_id>/rujukan", methods=["POST"])
@case_route("cases:manage")
@once_per_form
def send(case: Case, track_id: int) -> Any:
    track = track_of(case, track_id)
    if track is None:
        abort(404)
    where = f"referral-{track.id}"
    form = ReferralForm()
    if not form.validate_on_submit():
        return refused_on_case_page(
            case,
            where,
            form,
            DomainError(_("The form has expired. Reload the page and try again.")),
        )
    agency = get_agency(form.to_agency.data) if in_id_range(form.to_agency.data) else None
    if agency is None:
        return refused_on_case_page(
            case, where, form, DomainError(_("Choose the agency to refer to."), field="to_agency")
        )
    sending = form.action.data != "draft"
    try:
        with all_or_nothing():
            ops.save_referral(
                track.id,
                to_agency=agency,
                sharing=ops.Sharing(
                    identity=bool(form.share_identity.data),
                    incident=bool(form.share_incident.data),
                    assessment=bool(form.share_assessment.data),
                    attachment_ids=tuple(form.attachments.data or ()),
                    incident_summary=form.incident_summary.data,
                ),
                message=form.message.data,
                actor=_me(),
                send=sending,
                override_reason=form.override_reason.data,
                expected_version=_version(form),
                expected_draft_version=parse_id(form.draft_version.data),
                consent_now=ops.ConsentNow(
                    given_by=form.given_by.data or "korban",
                    given_by_name=(form.given_by_name.data or "").strip() or None,
                )
                if form.consent_now.data and sending
                else None,
            )
    except DomainError as error:
        return refused_on_case_page(case, where, form, error)
    flash(
        _("Referral sent to %(agency)s.", agency=agency.name)
        if sending
        else _("The referral draft has been saved."),
        "success",
    )
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{track.id}"))


@bp.route("/kasus/<int:case_id>/rujukan/<int:referral_id>/tarik", methods=["POST"])
@case_route("cases:manage")
def withdraw(case: Case, referral_id: int) -> Any:
    referral = _referral_of_or_404(case, referral_id)
    form = ReferralStepForm()
    if not form.validate_on_submit():
        return refused_on_case_page(
            case,
            f"referral-{referral.track_id}",
            form,
            DomainError(_("Give the reason."), field="reason"),
        )
    try:
        with all_or_nothing():
            ops.withdraw_referral(
                referral.id, form.reason.data, actor=_me(), expected_version=_version(form)
            )
    except DomainError as error:
        return refused_on_case_page(case, f"referral-{referral.track_id}", form, error)
    flash(_("The referral was withdrawn."), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{referral.track_id}"))


# --- the receiving agency ----------------------------------------------------------------------


def _received_or_404(referral_id: int) -> Referral:
    referral = queries.referral_for_receiver(_me(), referral_id)
    if referral is None:
        abort(404)
    return referral


@bp.route("/rujukan")
@requires("referrals:receive")
def inbox() -> Any:
    tab = request.args.get("tab", "baru")
    if tab not in queries.TABS:
        tab = "baru"
    inbox = queries.inbox(
        _me(), utcnow(), tab, page=parse_page(request.args.get("page")), per_page=PER_PAGE
    )
    return render_template(
        "referrals/inbox.html",
        counts=inbox.counts,
        more_finished=inbox.more_finished,
        tab=tab,
        rows=inbox.page.items,
        page=inbox.page,
    )


def _render_referral(referral: Referral, *, error: str | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "referrals/detail.html",
            referral=referral,
            shared=queries.shared_view(referral, utcnow(), _me()),
            step_form=ReferralStepForm(formdata=None),
            note_form=ReferralNoteForm(formdata=None),
            error=error,
            events=[e for e in referral.events if e.kind != "draft"],
            V={"ReferralState": ReferralState},
        ),
        status,
    )


@bp.route("/rujukan/<int:referral_id>")
@requires("referrals:receive")
def detail(referral_id: int) -> Any:
    referral = _received_or_404(referral_id)
    ops.record_opened(referral, actor=_me())
    return _render_referral(referral)


STEPS = {
    "terima": "accept",
    "tolak": "decline",
    "mulai": "start",
    "selesai": "complete",
}


@bp.route("/rujukan/<int:referral_id>/<step>", methods=["POST"])
@requires("referrals:receive")
def take_step(referral_id: int, step: str) -> Any:
    referral = _received_or_404(referral_id)
    if step not in STEPS:
        abort(404)
    form = ReferralStepForm()
    if not form.validate_on_submit():
        return _render_referral(
            referral,
            error=_("The form has expired. Reload the page and try again."),
            status=422,
        )
    me, version = _me(), _version(form)
    try:
        # a step may be refused after the referral's own change was written (the track's step)
        with all_or_nothing():
            if step == "terima":
                ops.accept_referral(referral.id, actor=me, expected_version=version)
            elif step == "tolak":
                ops.decline_referral(
                    referral.id, form.reason.data, actor=me, expected_version=version
                )
            elif step == "mulai":
                ops.start_referral(referral.id, actor=me, expected_version=version)
            else:
                ops.complete_referral(
                    referral.id, form.outcome.data, actor=me, expected_version=version
                )
    except DomainError as error:
        return _render_referral(referral, error=str(error.message), status=422)
    flash(_("Step recorded."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id))


@bp.route("/rujukan/<int:referral_id>/catatan", methods=["POST"])
@requires("referrals:receive")
@once_per_form
def note(referral_id: int) -> Any:
    referral = _received_or_404(referral_id)
    form = ReferralNoteForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(_("The form has expired. Reload the page and try again."))
        ops.add_progress_note(referral.id, form.note.data, actor=_me())
    except DomainError as error:
        return _render_referral(referral, error=str(error.message), status=422)
    flash(_("The note has been added."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id, _anchor="riwayat"))


@bp.route("/kasus/<int:case_id>/rujukan/<int:referral_id>/catatan", methods=["POST"])
@case_route("cases:manage")
@once_per_form
def sender_note(case: Case, referral_id: int) -> Any:
    referral = _referral_of_or_404(case, referral_id)
    form = ReferralNoteForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(_("The form has expired. Reload the page and try again."))
        with all_or_nothing():
            ops.add_progress_note(referral.id, form.note.data, actor=_me())
    except DomainError as error:
        return refused_on_case_page(case, f"referral-{referral.track_id}", form, error)
    flash(_("The note has been added."), "success")
    return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"track-{referral.track_id}"))


@bp.route("/rujukan/<int:referral_id>/lampiran/<int:attachment_id>")
@requires("referrals:receive")
def download(referral_id: int, attachment_id: int) -> Response:
    referral = _received_or_404(referral_id)
    attachment = queries.shared_attachment(referral, attachment_id, utcnow(), _me())
    if attachment is None:
        abort(404)
    chunks = open_attachment(attachment)
    record_attachment_download(referral.case, attachment, actor=_me())
    return send_attachment(attachment, chunks)
