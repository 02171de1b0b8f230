"""The assessment page of one victim: read by whoever sees the case, edited by the case manager
or a supervisor while the case is at the assessment stage."""

from __future__ import annotations

from typing import Any, cast

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.assessments import bp
from app.assessments.forms import AssessmentForm
from app.assessments.labels import HINTS
from app.assessments.operations import FindingData, assessment_of, save_assessment
from app.assessments.permissions import can_edit_assessment
from app.auth.models import User
from app.cases import queries
from app.cases.models import Case, Victim
from app.cases.routing import case_route
from app.core.enums import AssessmentArea
from app.core.errors import DomainError
from app.core.forms import field_error, parse_id
from app.core.i18n import gettext as _


def _me() -> User:
    return cast(User, current_user._get_current_object())


def _victim_or_404(case: Case, victim_id: int) -> Victim:
    victim = queries.victim_of(case, victim_id)
    if victim is None:
        abort(404)
    return victim


def _render(case: Case, victim: Victim, form: AssessmentForm, status: int = 200) -> Any:
    assessment = assessment_of(victim)
    editable = can_edit_assessment(_me(), case)
    return (
        render_template(
            "assessments/edit.html",
            case=case,
            victim=victim,
            assessment=assessment,
            form=form,
            areas=list(AssessmentArea),
            hints=HINTS,
            editable=editable,
        ),
        status,
    )


@bp.route("/kasus/<int:case_id>/korban/<int:victim_id>/asesmen", methods=["GET", "POST"])
@case_route("cases:view_own")
def edit(case: Case, victim_id: int) -> Any:
    victim = _victim_or_404(case, victim_id)
    assessment = assessment_of(victim)
    form = AssessmentForm()
    if form.is_submitted():
        if not can_edit_assessment(_me(), case):
            abort(404)
        if form.validate():
            version = (form.version.data or "").strip()
            try:
                save_assessment(
                    case,
                    victim,
                    [
                        FindingData(
                            area=area,
                            level=getattr(form, area.value).level.data,
                            needs=getattr(form, area.value).needs.data,
                            risks=getattr(form, area.value).risks.data,
                        )
                        for area in AssessmentArea
                    ],
                    form.summary.data,
                    complete=bool(form.complete.data),
                    actor=_me(),
                    expected_version=parse_id(version),
                )
            except DomainError as error:
                field_error(form, error)
                return _render(case, victim, form, 422)
            flash(
                _("The assessment is complete.")
                if form.complete.data
                else _("The assessment has been saved."),
                "success",
            )
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="asesmen"))
        return _render(case, victim, form, 422)
    # first display: the saved assessment
    form = AssessmentForm(formdata=None)
    if assessment is not None:
        form.version.data = str(assessment.version)
        form.summary.data = assessment.summary
        form.complete.data = assessment.completed_at is not None
        for finding in assessment.findings:
            sub = getattr(form, finding.area.value)
            sub.level.data = finding.level.value if finding.level else None
            sub.needs.data = finding.needs
            sub.risks.data = finding.risks
    return _render(case, victim, form)
